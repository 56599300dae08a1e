/**
 * Training throughput, ours against PyTorch, run in alternation (A B A B) because these machines
 * are shared and noisy: medians and per-pair ratios, with peak RSS.
 *
 *   npm run bench:throughput -- [--backends native,wasm,cpu,webgpu] [--models mlp,conv,conv-k4] [--rounds 3]
 *
 * Each line also gives GFLOP/s (the model's dense and conv FLOPs × samples/s) as a fraction of the
 * machine's SGEMM peak on every core, measured first through the native addon.
 *
 * PyTorch runs where `python3 -c "import torch"` works (Debian: python3-torch, with
 * libopenblas0-pthread), with OPENBLAS_NUM_THREADS=1 and 2 torch threads (so the two thread pools do not fight).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const root = path.resolve(__dirname, '..', '..');
const bundled = path.join(root, 'dist', 'bench', 'throughput.js');
const { values } = parseArgs({ options: { backends: { type: 'string', default: 'native,wasm' }, models: { type: 'string', default: 'mlp,conv' }, rounds: { type: 'string', default: '3' } } });
const rounds = Number(values.rounds);
const python = process.env.AEXP_PYTHON ?? '/usr/bin/python3';
const hasTorch = existsSync(python) && spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;

interface Sample { samplesPerSecond: number; peakRssMb: number; device: string; flopsPerSample?: number }
interface Peak { gemmGflops?: number; nominalGflops: number; cores: number; mhz: number; problem?: string }

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
const peak = (existsSync(bundled) ? measure(process.execPath, [bundled, '--peak']) : measure(process.execPath, ['--import', 'tsx', path.join(__dirname, 'ours.ts'), '--peak'])) as unknown as Peak | string;
if (typeof peak !== 'string') {
  process.stdout.write(`machine: ${peak.cores} cores at ${peak.mhz} MHz; nominal AVX2 peak ${peak.nominalGflops.toFixed(0)} GFLOP/s (cores × clock × 32); ${peak.gemmGflops ? `SGEMM 1024³ through the native addon on every core ${peak.gemmGflops.toFixed(0)} GFLOP/s` : `no SGEMM peak: ${peak.problem}`}\n`);
}

/** "12.3 GFLOP/s, 8% of SGEMM peak" for a rate in samples/s. */
function flopRate(samplesPerSecond: number, flopsPerSample: number | undefined): string {
  if (!flopsPerSample || typeof peak === 'string') return '';
  const gflops = (samplesPerSecond * flopsPerSample) / 1e9;
  const reference = peak.gemmGflops ?? peak.nominalGflops;
  return `, ${gflops.toFixed(1)} GFLOP/s = ${((100 * gflops) / reference).toFixed(0)}% of ${peak.gemmGflops ? 'SGEMM' : 'nominal'} peak`;
}
for (const model of values.models!.split(',')) {
  for (const backend of values.backends!.split(',')) {
    const convolutional = model.startsWith('conv');
    // About as many steps as PyTorch's side runs (200 MLP, 40 conv): short runs measure warm-up and one GC more than the steady state.
    const steps = backend === 'cpu' ? (convolutional ? 2 : 30) : backend === 'wasm' ? (convolutional ? 10 : 60) : convolutional ? 40 : 200;
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
    const flops = mine[0].flopsPerSample;
    let line = `${model.padEnd(7)} ${backend.padEnd(7)} ${oursMedian.toFixed(0).padStart(7)} samples/s (peak RSS ${Math.max(...mine.map((sample) => sample.peakRssMb)).toFixed(0)} MB${flopRate(oursMedian, flops)})`;
    if (theirs.length === mine.length && theirs.length > 0) {
      const ratios = mine.map((sample, index) => sample.samplesPerSecond / theirs[index].samplesPerSecond);
      const theirMedian = median(theirs.map((sample) => sample.samplesPerSecond));
      line += ` · PyTorch ${theirMedian.toFixed(0)} samples/s (peak RSS ${Math.max(...theirs.map((sample) => sample.peakRssMb)).toFixed(0)} MB${flopRate(theirMedian, flops)}) · ours/PyTorch median ${median(ratios).toFixed(3)} [${ratios.map((ratio) => ratio.toFixed(3)).join(', ')}]`;
    }
    process.stdout.write(`${line}\n         ${mine[0].device}\n`);
  }
}
