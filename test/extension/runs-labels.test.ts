/** The Runs panel's labels of the selected runs: what differs between them, else their start time. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { differingKeys, listRuns } from '../../extension/runs-index';
import { runLabels, startText } from '../../webview/runs/format';
import { temporaryDirectory } from '../helpers/temp';
import { writeRun } from '../helpers/written-runs';

const start = (minute: number) => new Date(Date.UTC(2026, 10, 30, 9, minute, 0));
const defaults = { beta: 4, sparsity: 1, noise: 0.3, mask_ratio: 0.75, kl_warmup: 0 };

test('five runs of a trial are labelled by the values of the keys that differ between them', async () => {
  const root = temporaryDirectory();
  const runs = [
    { seed: 7, lr: 0.001, kind: 'vae', model: defaults },
    { seed: 8, lr: 0.001, kind: 'vae', model: defaults },
    { seed: 9, lr: 0.001, kind: 'vae', model: defaults },
    { seed: 7, lr: 0.003, kind: 'vae', model: defaults },
    { seed: 7, lr: 0.001, kind: 'beta-vae', model: { ...defaults, beta: 2 } },
  ].map((run, index) => writeRun(root, { experiment: 'vae-mnist', start: start(index), status: 'completed', ...run }));
  const rows = await listRuns([root]);
  const labels = runLabels(rows, differingKeys(rows));
  assert.deepEqual(runs.map((run) => labels.get(run)), [
    'seed 7 · model.kind vae · train.lr 0.001',
    'seed 8 · model.kind vae · train.lr 0.001',
    'seed 9 · model.kind vae · train.lr 0.001',
    'seed 7 · model.kind vae · train.lr 0.003',
    'seed 7 · model.kind beta-vae · train.lr 0.001',
  ]);
});

test('runs that differ in nothing are labelled by their start time; runs of several experiments by their experiment first', async () => {
  const root = temporaryDirectory();
  const same = [0, 1].map((minute) => writeRun(root, { experiment: 'vae-mnist', start: start(minute), status: 'completed' }));
  const rows = await listRuns([root]);
  assert.deepEqual(differingKeys(rows), []);
  const labels = runLabels(rows, []);
  assert.deepEqual(same.map((run) => labels.get(run)), same.map((_, minute) => startText(start(minute).toISOString())));
  const other = writeRun(root, { experiment: 'ae-mnist', start: start(2), status: 'completed', seed: 3 });
  const mixed = await listRuns([root]);
  const mixedLabels = runLabels(mixed, differingKeys(mixed));
  assert.equal(mixedLabels.get(other), 'ae-mnist · seed 3');
  // Two runs whose differing values read the same: their start times tell them apart.
  assert.deepEqual(same.map((run) => mixedLabels.get(run)), same.map((_, minute) => `vae-mnist · seed 1 · ${startText(start(minute).toISOString())}`));
});

test('a label names at most four keys; a run lacking a key leaves it out', () => {
  const row = (runDir: string, config: Record<string, number>) => ({ runDir, experiment: 'e', startedAt: '2026-11-30T09:00:00Z', config });
  const keys = ['seed', 'data.batch', 'model.latent', 'train.lr', 'train.epochs'];
  const labels = runLabels([row('/a', { seed: 1, 'data.batch': 32, 'model.latent': 2, 'train.lr': 0.1, 'train.epochs': 3 }), row('/b', { seed: 2 })], keys);
  assert.equal(labels.get('/a'), 'seed 1 · data.batch 32 · model.latent 2 · train.lr 0.1 · …');
  assert.equal(labels.get('/b'), 'seed 2 · …');
});
