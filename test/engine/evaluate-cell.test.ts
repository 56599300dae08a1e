/**
 * The evaluate cell asks for more than the loss family: its text gains a line per metric with its
 * units and which way is better, and summary.json keeps every metric under its stable key.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { selectBackend } from '../../runtime/backends/select';
import { runExperiment } from '../../runtime/engine';
import type { EngineEvent, RunSummary } from '../../runtime/protocol';
import { tinyExperiment } from '../helpers/experiments';
import { temporaryDirectory } from '../helpers/temp';

const folder = temporaryDirectory('evaluate-cell-');

test('the evaluate cell reports iwae, active units, ssim, probe and knn beside the loss family, and summary.json keeps them by name', async () => {
  await selectBackend('cpu');
  const file = tinyExperiment(folder, { epochs: 1, count: 600 });
  writeFileSync(file, readFileSync(file, 'utf8').replace('metrics: [loss, elbo, mse]', 'metrics: [loss, elbo, kl, iwae, active-units, ssim, probe, knn]\nk: 10'));
  const events: EngineEvent[] = [];
  const result = await runExperiment({ file, backend: 'cpu', outDir: path.join(folder, 'runs'), onEvent: (event) => events.push(event) });
  const output = events.find((event): event is Extract<EngineEvent, { type: 'cellOutput' }> => event.type === 'cellOutput' && event.cell === 'evaluate');
  assert.ok(output, 'the evaluate cell has an output');
  const lines = output.text.split('\n');
  assert.match(lines[0], /^test split, \d+ examples, per example:$/);
  assert.match(output.text, /^iwae +-?[0-9.]+ nats +higher is better; IWAE bound on log p\(x\), k = 10 importance samples/m);
  assert.match(output.text, /^active-units +\d of 4 +higher is better/m);
  assert.match(output.text, /^ssim +0\.[0-9]+ ± 0\.[0-9]+ +higher is better/m);
  assert.match(output.text, /^probe +[0-9.]+% +higher is better; .*100 labels: latents [0-9.]+% ± [0-9.]+%, pixels [0-9.]+% ± [0-9.]+%/m);
  assert.match(output.text, /^knn +[0-9.]+% +higher is better/m);

  const summary = JSON.parse(readFileSync(path.join(result.runDir, 'summary.json'), 'utf8')) as RunSummary;
  const metrics = summary.metrics!;
  for (const name of ['loss', 'elbo', 'kl', 'mse', 'psnr', 'iwae', 'active-units', 'ssim', 'probe', 'knn']) assert.ok(metrics[name], `summary.json lacks ${name}`);
  assert.equal(metrics.loss.value, summary.test!.loss);
  assert.equal(metrics.elbo.value, summary.test!.elbo);
  assert.ok(metrics.iwae.value > metrics.elbo.value, `IWAE ${metrics.iwae.value} vs ELBO ${metrics.elbo.value}`);
  const perDimension = metrics['active-units'].detail!.klPerDimension as number[];
  assert.ok(Math.abs(perDimension.reduce((sum, value) => sum + value, 0) - summary.test!.kl!) < 1e-3 * Math.max(1, summary.test!.kl!));
  // Three sprite shapes: a probe on a trained code does better than chance.
  assert.ok(metrics.probe.value > 1 / 3 && metrics.probe.value <= 1, String(metrics.probe.value));
  assert.equal(metrics.probe.units, 'accuracy');
  assert.ok(typeof metrics.knn.detail!.pixels100 === 'number');
});

test('a metric that cannot apply (SSIM on 8×8 images, MIG of a one-dimensional code) becomes a note; the others and the run\'s summary are kept', async () => {
  await selectBackend('cpu');
  const small = path.join(folder, 'small');
  const file = tinyExperiment(folder, { epochs: 1, count: 400, name: 'small' });
  writeFileSync(file, readFileSync(file, 'utf8').replace('size: 16', 'size: 8\nfactors: grid').replace('latent: 4', 'latent: 1').replace('metrics: [loss, elbo, mse]', 'metrics: [loss, ssim, mig, active-units]'));
  const events: EngineEvent[] = [];
  const result = await runExperiment({ file, backend: 'cpu', outDir: small, onEvent: (event) => events.push(event) });
  assert.equal(result.status, 'completed');
  const output = events.find((event): event is Extract<EngineEvent, { type: 'cellOutput' }> => event.type === 'cellOutput' && event.cell === 'evaluate')!;
  assert.match(output.text, /^note: ssim: not computed: SSIM needs images of at least 11 × 11 pixels/m);
  assert.match(output.text, /^note: mig: not computed: MIG needs a code of at least 2 dimensions/m);
  assert.match(output.text, /^active-units +[01] of 1 +higher is better/m);
  const summary = JSON.parse(readFileSync(path.join(result.runDir, 'summary.json'), 'utf8')) as RunSummary;
  assert.equal(summary.status, 'completed');
  assert.ok(summary.metrics!['active-units'] && !summary.metrics!.ssim && !summary.metrics!.mig);
});
