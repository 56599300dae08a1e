/**
 * The Latent Explorer's runtime side, measured through the runtimes as the extension forks them
 * (dist/runtime/server.js over IPC): the training runtime, and the explorer's own runtime
 * (extension/explorer-runtime.ts: a cpu main thread, the runs folders as exploreRoots), the
 * route the explorer's host takes:
 *   T8  decode-on-drag: one exploreDecode per 16 ms pointer move, at most one in flight (as the
 *       host sends them), idle and while the training runtime trains the MNIST VAE;
 *   T9  PCA of 70k × 20 (the train and test splits' means), alone, and the whole explore request
 *       (encoding 70k examples, PCA, packing) beside it;
 *   T12 the explorer runtime's resident memory added by its first request (the test split: the
 *       model, the test images, the wasm backend) and once it also showed all 70k, each with
 *       where it is (exploreMemory: the V8 heap, ArrayBuffers, the wasm memory, the dataset).
 * It trains samples/vae-mnist.aexp for one epoch first, or takes `--run` (a run folder whose
 * grandparent becomes the runs folder). `--inference worker` measures the explorer runtime as it
 * was before it decoded on its own thread (an inference worker thread per run folder).
 *
 *   node --import tsx bench/views/explorer-runtime.ts [--run DIR] [--data-dir DIR] [--moves 200] [--backend auto] [--inference thread|worker]
 */
import { fork } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { principalComponents, project } from '../../runtime/analysis/pca';
import { EXPLORER_RUNTIME_ARGUMENTS, explorerInitialize, explorerRuntimeEnv } from '../../extension/explorer-runtime-start';
import type { BackendName, ExploreMemory } from '../../runtime/protocol';
import { Client, SERVER } from '../../test/helpers/runtime-client';
import type { Result } from './stats';
import { report, result } from './stats';

const root = path.resolve(__dirname, '..', '..');
const { values } = parseArgs({
  options: {
    run: { type: 'string' },
    'data-dir': { type: 'string', default: path.resolve(root, '..', 'shared', 'data') },
    moves: { type: 'string', default: '200' },
    backend: { type: 'string', default: 'auto' },
    inference: { type: 'string', default: 'thread' },
  },
});
const sample = path.join(root, 'samples', 'vae-mnist.aexp');
const POINTER_INTERVAL_MS = 16;

function residentMegabytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

const MEGABYTE = 1024 * 1024;

/** One line of where the explorer runtime's memory is, in MB. */
function breakdown(phase: string, rss: number, memory: ExploreMemory): string {
  const megabytes = (bytes: number) => (bytes / MEGABYTE).toFixed(1);
  const sessions = memory.sessions.map((session) => `${session.thread} thread: wasm ${megabytes(session.wasmBytes)}, dataset ${megabytes(session.datasetBytes)}, tensors ${megabytes(session.bytes)}${session.thread === 'worker' ? `, its heap ${megabytes(session.heapUsed)}/${megabytes(session.heapTotal)}, its ArrayBuffers ${megabytes(session.arrayBuffers)}` : ''}`);
  return `  ${phase}: RSS ${rss.toFixed(0)}; main thread heap used/total ${megabytes(memory.heapUsed)}/${megabytes(memory.heapTotal)}, external ${megabytes(memory.external)} (ArrayBuffers ${megabytes(memory.arrayBuffers)}); ${sessions.join('; ') || 'no session'}`;
}

