/**
 * Training throughput, ours against PyTorch, run in alternation (A B A B) because these machines
 * are shared and noisy: medians and per-pair ratios, with peak RSS.
 *
 *   npm run bench:throughput -- [--backends wasm,cpu,webgpu] [--models mlp,conv,conv-k4] [--rounds 3]
 *
 * PyTorch runs where `python3 -c "import torch"` works (Debian: python3-torch, with
 * libopenblas0-pthread), with OPENBLAS_NUM_THREADS=1 and 2 torch threads (BACKENDS.md).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const root = path.resolve(__dirname, '..', '..');
const bundled = path.join(root, 'dist', 'bench', 'throughput.js');
const { values } = parseArgs({ options: { backends: { type: 'string', default: 'wasm,cpu' }, models: { type: 'string', default: 'mlp,conv' }, rounds: { type: 'string', default: '3' } } });
const rounds = Number(values.rounds);
const python = process.env.AEXP_PYTHON ?? '/usr/bin/python3';
const hasTorch = existsSync(python) && spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;

interface Sample { samplesPerSecond: number; peakRssMb: number; device: string }

function measure(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Sample | string {
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 600_000 });
  if (result.status !== 0) return (result.stderr || result.stdout).trim().split('\n').filter((line) => !line.startsWith('Warning')).pop() ?? `exit ${result.status}`;
  return JSON.parse(result.stdout.trim().split('\n').pop()!) as Sample;
}

function median(numbers: number[]): number {
  const sorted = [...numbers].sort((a, b) => a - b);
  return sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
}

const ours = (backend: string, model: string, steps: number) => (existsSync(bundled)
  ? measure(process.execPath, [bundled, '--backend', backend, '--model', model, '--steps', String(steps)])
  : measure(process.execPath, ['--import', 'tsx', path.join(__dirname, 'ours.ts'), '--backend', backend, '--model', model, '--steps', String(steps)]));
const pytorch = (model: string) => measure(python, [path.join(__dirname, 'pytorch_throughput.py'), model, model === 'mlp' ? '200' : model === 'conv' ? '40' : '30'], { OPENBLAS_NUM_THREADS: '1' });

process.stdout.write(`throughput: training samples/s, batch 128, Adam; ${rounds} alternating rounds; ${hasTorch ? 'PyTorch beside ours' : 'PyTorch not installed here (apt-get install python3-torch python3-numpy libopenblas0-pthread): ours only'}\n`);
for (const model of values.models!.split(',')) {
  for (const backend of values.backends!.split(',')) {
    const convolutional = model.startsWith('conv');
    const steps = backend === 'cpu' && convolutional ? 2 : convolutional ? 10 : 30;
    const mine: Sample[] = [];
    const theirs: Sample[] = [];
    let failure: string | undefined;
    for (let round = 0; round < rounds && !failure; round++) {
      const a = ours(backend, model, steps);
      if (typeof a === 'string') failure = a;
      else mine.push(a);
      if (hasTorch && !failure) {
        const b = pytorch(model);
        if (typeof b !== 'string') theirs.push(b);
      }
    }
    if (failure) {
      process.stdout.write(`${model.padEnd(7)} ${backend.padEnd(7)} unavailable: ${failure}\n`);
      continue;
    }
    const oursMedian = median(mine.map((sample) => sample.samplesPerSecond));
    let line = `${model.padEnd(7)} ${backend.padEnd(7)} ${oursMedian.toFixed(0).padStart(7)} samples/s (peak RSS ${Math.max(...mine.map((sample) => sample.peakRssMb)).toFixed(0)} MB)`;
    if (theirs.length === mine.length && theirs.length > 0) {
      const ratios = mine.map((sample, index) => sample.samplesPerSecond / theirs[index].samplesPerSecond);
      line += ` · PyTorch ${median(theirs.map((sample) => sample.samplesPerSecond)).toFixed(0)} samples/s (peak RSS ${Math.max(...theirs.map((sample) => sample.peakRssMb)).toFixed(0)} MB) · ours/PyTorch median ${median(ratios).toFixed(3)} [${ratios.map((ratio) => ratio.toFixed(3)).join(', ')}]`;
    }
    process.stdout.write(`${line}\n         ${mine[0].device}\n`);
  }
}
