/** The training chart's history as restore reads it from a run folder's metrics.jsonl. */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { compactSnapshot, SNAPSHOT_BYTE_LIMIT } from '../../extension/chart-snapshot';
import type { ChartSnapshot } from '../../extension/renderer-protocol';
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

test('a long run\'s output item is thinned by the renderer\'s rule until it fits 64 KB, keeping its ends, extremes and learning-rate changes', () => {
  const noise = (at: number) => Math.sin(at * 12.9898) * 43758.5453 % 1;
  const steps = Array.from({ length: 20_000 }, (_, index) => {
    const at = index + 1;
    const loss = 50 + 300 / Math.sqrt(at) + 5 * noise(at);
    return { step: at, epoch: Math.floor(index / 20) + 1, seconds: at * 0.0123456, loss, reconstruction: loss * 0.71234, kl: loss * 0.28766, lr: at <= 12_345 ? 1e-3 : 1e-4 };
  });
  // One spike far above the rest: a min-max rule keeps it.
  steps[7777].loss = 10_000;
  const epochs = Array.from({ length: 1000 }, (_, index) => ({ epoch: index + 1, step: (index + 1) * 20, seconds: (index + 1) * 0.246912, train: { loss: 60 + noise(index), reconstruction: 40.123456, kl: 20.654321 }, test: { loss: 61 + noise(index), reconstruction: 41.123456, kl: 20.987654 } }));
  const full: ChartSnapshot = { version: 1, chartId: 'long', units: 'nats', steps, epochs, resumes: [], live: true };
  const compact = compactSnapshot(full);
  const bytes = Buffer.byteLength(JSON.stringify(compact));
  assert.ok(bytes <= SNAPSHOT_BYTE_LIMIT, `${bytes} bytes`);
  const kept = compact.steps.step.reduce<number[]>((list, difference) => [...list, (list.at(-1) ?? 0) + difference], []);
  assert.ok(kept.length >= 1000, `${kept.length} steps kept`);
  assert.equal(kept[0], 1);
  assert.equal(kept.at(-1), 20_000);
  assert.ok(kept.includes(7778), 'the spike was thinned away');
  assert.ok(compact.steps.loss.includes(10_000));
  // The rate changes once, at the step after 12345, and that step is kept.
  assert.equal(compact.steps.lr.length, 4);
  assert.equal(kept[compact.steps.lr[2]], 12_346);
  assert.equal(compact.epochs.epoch.reduce((sum, difference) => sum + difference, 0), 1000);
});

test('a short run\'s output item keeps every point, rounded to five significant digits, its integers as differences', () => {
  const full: ChartSnapshot = {
    version: 1, chartId: 'short', units: 'loss', resumes: [], live: false,
    steps: [{ step: 5, epoch: 1, seconds: 0.123456, loss: 1.23456789, reconstruction: 1.23456789, lr: 0.001 }, { step: 10, epoch: 2, seconds: 1.5, loss: 0.000123456789, reconstruction: 0.000123456789, lr: 0.001 }],
    epochs: [{ epoch: 1, step: 10, seconds: 2, train: { loss: 3.14159265, reconstruction: 3.14159265 } }],
  };
  assert.deepEqual(compactSnapshot(full), {
    version: 2, chartId: 'short', units: 'loss', resumes: [], live: false,
    steps: { step: [5, 5], epoch: [1, 1], centiseconds: [12, 138], loss: [1.2346, 0.00012346], reconstruction: [1.2346, 0.00012346], lr: [0, 0.001] },
    epochs: { epoch: [1], step: [10], centiseconds: [200], trainLoss: [3.1416], trainReconstruction: [3.1416] },
  });
});
