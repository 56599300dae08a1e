import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunSummary } from '../../runtime/protocol';
import { compactRows, continuationPlan, epochCount, gridCaption, LINE_WIDTH, notRunLine, stopLine, summaryLines, wrapLine } from '../../extension/run-text';

const summary: RunSummary = {
  status: 'completed',
  backend: 'native',
  device: 'native kernels (AVX2, FMA) over TF.js cpu, OpenBLAS 0.3.26 statically linked, 2 threads of 2 cores',
  dataset: 'sprites',
  model: 'vae',
  parameters: 1000,
  epochs: 10,
  targetEpochs: 10,
  steps: 1880,
  units: 'nats',
  durationSeconds: 75,
  samplesPerSecond: 4321,
  test: { loss: 41.234, reconstruction: 38.11, kl: 3.124, mse: 0.012341, psnr: 19.31, elbo: -41.234, l1: 0.0123, sparsity: 0.51, noisyMse: 0.04, maskedMse: 0.03 },
};

test('the summary reads "completed 10/10 epochs" and no line but the run folder is wider than 100 characters', () => {
  const runDir = `/home/someone/${'deep/'.repeat(30)}20260101-000000`;
  const lines = summaryLines({ runDir, status: 'completed', summary });
  assert.equal(lines[0], 'completed: 10/10 epochs, 1880 steps in 1 min 15 s (4321 samples/s)');
  assert.equal(lines.at(-1), `run folder: ${runDir}`);
  for (const line of lines.slice(0, -1)) assert.ok(line.length <= LINE_WIDTH, `${line.length} > ${LINE_WIDTH}: ${line}`);
  const test = lines.filter((line) => /^test: |^ {6}\S/.test(line));
  assert.deepEqual(test, [
    'test: loss 41.23 · reconstruction 38.11 · KL 3.124 · ELBO -41.23 (nats per example)',
    '      MSE 0.01234 · PSNR 19.31 dB',
    '      L1 0.01230 · sparsity 0.5100 · noisy MSE 0.04000 · masked MSE 0.03000',
  ]);
});

test('a plain autoencoder\'s summary shows no KL (it is 0 by construction)', () => {
  const { elbo: _elbo, ...plain } = summary.test!;
  const lines = summaryLines({ runDir: '', status: 'completed', summary: { ...summary, test: plain } });
  assert.doesNotMatch(lines.join('\n'), /KL/);
});

test('a stopped run says where it stopped and points to Continue Training, not to a CLI command', () => {
  const stopped: RunSummary = { ...summary, status: 'stopped', epochs: 3, stoppedBy: 'cancelled', stoppedAt: { epoch: 4, batch: 17 }, message: 'stopped at epoch 4, batch 17; resume with: aexp run --resume /x' };
  const text = summaryLines({ runDir: '/x', status: 'stopped', summary: stopped }).join('\n');
  assert.match(text, /^stopped: 3\/10 epochs/m);
  assert.match(text, /^stopped at epoch 4, batch 17 — Continue Training resumes from its checkpoint$/m);
  assert.doesNotMatch(text, /aexp run/);
  // A run folder from before stoppedAt existed: the position comes from its message.
  const older = { ...stopped, stoppedAt: undefined, stoppedBy: 'shutdown' as const };
  assert.equal(stopLine(older), 'stopped at epoch 4, batch 17 because the runtime was shutting down — Continue Training resumes from its checkpoint');
  assert.match(notRunLine('stopped')!, /^not run: training was stopped/);
  assert.equal(notRunLine('completed'), undefined);
});

test('captions say which checkpoint a grid shows and what its rows are, per model kind', () => {
  assert.equal(gridCaption({ cell: 'train', kind: 'reconstructions', epoch: 3 }, 'vae'), 'after epoch 3 — rows, repeating: test inputs, reconstructions');
  assert.equal(gridCaption({ cell: 'reconstruct', kind: 'reconstructions', epoch: 5 }, 'denoising-ae'), 'final checkpoint (epoch 5) — rows, repeating: test inputs, corrupted inputs, reconstructions');
  assert.match(gridCaption({ cell: 'reconstruct', kind: 'reconstructions', epoch: 5 }, 'masked-ae'), /masked inputs/);
  assert.equal(gridCaption({ cell: 'sample', kind: 'samples', epoch: 5 }, 'cvae'), 'final checkpoint (epoch 5) — decoded from random codes z ~ N(0, I), one row per class');
  // The runtime names the rows itself: those names win, and a long list wraps.
  assert.equal(gridCaption({ cell: 'train', kind: 'history', epoch: 3, rows: ['test inputs', 'epoch 1', 'epoch 2', 'epoch 3'] }), 'after epochs 1–3 — rows: test inputs · epochs 1–3');
  assert.deepEqual(compactRows(['test inputs', 'reconstructions after epoch 1', 'reconstructions after epoch 2', 'reconstructions after epoch 3', 'z 7']), ['test inputs', 'reconstructions after epochs 1–3', 'z 7']);
  assert.deepEqual(compactRows(['epoch 1', 'epoch 2', 'epoch 4']), ['epoch 1', 'epoch 2', 'epoch 4'], 'two in a row, or a gap, stay as they are');
  const long = gridCaption({ cell: 'train', kind: 'history', epoch: 40, rows: ['test inputs', ...Array.from({ length: 40 }, (_, index) => `epoch ${index + 1}`)] });
  for (const line of long.split('\n')) assert.ok(line.length <= 100, line);
});

test('Continue Training offers what remains of the target, or 5 more when the run is complete', () => {
  assert.deepEqual(continuationPlan({ summary: { epochs: 3, targetEpochs: 10 } }), { done: 3, target: 10, more: 7 });
  assert.deepEqual(continuationPlan({ summary: { epochs: 10, targetEpochs: 10 } }), { done: 10, target: 10, more: 5 });
  // Killed before it wrote a summary: the epochs its metrics record, the target its config names.
  assert.deepEqual(continuationPlan({ lastEpoch: 2, configEpochs: 6 }), { done: 2, target: 6, more: 4 });
});

test('only a positive whole number is an epoch count (the toolbar passes its context object first)', () => {
  assert.equal(epochCount(3), 3);
  for (const value of [{ notebookEditor: { notebookUri: {} }, ui: true }, undefined, 0, -1, 1.5, '3', Number.NaN]) assert.equal(epochCount(value), undefined, String(value));
});

test('long lines wrap at their separators', () => {
  const line = Array.from({ length: 12 }, (_, index) => `metric${index} 12.345`).join(' · ');
  const wrapped = wrapLine(line, 60);
  assert.ok(wrapped.length > 1);
  for (const piece of wrapped) assert.ok(piece.length <= 60, piece);
  assert.equal(wrapped.join(' ').replace(/\s+/g, ' '), line.replace(/\s+/g, ' '));
});
