/**
 * `aexp evaluate`, `aexp encode` and `aexp decode` on a run the CLI trained: evaluate's numbers
 * against what the training run itself reported for the same checkpoint; the written means and decoded pixels
 * are checked against the model run directly on the same images (the encoder and decoder called
 * by hand, not through the verbs' code), and every bad argument gets one line and exit status 2.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { PNG } from 'pngjs';
import { loadRunModel } from '../../runtime/engine';
import { selectBackend } from '../../runtime/backends/select';
import { loadDataset } from '../../runtime/data/index';
import { readMatrixFile } from '../../runtime/format/matrix-file';
import { readRunConfig } from '../../runtime/run-folder';
import { gridPng } from '../../runtime/train/images';
import { tinyExperiment } from '../helpers/experiments';
import { temporaryDirectory } from '../helpers/temp';

const root = path.resolve(__dirname, '..', '..');
const aexp = path.join(root, 'bin', 'aexp.js');
const cli = (args: string[]) => spawnSync(process.execPath, [aexp, ...args], { cwd: root, encoding: 'utf8' });

let runDir: string;
const folder = temporaryDirectory('latents-');

before(() => {
  const file = tinyExperiment(folder, { epochs: 1, count: 600 });
  const result = cli(['run', file, '--backend', 'cpu', '--out', path.join(folder, 'run')]);
  assert.equal(result.status, 0, result.stderr);
  runDir = result.stdout.trim();
});

test('aexp encode writes the posterior means of the test split (with labels), equal to the encoder run by hand', async () => {
  const csv = path.join(folder, 'z.csv');
  const result = cli(['encode', runDir, '--out', csv, '--backend', 'cpu', '--limit', '50']);
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout.trim(), csv);
  const table = readMatrixFile(csv);
  assert.deepEqual(table.names, ['z0', 'z1', 'z2', 'z3', 'label']);
  assert.equal(table.rows, 50);

  await selectBackend('cpu');
  const { model, config } = await loadRunModel(runDir);
  const dataset = await loadDataset(config.data, { dataDir: config.dataDir, baseDir: folder, seed: config.seed });
  const size = 16 * 16;
  // The encoder called directly: [μ, log σ²] side by side, μ first.
  const x = tf.tensor4d(Float32Array.from(dataset.test.images.subarray(0, 50 * size), (value) => (value > 127 ? 1 : 0)), [50, 16, 16, 1]);
  const code = (model.encoder.predict(x) as tf.Tensor).arraySync() as number[][];
  for (let row = 0; row < 50; row++) {
    for (let column = 0; column < 4; column++) assert.ok(Math.abs(table.values[row * 5 + column] - code[row][column]) < 1e-5, `row ${row}, z${column}`);
    assert.equal(table.values[row * 5 + 4], dataset.test.labels[row]);
  }

  const npy = path.join(folder, 'z.npy');
  assert.equal(cli(['encode', runDir, '--out', npy, '--backend', 'cpu', '--limit', '50']).status, 0);
  const means = readMatrixFile(npy);
  assert.deepEqual([means.rows, means.columns], [50, 4]);
  assert.deepEqual([...readMatrixFile(path.join(folder, 'z.labels.npy')).values], [...dataset.test.labels.subarray(0, 50)]);
  tf.dispose([x]);
});

test('aexp decode draws the decoder\'s pixels for each latent vector, as the decoder run by hand', async () => {
  const z = path.join(folder, 'points.csv');
  writeFileSync(z, 'a,b,c,d\n0,0,0,0\n1,-1,0.5,2\n');
  const out = path.join(folder, 'grid.png');
  const result = cli(['decode', runDir, '--z', z, '--out', out, '--backend', 'cpu']);
  assert.equal(result.status, 0, result.stderr);
  await selectBackend('cpu');
  const { model } = await loadRunModel(runDir);
  const logits = model.decoder.predict(tf.tensor2d([[0, 0, 0, 0], [1, -1, 0.5, 2]])) as tf.Tensor;
  const pixels = tf.sigmoid(logits).dataSync() as Float32Array;
  const expected = gridPng({ pixels, count: 2, height: 16, width: 16, channels: 1 }, 2);
  assert.deepEqual(PNG.sync.read(readFileSync(out)).data, PNG.sync.read(expected).data);
});

test('bad arguments of encode and decode get one line each and exit status 2; a missing checkpoint names the ones kept', () => {
  const cases: [string[], RegExp, number][] = [
    [['encode', runDir], /--out is required/, 2],
    [['encode', runDir, '--out', path.join(folder, 'z.txt')], /--out .*z\.txt: give a \.npy or \.csv file/, 2],
    [['encode', runDir, '--out', path.join(folder, 'z.csv'), '--split', 'val'], /--split must be train, test or all, not "val"/, 2],
    [['encode', path.join(folder, 'nowhere'), '--out', path.join(folder, 'z.csv')], /nowhere: no such run folder/, 2],
    [['encode', runDir, '--out', path.join(folder, 'z.csv'), '--checkpoint', 'epoch-7'], /no epoch-7 checkpoint; it keeps best, last/, 1],
    [['encode', runDir, '--out', path.join(folder, 'z.csv'), '--checkpoint', 'newest'], /--checkpoint "newest": expected last, best or epoch-N/, 1],
    [['decode', runDir, '--out', path.join(folder, 'g.png')], /--z is required/, 2],
    [['decode', runDir, '--z', path.join(folder, 'z.labels.npy'), '--out', path.join(folder, 'g.png'), '--backend', 'cpu'], /1 values per row; this run's latent space has 4 dimensions/, 2],
    [['decode', runDir, '--z', path.join(folder, 'points.csv'), '--label', '1', '--out', path.join(folder, 'g.png'), '--backend', 'cpu'], /--label: this run's model \(vae\) is not conditional/, 2],
  ];
  for (const [args, message, status] of cases) {
    const result = cli(args);
    assert.equal(result.status, status, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message, args.join(' '));
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
  }
  assert.equal(readRunConfig(runDir).model.kind, 'vae');
});

test('aexp evaluate --json prints the metrics of the last checkpoint, equal to what the training run reported for it', () => {
  const result = cli(['evaluate', runDir, '--json', '--backend', 'cpu']);
  assert.equal(result.status, 0, result.stderr);
  const report = JSON.parse(result.stdout) as { checkpoint: string; epoch: number; units: string; examples: number; metrics: Record<string, { value: number; units: string; better: string }> };
  const summary = JSON.parse(readFileSync(path.join(runDir, 'summary.json'), 'utf8')) as { test: Record<string, number>; epochs: number; units: string };
  assert.equal(report.checkpoint, 'last');
  assert.equal(report.epoch, summary.epochs);
  assert.equal(report.units, summary.units);
  for (const name of ['loss', 'reconstruction', 'kl', 'elbo', 'mse', 'psnr']) assert.ok(Math.abs(report.metrics[name].value - summary.test[name]) <= 1e-4 * Math.max(1, Math.abs(summary.test[name])), `${name}: ${report.metrics[name].value} vs ${summary.test[name]}`);
  assert.deepEqual([report.metrics.elbo.better, report.metrics.loss.better, report.metrics.psnr.units], ['higher', 'lower', 'dB']);

  const text = cli(['evaluate', runDir, '--metrics', 'mse,psnr', '--backend', 'cpu']);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /^test split, \d+ examples, checkpoint last \(epoch 1\):\nmse +[0-9.]+ +lower is better/);
  assert.doesNotMatch(text.stdout, /^loss/m);
  const unknown = cli(['evaluate', runDir, '--metrics', 'mse,fid']);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /--metrics: unknown "fid"; choose from loss, /);
});

test('aexp evaluate adds the IWAE bound, active units with the KL per dimension, and SSIM; metrics that need other data say why', () => {
  const result = cli(['evaluate', runDir, '--json', '--backend', 'cpu', '--metrics', 'kl,elbo,iwae,active-units,ssim,mig,factorvae', '--k', '20']);
  assert.equal(result.status, 0, result.stderr);
  const report = JSON.parse(result.stdout) as { metrics: Record<string, { value: number; units: string; better: string; std?: number; detail?: Record<string, number | number[]> }>; notes: string[] };
  const { kl, elbo, iwae, ssim } = report.metrics;
  const active = report.metrics['active-units'];
  // The per-dimension KL comes from its own pass over the test split (float64 sums): it adds up to the loss family's KL.
  const perDimension = active.detail!.klPerDimension as number[];
  assert.equal(perDimension.length, 4);
  assert.ok(Math.abs(perDimension.reduce((sum, value) => sum + value, 0) - kl.value) < 1e-3 * Math.max(1, kl.value), `${perDimension} vs ${kl.value}`);
  assert.ok(active.value >= 0 && active.value <= 4 && Number.isInteger(active.value));
  assert.equal(active.units, 'of 4');
  // 20 importance samples bound log p(x) at least as tightly as the ELBO (same model, binary data: nats).
  assert.equal(iwae.units, 'nats');
  assert.equal(iwae.detail!.k, 20);
  assert.ok(iwae.value > elbo.value, `IWAE ${iwae.value} ≤ ELBO ${elbo.value}`);
  assert.ok(ssim.value > 0 && ssim.value < 1 && ssim.std! >= 0, JSON.stringify(ssim));
  assert.ok(report.notes.some((note) => /^mig: needs data with known, independent factors: sprites with factors: grid \(this run's data is sprites in the random mode\)/.test(note)), report.notes.join('\n'));
  assert.ok(report.notes.some((note) => note.startsWith('factorvae: needs data with known')));
  const noIwae = cli(['evaluate', runDir, '--k', '5']);
  assert.equal(noIwae.status, 2);
  assert.match(noIwae.stderr, /--k sets the IWAE bound's importance samples: add iwae to --metrics/);
});

test('aexp evaluate reports MIG on the sprites factor grid, from the test split\'s factors', () => {
  const gridFolder = temporaryDirectory('latents-grid-');
  const file = tinyExperiment(gridFolder, { epochs: 1, count: 600 });
  writeFileSync(file, readFileSync(file, 'utf8').replace('count: 600', 'count: 600\nfactors: grid'));
  const trained = cli(['run', file, '--backend', 'cpu', '--out', path.join(gridFolder, 'run')]);
  assert.equal(trained.status, 0, trained.stderr);
  const result = cli(['evaluate', trained.stdout.trim(), '--json', '--backend', 'cpu', '--metrics', 'mig']);
  assert.equal(result.status, 0, result.stderr);
  const { mig } = (JSON.parse(result.stdout) as { metrics: Record<string, { value: number; how: string; detail: Record<string, number> }> }).metrics;
  assert.ok(mig.value >= 0 && mig.value <= 1, String(mig.value));
  assert.deepEqual(Object.keys(mig.detail).sort(), ['rotation', 'scale', 'shape', 'x', 'y']);
  assert.match(mig.how, /20 bins per dimension, \d+ examples/);
});