function pause(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

async function main(): Promise<void> {
  if (!existsSync(SERVER)) throw new Error(`${SERVER} is missing: run node scripts/build.mjs`);
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'aexp-explorer-bench-'));
  const runsRoot = values.run ? path.dirname(path.dirname(path.resolve(values.run))) : path.join(scratch, 'runs');
  // As the extension forks them: without this process's tsx loader, which would weigh on every measure of memory.
  const child = fork(SERVER, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv: [] });
  child.stderr?.resume();
  const client = new Client(child);
  const explorerChild = fork(SERVER, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv: [...EXPLORER_RUNTIME_ARGUMENTS], env: { ...process.env, ...explorerRuntimeEnv() } });
  explorerChild.stderr?.resume();
  const explorer = new Client(explorerChild);
  const results: Result[] = [];
  const memoryLines: string[] = [];
  try {
    const initialized = await client.request({ type: 'initialize', backend: values.backend as BackendName, runsRoot, dataDir: values['data-dir'] });
    if (!initialized.ok) throw new Error(initialized.error.message);
    const inference = values.inference === 'worker' ? 'worker' : 'thread';
    // As extension/explorer-runtime.ts starts it.
    const explorerReady = await explorer.request({ ...explorerInitialize([runsRoot], values['data-dir']), inference });
    if (!explorerReady.ok) throw new Error(explorerReady.error.message);
    const text = readFileSync(sample, 'utf8');
    let runDir = values.run ? path.resolve(values.run) : '';
    if (!runDir) {
      process.stderr.write(`training ${path.basename(sample)} for one epoch on ${initialized.result.backend}…\n`);
      const ran = await client.request({ type: 'run', runId: 'source', file: sample, text, overrides: { epochs: 1 }, outDir: path.join(runsRoot, 'source') });
      if (!ran.ok) throw new Error(ran.error.message);
      runDir = ran.result.runDir;
    }
    const where = async (phase: string): Promise<number> => {
      const rss = residentMegabytes(explorerChild.pid!);
      const memory = await explorer.request({ type: 'exploreMemory' });
      if (!memory.ok) throw new Error(memory.error.message);
      memoryLines.push(breakdown(phase, rss, memory.result));
      return rss;
    };
    const before = await where('started');
    // The view's default first: the test split.
    const tested = await explorer.request({ type: 'explore', runDir, checkpoint: 'last', split: 'test', limit: 70_000 });
    if (!tested.ok) throw new Error(tested.error.message);
    const afterTest = await where('test split shown');
    const started = performance.now();
    const explored = await explorer.request({ type: 'explore', runDir, checkpoint: 'last', split: 'all', limit: 70_000 });
    if (!explored.ok) throw new Error(explored.error.message);
    const exploreMs = performance.now() - started;
    const after = await where('all 70k shown');
    const { count, model } = explored.result;
    const bytes = Buffer.from(explored.result.means, 'base64');
    const means = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    const pcaTimes: number[] = [];
    for (let repeat = 0; repeat < 5; repeat++) {
      const start = performance.now();
      project(means, count, principalComponents(means, count, model.latent, 2));
      pcaTimes.push(performance.now() - start);
    }
    results.push(result('T9', `PCA ${count} × ${model.latent} (covariance, Jacobi, projection)`, pcaTimes, 'ms', 500));
    results.push(result('T9', `explore request: read the train split, encode ${count}, PCA, pack (model open, the test split shown)`, [exploreMs], 'ms', 500, { informative: true }));
    const on = inference === 'thread' ? 'on its own thread' : 'in an inference worker';
    results.push(result('T12', `explorer runtime RSS added by its first request, the test split (${on}: model, test images, wasm)`, [Math.max(0, afterTest - before) * 1024], 'KB', 100 * 1024, { note: `${before.toFixed(0)} → ${afterTest.toFixed(0)} MB` }));
    results.push(result('T12', `explorer runtime RSS added once it also showed all 70k (${on}: both splits' images, 70k means)`, [Math.max(0, after - before) * 1024], 'KB', 100 * 1024, { note: `${before.toFixed(0)} → ${after.toFixed(0)} MB` }));
    results.push(result('T12', 'explorer runtime RSS, whole process', [after * 1024], 'KB', 150 * 1024, { informative: true }));

    const drag = async (until: () => boolean): Promise<number[]> => {
      const times: number[] = [];
      let angle = 0;
      while (!until()) {
        angle += 0.05;
        const z = Array.from({ length: model.latent }, (_, index) => Math.sin(angle + index) * 1.5);
        const start = performance.now();
        const answer = await explorer.request({ type: 'exploreDecode', runDir, checkpoint: 'last', view: 'bench', z: [z] });
        if (!answer.ok) throw new Error(answer.error.message);
        times.push(performance.now() - start);
        await pause(POINTER_INTERVAL_MS);
      }
      return times;
    };
    const moves = Number(values.moves);
    let done = 0;
    await drag(() => done++ >= 20);
    done = 0;
    results.push(result('T8', `decode on drag through the explorer runtime's IPC, idle (${model.kind}, ${model.latent}-d)`, await drag(() => done++ >= moves), 'ms', 50));
    let training = true;
    const trained = client.request({ type: 'run', runId: 'during', file: sample, text, overrides: { epochs: 1 }, outDir: path.join(runsRoot, 'during') }).finally(() => {
      training = false;
    });
    await client.firstProgress('during');
    results.push(result('T8', 'decode on drag through the explorer runtime\'s IPC, while the training runtime trains', await drag(() => !training), 'ms', 100));
    await trained;
  } finally {
    child.kill();
    explorerChild.kill();
    rmSync(scratch, { recursive: true, force: true });
  }
  process.stdout.write(`${report(results)}\n\nT12: where the explorer runtime's memory is (MB)\n${memoryLines.join('\n')}\n`);
}

void main().catch((error: Error) => {
  process.stderr.write(`${error.stack ?? error.message}\n`);
  process.exit(1);
});
