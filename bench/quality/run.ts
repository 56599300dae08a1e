/**
 * Quality benchmark: the PyTorch-example VAE on full MNIST for 10 epochs. Prints our test loss per
 * example per epoch and, where /usr/bin/python3 has torch, PyTorch's on the same files, with the
 * ratio. Also reports peak memory (RSS). Not part of `npm test`.
 *   npm run bench:quality [-- --epochs N] [--data-dir DIR]
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runExperiment } from '../../runtime/engine';

const { values } = parseArgs({ options: { epochs: { type: 'string', default: '10' }, 'data-dir': { type: 'string', default: path.resolve(__dirname, '..', '..', '..', 'shared', 'data') }, backend: { type: 'string', default: 'wasm' } } });
const epochs = Number(values.epochs);
const dataDir = values['data-dir']!;
if (!existsSync(path.join(dataDir, 'mnist'))) {
  process.stderr.write(`no MNIST under ${dataDir}: pass --data-dir\n`);
  process.exit(1);
}
const sample = path.resolve(__dirname, '..', '..', 'samples', 'vae-mnist.aexp');

function pytorch(): Promise<{ epoch: number; test: number; seconds: number }[]> | undefined {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    process.stderr.write('PyTorch not found (apt-get install python3-torch python3-numpy libopenblas0-pthread): printing ours only\n');
    return undefined;
  }
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/python3', [path.join(__dirname, 'pytorch_vae.py'), dataDir, String(epochs)], { env: { ...process.env, OPENBLAS_NUM_THREADS: '1' }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('exit', (code) => (code === 0 ? resolve(out.trim().split('\n').map((line) => JSON.parse(line))) : reject(new Error(`PyTorch exited with ${code}`))));
  });
}

async function main(): Promise<void> {
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  const ours: { epoch: number; test: number; seconds: number }[] = [];
  let epochStart = Date.now();
  const result = await runExperiment({
    file: sample,
    epochs,
    dataDir,
    backend: values.backend as 'wasm' | 'cpu',
    outDir: mkdtempSync(path.join(os.tmpdir(), 'aexp-bench-')),
    onEvent: (event) => {
      if (event.type === 'metrics' && event.record.kind === 'epoch') {
        const test = (event.record.test as { loss: number }).loss;
        ours.push({ epoch: event.record.epoch, test, seconds: (Date.now() - epochStart) / 1000 });
        process.stderr.write(`ours epoch ${event.record.epoch}: test ${test.toFixed(2)} (${Math.round(event.record.samplesPerSecond as number)} ex/s)\n`);
        epochStart = Date.now();
      }
    },
  });
  clearInterval(sampler);
  const theirs = await pytorch();
  process.stdout.write(`\nMNIST VAE 784-400-20 (BCE summed, Adam 1e-3, batch 128), test loss per example, backend ${result.summary.backend}\n`);
  process.stdout.write(`epoch   ours     ${theirs ? 'pytorch  ours/pytorch' : ''}\n`);
  for (const row of ours) {
    const other = theirs?.find((entry) => entry.epoch === row.epoch);
    process.stdout.write(`${String(row.epoch).padStart(5)}  ${row.test.toFixed(2).padStart(7)}  ${other ? `${other.test.toFixed(2).padStart(7)}  ${(row.test / other.test).toFixed(4)}` : ''}\n`);
  }
  const last = ours[ours.length - 1];
  process.stdout.write(`\ntarget: ≤ 106 at epoch 10 and within 2% of PyTorch at every epoch; ours at epoch ${last.epoch}: ${last.test.toFixed(2)}\n`);
  process.stdout.write(`peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MB (target ≤ 400 MB); ${Math.round(result.summary.samplesPerSecond!)} training examples/s\n`);
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
