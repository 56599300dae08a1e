/** The training chart's history as restore reads it from a run folder's metrics.jsonl. */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseMetricsHistory, readRecordedRun } from '../../extension/restore';
import { temporaryDirectory } from '../helpers/temp';

const lines = [
  { kind: 'train', epoch: 1, step: 5, time: '2026-01-01T00:00:00Z', loss: 9, reconstruction: 8, kl: 1, lr: 0.001 },
  { kind: 'train', epoch: 1, step: 10, time: '2026-01-01T00:00:01Z', loss: 7, reconstruction: 6.5, kl: 0.5, lr: 0.001 },
  { kind: 'epoch', epoch: 1, step: 10, time: '2026-01-01T00:00:02Z', units: 'nats', train: { loss: 8, reconstruction: 7, kl: 1 }, test: { loss: 7.5, reconstruction: 7, kl: 0.5, mse: 0.1, psnr: 10 }, samplesPerSecond: 100, tensors: 3 },
  // A step whose loss is not a number, and a torn line: dropped, the rest kept.
  { kind: 'train', epoch: 2, step: 15, time: '2026-01-01T00:00:03Z', loss: 'NaN', reconstruction: 6, lr: 0.001 },
  { kind: 'resume', epoch: 1, step: 10, time: '2026-01-01T01:00:00Z', batch: 0 },
  // Written again after the resume: the last one counts.
  { kind: 'train', epoch: 2, step: 15, time: '2026-01-01T01:00:01Z', loss: 6, reconstruction: 5.5, kl: 0.5, lr: 0.0005 },
].map((line) => JSON.stringify(line));

test('metrics.jsonl gives the chart its logged steps, epochs and resumes, each once, malformed lines left out', () => {
  const history = parseMetricsHistory([...lines, '{"kind":"train","epoch":2,"st'].join('\n'));
  assert.deepEqual(history.steps.map((record) => [record.step, record.loss, record.lr]), [[5, 9, 0.001], [10, 7, 0.001], [15, 6, 0.0005]]);
  assert.deepEqual(history.epochs.map((record) => record.epoch), [1]);
  assert.deepEqual(history.resumes.map((record) => record.step), [10]);
  // A plain autoencoder logs no KL: the record has none.
  const plain = parseMetricsHistory(JSON.stringify({ kind: 'train', epoch: 1, step: 1, time: '', loss: 1, reconstruction: 1, lr: 0.01 }));
  assert.equal('kl' in plain.steps[0], false);
});

test('a run folder read back carries its logged steps for the chart', async () => {
  const runDir = path.join(temporaryDirectory(), 'run');
  mkdirSync(runDir, { recursive: true });
  writeFileSync(path.join(runDir, 'metrics.jsonl'), `${lines.join('\n')}\n`);
  const recorded = await readRecordedRun(runDir);
  assert.deepEqual(recorded.steps.map((record) => record.step), [5, 10, 15]);
  assert.deepEqual(recorded.resumes.map((record) => record.step), [10]);
  assert.deepEqual(recorded.epochs.map((record) => record.epoch), [1]);
});
