/** What the engine tells the notebook about each cell: when its work starts and ends, what its grids show, and no KL where there is none. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { PNG } from 'pngjs';
import { runExperiment } from '../../runtime/engine';
import { epochLine } from '../../runtime/format/epoch-line';
import type { EngineEvent, ImageEvent, MetricsRecord } from '../../runtime/protocol';
import { historyImageFile, readMetrics, runFile } from '../../runtime/run-folder';
import { tinyExperiment } from '../helpers/experiments';
import { temporaryDirectory } from '../helpers/temp';

type CellEvent = Extract<EngineEvent, { type: 'cell' }>;

function cellEvents(events: EngineEvent[]): string[] {
  return events.filter((event): event is CellEvent => event.type === 'cell').map((event) => `${event.cell} ${event.state}${event.reason ? ` (${event.reason})` : ''}`);
}

test('each involved cell is started and finished in run order, around its own work; cell events are not kept in outputs.json', async () => {
  const directory = temporaryDirectory();
  const events: EngineEvent[] = [];
  const result = await runExperiment({ file: tinyExperiment(directory, { epochs: 1 }), outDir: path.join(directory, 'runs'), onEvent: (event) => events.push(event) });
  assert.deepEqual(cellEvents(events), [
    'data started', 'data finished',
    'model started', 'model finished',
    'train started', 'train finished',
    'evaluate started', 'evaluate finished',
    'reconstruct started', 'reconstruct finished',
  ]);
  const at = (cell: string, state: string) => events.findIndex((event) => event.type === 'cell' && event.cell === cell && event.state === state);
  const firstProgress = events.findIndex((event) => event.type === 'progress');
  assert.ok(at('train', 'started') < firstProgress && firstProgress < at('train', 'finished'), 'training happens between the train cell\'s started and finished');
  const evaluateOutput = events.findIndex((event) => event.type === 'cellOutput' && event.cell === 'evaluate');
  assert.ok(at('evaluate', 'started') < evaluateOutput && evaluateOutput < at('evaluate', 'finished'));
  const dataOutput = events.findIndex((event) => event.type === 'cellOutput' && event.cell === 'data');
  assert.ok(at('data', 'started') < dataOutput && dataOutput < at('data', 'finished'));
  const outputs = JSON.parse(readFileSync(runFile(result.runDir, 'outputs'), 'utf8')) as { events: EngineEvent[] };
  assert.ok(!outputs.events.some((event) => event.type === 'cell'), 'cell events are transient');
});

test('a stopped run skips the analysis cells, saying where training stopped', async () => {
  const directory = temporaryDirectory();
  const controller = new AbortController();
  const events: EngineEvent[] = [];
  const result = await runExperiment({
    file: tinyExperiment(directory, { epochs: 2 }),
    outDir: path.join(directory, 'runs'),
    signal: controller.signal,
    onEvent: (event) => {
      events.push(event);
      if (event.type === 'progress' && event.epoch === 1 && event.step === 7) controller.abort();
    },
  });
  assert.equal(result.status, 'stopped');
  assert.deepEqual(cellEvents(events).slice(4), [
    'train started', 'train finished',
    'evaluate skipped (training was stopped at epoch 1, batch 7)',
    'reconstruct skipped (training was stopped at epoch 1, batch 7)',
  ]);
});

test('grids say what their rows show; the train cell shows a history that grows by one row per epoch', async () => {
  const directory = temporaryDirectory();
  const events: EngineEvent[] = [];
  const heights: number[] = [];
  const result = await runExperiment({
    file: tinyExperiment(directory, { epochs: 3 }),
    outDir: path.join(directory, 'runs'),
    onEvent: (event) => {
      events.push(event);
      // The file is redrawn every epoch: measure it as each event names it.
      if (event.type === 'image' && event.kind === 'history') heights.push(PNG.sync.read(readFileSync(event.path)).height);
    },
  });
  const images = events.filter((event): event is ImageEvent => event.type === 'image');
  const history = images.filter((image) => image.kind === 'history');
  assert.deepEqual(history.map((image) => [image.cell, image.epoch, image.path]), [1, 2, 3].map((epoch) => ['train', epoch, historyImageFile(result.runDir)]));
  assert.deepEqual(history[2].rows, ['test inputs', 'reconstructions after epoch 1', 'reconstructions after epoch 2', 'reconstructions after epoch 3']);
  assert.equal(heights.length, 3);
  const rowHeight = heights[1] - heights[0];
  assert.ok(rowHeight > 0, `heights ${heights}`);
  assert.equal(heights[2] - heights[1], rowHeight, `one row per epoch: heights ${heights}`);
  // Two rows (the inputs and epoch 1's reconstructions) and the gutter below them.
  assert.equal(heights[0], 2 * rowHeight + 2);
  assert.ok(!images.some((image) => image.cell === 'train' && image.kind === 'reconstructions'), 'the train cell shows the history, not each epoch\'s grid');
  const samples = images.filter((image) => image.cell === 'train' && image.kind === 'samples');
  assert.equal(samples.length, 3);
  assert.deepEqual(samples[0].rows, ['z ~ N(0, I), decoded, the same draws every epoch']);
  const reconstruct = images.find((image) => image.cell === 'reconstruct');
  assert.deepEqual(reconstruct && { kind: reconstruct.kind, epoch: reconstruct.epoch, rows: reconstruct.rows }, { kind: 'reconstructions', epoch: 3, rows: ['test inputs', 'reconstructions'] });
  for (const image of images) assert.ok(!path.relative(result.runDir, image.path).startsWith('..'), `${image.path} is inside the run folder`);
  const outputs = JSON.parse(readFileSync(runFile(result.runDir, 'outputs'), 'utf8')) as { events: EngineEvent[] };
  const kept = outputs.events.filter((event): event is ImageEvent => event.type === 'image' && event.kind === 'history');
  assert.deepEqual(kept.map((image) => image.epoch), [3], 'outputs.json keeps the history grid once, as it ended');
});

test('a denoising autoencoder reports no KL or ELBO anywhere; its grids name the corrupted row', async () => {
  const directory = temporaryDirectory();
  const file = tinyExperiment(directory, { epochs: 2, kind: 'denoising-ae' });
  const text = readFileSync(file, 'utf8').replace('metrics: [loss, elbo, mse]', 'metrics: [loss, reconstruction, kl, elbo, mse]');
  const events: EngineEvent[] = [];
  const result = await runExperiment({ file, text, outDir: path.join(directory, 'runs'), onEvent: (event) => events.push(event) });
  assert.equal(result.status, 'completed');
  assert.equal(result.summary.test!.kl, undefined);
  assert.equal(result.summary.test!.elbo, undefined);
  assert.equal(result.summary.train!.kl, undefined);
  const summary = JSON.parse(readFileSync(runFile(result.runDir, 'summary'), 'utf8'));
  assert.ok(!('kl' in summary.test) && !('kl' in summary.train), 'summary.json has no kl');
  const records: MetricsRecord[] = readMetrics(result.runDir);
  for (const record of records) {
    if (record.kind === 'train') assert.ok(!('kl' in record), 'train records have no kl');
    if (record.kind === 'epoch') assert.ok(!('kl' in record.train) && !('kl' in record.test!), 'epoch records have no kl');
    if (record.kind === 'evaluate') assert.ok(!('kl' in record.test));
    if (record.kind === 'epoch') assert.doesNotMatch(epochLine(record), /KL/);
  }
  const table = events.find((event) => event.type === 'cellOutput' && event.cell === 'evaluate');
  assert.ok(table && table.type === 'cellOutput');
  assert.doesNotMatch(table.text, /^(kl|elbo)\b/m, table.text);
  assert.match(table.text, /^reconstruction\s/m);
  const history = events.filter((event): event is ImageEvent => event.type === 'image' && event.kind === 'history').at(-1);
  assert.deepEqual(history?.rows, ['test inputs', 'corrupted inputs', 'reconstructions after epoch 1', 'reconstructions after epoch 2']);
  assert.ok(!events.some((event) => event.type === 'image' && event.kind === 'samples'), 'no prior, no samples');
});
