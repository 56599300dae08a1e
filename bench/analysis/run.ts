/**
 * Analysis benchmark: trains the PyTorch-example VAE (samples/vae-mnist.aexp) on statically
 * binarized MNIST, so its loss is a negative log-likelihood in nats, then prints the test ELBO, the
 * IWAE bound for k = 1, 50 and 5000 with the time each took, the linear-probe and kNN accuracies
 * (and with 100 and 1000 labels against pixels), and the explorer's decode latency (T8) idle and
 * while a training runs (bench/inference/decode-latency.ts on the same run). Not part of `npm test`.
 *   npm run bench:analysis [-- --epochs N] [--examples N] [--backend native|wasm|cpu] [--data-dir DIR] [--run <run folder>] [--no-decode]
 * --examples limits the test images the bounds use (all 10,000 by default; k = 5000 on all of
 * them is about 5·10⁷ decoder passes). --run evaluates an existing run instead of training one.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { evaluateRun } from '../../runtime/analysis/evaluate-run';
import { iwaeBound, splitSource } from '../../runtime/analysis/iwae';
import type { BackendName } from '../../runtime/backends/select';
import { limitSplit } from '../../runtime/data/dataset';
import { runExperiment } from '../../runtime/engine';
import { openRun } from '../../runtime/run/open-run';
import { mixSeed } from '../../runtime/util/random';

const { values } = parseArgs({
  options: {
    epochs: { type: 'string', default: '10' },
    examples: { type: 'string' },
    backend: { type: 'string', default: 'auto' },
    'data-dir': { type: 'string', default: path.resolve(__dirname, '..', '..', '..', 'shared', 'data') },
    run: { type: 'string' },
    k: { type: 'string', default: '1,50,5000' },
    'no-decode': { type: 'boolean' },
  },
});
const dataDir = values['data-dir']!;
if (!existsSync(path.join(dataDir, 'mnist'))) {
  process.stderr.write(`no MNIST under ${dataDir}: pass --data-dir\n`);
  process.exit(1);
}
const backend = values.backend as BackendName;

async function trained(): Promise<string> {
  if (values.run) return values.run;
  const started = Date.now();
  const result = await runExperiment({
    file: path.resolve(__dirname, '..', '..', 'samples', 'vae-mnist.aexp'),
    epochs: Number(values.epochs),
    overrides: ['data.binarize=static'],
    dataDir,
    backend,
    outDir: mkdtempSync(path.join(os.tmpdir(), 'aexp-bench-analysis-')),
    onEvent: (event) => {
      if (event.type === 'metrics' && event.record.kind === 'epoch') process.stderr.write(`epoch ${event.record.epoch}: test ${(event.record.test as { loss: number }).loss.toFixed(2)} nats\n`);
    },
  });
  process.stderr.write(`trained ${result.summary.epochs} epochs in ${((Date.now() - started) / 1000).toFixed(0)} s on ${result.summary.backend}: ${result.runDir}\n`);
  return result.runDir;
}

async function main(): Promise<void> {
  const runDir = await trained();
  const run = await openRun(runDir, { backend, dataDir, data: true });
  const dataset = run.dataset!;
  const test = values.examples ? limitSplit(dataset.test, dataset.shape[0] * dataset.shape[1] * dataset.shape[2], Number(values.examples)) : dataset.test;
  const subset = { ...dataset, test };
  process.stdout.write(`\nMNIST VAE 784-400-20, statically binarized (nats), checkpoint last (epoch ${run.epoch}), ${test.count} test images, backend ${run.backend.backend}\n`);
  let started = Date.now();
  const report = await evaluateRun({ model: run.model, dataset: subset, config: run.config }, { metrics: ['elbo', 'active-units', 'ssim'], checkpoint: 'last', epoch: run.epoch });
  process.stdout.write(`test ELBO            ${report.metrics.elbo.value.toFixed(2)} nats          (${((Date.now() - started) / 1000).toFixed(1)} s, with active units and SSIM)\n`);
  process.stdout.write(`active units         ${report.metrics['active-units'].value} of ${run.model.latent}\n`);
  process.stdout.write(`SSIM                 ${report.metrics.ssim.value.toFixed(4)}\n`);
  const source = splitSource(run.model, test, run.config.data, run.config.seed);
  for (const k of values.k!.split(',').map(Number)) {
    started = Date.now();
    let last = 0;
    const result = await iwaeBound(run.model, source, {
      k,
      seed: mixSeed(run.config.seed, 501),
      onProgress: ({ samples, totalSamples }) => {
        const percent = Math.floor((100 * samples) / totalSamples);
        if (percent >= last + 10) {
          last = percent;
          process.stderr.write(`  k = ${k}: ${percent}%\n`);
        }
      },
    });
    process.stdout.write(`IWAE k = ${String(k).padEnd(5)}      ${result.bound.toFixed(2)} ± ${result.standardError.toFixed(2)} nats  (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  }
  started = Date.now();
  const representation = await evaluateRun({ model: run.model, dataset, config: run.config }, { metrics: ['probe', 'knn'], checkpoint: 'last', epoch: run.epoch, onProgress: (message) => process.stderr.write(`  ${message}\n`) });
  for (const name of ['probe', 'knn']) {
    const metric = representation.metrics[name];
    if (metric) process.stdout.write(`${name.padEnd(21)}${(100 * metric.value).toFixed(2)}% test accuracy; ${metric.how}\n`);
  }
  for (const note of representation.notes) process.stdout.write(`note: ${note}\n`);
  process.stdout.write(`(probe and kNN with the few-labels comparison: ${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  run.dispose();
  if (!values['no-decode']) {
    // The explorer's decode latency on the same run, idle and beside a training (its own script prints T8's lines).
    process.stdout.write('\n');
    const decode = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', 'inference', 'decode-latency.ts'), '--run', runDir, '--data-dir', dataDir], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (decode.status !== 0) process.stderr.write(`the decode-latency part exited with ${decode.status}\n`);
  }
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
