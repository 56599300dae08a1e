/**
 * Decode latency of the inference worker for the latent explorer (target T8: pointer move →
 * pixels with an MLP decoder, p95 ≤ 50 ms idle, ≤ 100 ms while training). It trains the PyTorch
 * example's VAE (samples/vae-mnist.aexp, 784-400-20, one epoch) or takes `--run`, opens it in the
 * worker, and decodes one latent vector per simulated pointer move (one every 16 ms): first with
 * nothing else running, then while the main thread trains the same model. Each latency is the
 * round trip seen on the main thread (what the runtime's IPC handler would wait), beside the
 * worker's own compute time; then the same drag from another thread while this one trains (the
 * latency a decode channel that bypasses the training thread would give). A 64-image traversal
 * grid, and training's samples/s alone and with the decoding beside it, are printed too.
 *
 *   node --import tsx bench/inference/decode-latency.ts [--run DIR] [--data-dir DIR] [--moves 300] [--train-backend auto] [--worker-backend wasm]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import type { BackendName } from '../../runtime/backends/names';
import { runExperiment } from '../../runtime/engine';
import { InferenceClient } from '../../runtime/inference/client';
import type { InferenceBackend } from '../../runtime/inference/protocol';
import type { RunSummary } from '../../runtime/protocol';

const root = path.resolve(__dirname, '..', '..');
const { values } = parseArgs({
  options: {
    run: { type: 'string' },
    'data-dir': { type: 'string', default: path.resolve(root, '..', 'shared', 'data') },
    moves: { type: 'string', default: '300' },
    'train-backend': { type: 'string', default: 'auto' },
    'worker-backend': { type: 'string', default: 'wasm' },
  },
});
const moves = Number(values.moves);
const sample = path.join(root, 'samples', 'vae-mnist.aexp');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'aexp-decode-latency-'));
const LATENT = 20;
const POINTER_INTERVAL_MS = 16;

function percentile(numbers: readonly number[], p: number): number {
  const sorted = [...numbers].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function line(what: string, roundTrips: number[], computed: number[]): string {
  const format = (value: number) => value.toFixed(value >= 10 ? 1 : 2).padStart(6);
  return `${what.padEnd(34)} round trip p50 ${format(percentile(roundTrips, 50))} ms  p95 ${format(percentile(roundTrips, 95))} ms   worker p50 ${format(percentile(computed, 50))} ms  p95 ${format(percentile(computed, 95))} ms   (${roundTrips.length} decodes)`;
}

function pause(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

/** Pointer moves: one latent vector decoded per move, a move every 16 ms, until `until` says stop. */
async function drag(client: InferenceClient, until: (done: number) => boolean): Promise<{ roundTrips: number[]; computed: number[] }> {
  const roundTrips: number[] = [];
  const computed: number[] = [];
  let angle = 0;
  while (!until(roundTrips.length)) {
    angle += 0.05;
    const z = Float32Array.from({ length: LATENT }, (_, index) => Math.sin(angle + index) * 1.5);
    const start = performance.now();
    await client.decode({ z, count: 1 }, { onComputed: (milliseconds) => computed.push(milliseconds) });
    roundTrips.push(performance.now() - start);
    await pause(POINTER_INTERVAL_MS);
  }
  return { roundTrips, computed };
}

async function train(epochs: number): Promise<RunSummary> {
  const result = await runExperiment({ file: sample, epochs, outDir: path.join(scratch, 'runs'), dataDir: values['data-dir'], backend: values['train-backend'] as BackendName });
  if (result.status !== 'completed') throw new Error(`training ended ${result.status}`);
  return JSON.parse(readFileSync(path.join(result.runDir, 'summary.json'), 'utf8')) as RunSummary;
}

/**
 * The drag of `drag`, from a thread that does not train (drag-thread.ts, with its own client and
 * worker) while this one trains: the latency a decode channel that bypasses the training thread gives.
 */
async function dragFromAnotherThread(runDir: string): Promise<{ roundTrips: number[]; computed: number[] }> {
  const tsx = createRequire(__filename).resolve('tsx/cjs/api');
  const entry = path.join(__dirname, 'drag-thread.ts');
  const thread = new Worker(`require(${JSON.stringify(tsx)}).register(); require(${JSON.stringify(entry)});`, { eval: true, workerData: { runDir, dataDir: values['data-dir'], latent: LATENT, interval: POINTER_INTERVAL_MS } });
  const next = () => new Promise<{ type: string; roundTrips?: number[]; computed?: number[] }>((resolve, reject) => {
    thread.once('message', resolve);
    thread.once('error', reject);
  });
  await next();
  const finished = next();
  await train(1);
  thread.postMessage('stop');
  const done = await finished;
  await thread.terminate();
  return { roundTrips: done.roundTrips!, computed: done.computed! };
}

async function main(): Promise<void> {
  const client = new InferenceClient({ backend: values['worker-backend'] as InferenceBackend });
  try {
    let runDir = values.run;
    if (!runDir) {
      process.stderr.write('training the run to decode from (one epoch)…\n');
      const result = await runExperiment({ file: sample, epochs: 1, outDir: path.join(scratch, 'source'), dataDir: values['data-dir'], backend: values['train-backend'] as BackendName });
      runDir = result.runDir;
    }
    const info = await client.ready;
    const opened = await client.open({ runDir, checkpoint: 'last', dataDir: values['data-dir'] });
    if (opened.latent !== LATENT) throw new Error(`the run's code has ${opened.latent} dimensions; this benchmark decodes the 20-d MNIST VAE`);
    await drag(client, (done) => done >= 20);

    const idle = await drag(client, (done) => done >= moves);
    const grids: number[] = [];
    for (let repeat = 0; repeat < 20; repeat++) {
      const start = performance.now();
      await client.traverse({ origin: { z: new Float32Array(LATENT) }, dimension: repeat % LATENT, low: -3, high: 3, steps: 64 });
      grids.push(performance.now() - start);
    }

    process.stderr.write('training alone, then training while dragging…\n');
    const alone = await train(1);
    let training = true;
    const run = train(1).finally(() => {
      training = false;
    });
    const busy = await drag(client, () => !training);
    const beside = await run;
    await client.close();

    process.stderr.write('training while another thread drags…\n');
    const apart = await dragFromAnotherThread(runDir);

    console.log(`worker: ${info.backend} (${info.device}); training: ${beside.backend} (${beside.device})`);
    console.log(line('T8 decode one vector, idle', idle.roundTrips, idle.computed));
    console.log(line('T8 decode one vector, training', busy.roundTrips, busy.computed));
    console.log(line('  the same, asked from another thread', apart.roundTrips, apart.computed));
    console.log(`${'64-image traversal grid, idle'.padEnd(34)} round trip p50 ${percentile(grids, 50).toFixed(1)} ms  p95 ${percentile(grids, 95).toFixed(1)} ms`);
    console.log(`training samples/s: ${alone.samplesPerSecond?.toFixed(0)} alone, ${beside.samplesPerSecond?.toFixed(0)} with a decode every ${POINTER_INTERVAL_MS} ms beside it`);
    console.log('targets (T8): p95 ≤ 50 ms idle, ≤ 100 ms while training');
  } finally {
    await client.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
