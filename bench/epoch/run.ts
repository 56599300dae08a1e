/**
 * One epoch of the MNIST VAE, end to end: the wall time of `aexp run samples/vae-mnist.aexp
 * --epochs 1` (start-up, data, training, evaluation, images, checkpoint) against PyTorch's
 * examples/vae on the same MNIST files (bench/quality/pytorch_vae.py, one epoch), run in
 * alternation because these machines are shared and noisy. Also the training part alone.
 *
 *   npm run bench:epoch -- [--backend native] [--rounds 3] [--data-dir DIR]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const root = path.resolve(__dirname, '..', '..');
const { values } = parseArgs({ options: { backend: { type: 'string', default: 'native' }, rounds: { type: 'string', default: '3' }, 'data-dir': { type: 'string', default: path.resolve(root, '..', 'shared', 'data') } } });
const dataDir = values['data-dir']!;
if (!existsSync(path.join(dataDir, 'mnist'))) {
  process.stderr.write(`no MNIST under ${dataDir}: pass --data-dir\n`);
  process.exit(1);
}
const python = process.env.AEXP_PYTHON ?? '/usr/bin/python3';
const hasTorch = existsSync(python) && spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
const sample = path.join(root, 'samples', 'vae-mnist.aexp');

interface Epoch { wall: number; training: number; examples: number }

function median(numbers: number[]): number {
  const sorted = [...numbers].sort((a, b) => a - b);
  return sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
}

function findFile(folder: string, name: string): string | undefined {
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const full = path.join(folder, entry.name);
    if (entry.isFile() && entry.name === name) return full;
    if (entry.isDirectory()) {
      const found = findFile(full, name);
      if (found) return found;
    }
  }
  return undefined;
}

function ours(): Epoch {
  const out = mkdtempSync(path.join(os.tmpdir(), 'aexp-epoch-'));
  try {
    const started = performance.now();
    const result = spawnSync(process.execPath, [path.join(root, 'bin', 'aexp.js'), 'run', sample, '--epochs', '1', '--backend', values.backend!, '--data-dir', dataDir, '--out', out], { encoding: 'utf8' });
    const wall = (performance.now() - started) / 1000;
    if (result.status !== 0) throw new Error(`aexp exited with ${result.status}: ${result.stderr.trim().split('\n').pop()}`);
    const summary = JSON.parse(readFileSync(findFile(out, 'summary.json')!, 'utf8')) as { dataset: string; samplesPerSecond: number };
    // The summary names the training split's size ("60000 train / 10000 test images …").
    const examples = Number(/(\d+) train/.exec(summary.dataset)?.[1]);
    return { wall, training: examples / summary.samplesPerSecond, examples };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

function pytorch(): Epoch {
  const started = performance.now();
  const result = spawnSync(python, [path.join(root, 'bench', 'quality', 'pytorch_vae.py'), dataDir, '1'], { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1' } });
  const wall = (performance.now() - started) / 1000;
  if (result.status !== 0) throw new Error(`PyTorch exited with ${result.status}: ${result.stderr.trim().split('\n').pop()}`);
  const line = JSON.parse(result.stdout.trim().split('\n').pop()!) as { seconds: number };
  return { wall, training: line.seconds, examples: 60000 };
}

const rounds = Number(values.rounds);
const mine: Epoch[] = [];
const theirs: Epoch[] = [];
for (let round = 0; round < rounds; round++) {
  mine.push(ours());
  if (hasTorch) theirs.push(pytorch());
  process.stderr.write(`round ${round + 1}: ours ${mine[round].wall.toFixed(1)} s${hasTorch ? `, PyTorch ${theirs[round].wall.toFixed(1)} s` : ''}\n`);
}
const describe = (runs: Epoch[]) => `${median(runs.map((run) => run.wall)).toFixed(1)} s whole command, ${median(runs.map((run) => run.training)).toFixed(1)} s training ${runs[0].examples} examples`;
process.stdout.write(`one epoch of samples/vae-mnist.aexp (batch 128, Adam), median of ${rounds}\n`);
process.stdout.write(`ours (${values.backend}): ${describe(mine)}\n`);
if (hasTorch) {
  const perExample = (run: Epoch) => run.training / run.examples;
  process.stdout.write(`PyTorch examples/vae: ${describe(theirs)}\n`);
  process.stdout.write(`PyTorch time / ours: whole command ${median(mine.map((run, index) => theirs[index].wall / run.wall)).toFixed(2)}, training per example ${median(mine.map((run, index) => perExample(theirs[index]) / perExample(run))).toFixed(2)} (above 1: ours is faster)\n`);
} else {
  process.stdout.write('PyTorch not installed here (apt-get install python3-torch python3-numpy libopenblas0-pthread): ours only\n');
}
