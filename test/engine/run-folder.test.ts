/** The run folder's layout and formats, as runtime/run-folder.ts reads and writes them for the engine, the CLI and the extension. */
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { MetricsRecord, RunSummary } from '../../runtime/protocol';
import { MetricsLog, checkpointFile, epochCheckpointName, findReusableRun, imageFile, newRunDir, newestRunFolder, parseMetrics, readMetrics, readRunConfig, runFile, truncateMetrics, writeRunConfig, writeRunOutputs, writeRunSummary } from '../../runtime/run-folder';
import type { RunConfig } from '../../runtime/run-folder';
import { temporaryDirectory } from '../helpers/temp';

const summary: RunSummary = { status: 'completed', backend: 'wasm', device: 'test', dataset: 'sprites', model: 'vae', parameters: 1, epochs: 1, targetEpochs: 1, steps: 1, units: 'nats', durationSeconds: 1 };

function config(configHash: string): RunConfig {
  return { version: 1, sourceFile: '/x/tiny.aexp', seed: 1, data: {} as RunConfig['data'], model: {} as RunConfig['model'], train: {} as RunConfig['train'], backend: 'wasm', dataDir: '/data', configHash };
}

test('file names: checkpoints, epoch grids and final grids', () => {
  assert.equal(checkpointFile('/r', 'last'), path.join('/r', 'checkpoints', 'last.ckpt'));
  assert.equal(checkpointFile('/r', epochCheckpointName(7)), path.join('/r', 'checkpoints', 'epoch-0007.ckpt'));
  assert.equal(imageFile('/r', 'reconstructions', 3), path.join('/r', 'images', 'epoch-003-reconstructions.png'));
  assert.equal(imageFile('/r', 'samples'), path.join('/r', 'images', 'samples.png'));
  assert.equal(runFile('/r', 'outputs'), path.join('/r', 'outputs.json'));
});

test('metrics.jsonl: appended records read back; a torn last line (a killed writer) is skipped, not fatal', () => {
  const runDir = temporaryDirectory();
  const log = new MetricsLog(runDir);
  const records: MetricsRecord[] = [
    { kind: 'train', epoch: 1, step: 5, time: 't', loss: 1, reconstruction: 0.9, kl: 0.1, lr: 1e-3 },
    { kind: 'epoch', epoch: 1, step: 10, time: 't', units: 'nats', train: { loss: 1, reconstruction: 0.9, kl: 0.1 }, samplesPerSecond: 100, tensors: 12 },
  ];
  for (const record of records) log.append(record);
  log.close();
  appendFileSync(runFile(runDir, 'metrics'), '{"kind":"train","epoch":2,"st');
  assert.deepEqual(readMetrics(runDir), records);
});

test('config, summary and outputs round-trip; a run folder without config.json is named in the error', async () => {
  const runDir = temporaryDirectory();
  assert.throws(() => readRunConfig(runDir), new RegExp(`${runDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not a run folder \\(no config.json\\)`));
  writeRunConfig(runDir, config('abc'));
  assert.equal(readRunConfig(runDir).configHash, 'abc');
  writeFileSync(runFile(runDir, 'config'), '{ not json');
  assert.throws(() => readRunConfig(runDir), /config\.json: /);
  writeRunOutputs(runDir, [{ type: 'cellOutput', cell: 'data', text: 'hello' }]);
  assert.deepEqual(JSON.parse(readFileSync(runFile(runDir, 'outputs'), 'utf8')), { version: 1, events: [{ type: 'cellOutput', cell: 'data', text: 'hello' }] });
});

test('newest run folder, and reuse only of a finished run with the same configuration and a checkpoint', async () => {
  const parent = temporaryDirectory();
  const older = newRunDir(parent, new Date('2026-01-01T00:00:00Z'));
  const newer = newRunDir(parent, new Date('2026-01-02T00:00:00Z'));
  const twin = newRunDir(parent, new Date('2026-01-02T00:00:00Z'));
  assert.equal(path.basename(twin), `${path.basename(newer)}-2`, 'two runs in one second get distinct folders');
  assert.equal(await newestRunFolder(parent), undefined, 'a folder without config.json is not a run yet');
  for (const runDir of [older, newer]) {
    writeRunConfig(runDir, config('same'));
    writeRunSummary(runDir, summary);
  }
  assert.equal(await newestRunFolder(parent), newer);
  assert.equal(findReusableRun(parent, { configHash: 'same', backend: 'wasm', dataDir: '/data' }), undefined, 'no checkpoint, no reuse');
  mkdirSync(path.dirname(checkpointFile(older, 'last')));
  writeFileSync(checkpointFile(older, 'last'), '');
  assert.equal(findReusableRun(parent, { configHash: 'same', backend: 'wasm', dataDir: '/data' })?.runDir, older);
  assert.equal(findReusableRun(parent, { configHash: 'other', backend: 'wasm', dataDir: '/data' }), undefined);
  writeRunSummary(older, { ...summary, status: 'stopped' });
  assert.equal(findReusableRun(parent, { configHash: 'same', backend: 'wasm', dataDir: '/data' }), undefined, 'a stopped run is never reused');
});

test('a resume drops the records past its checkpoint; readers count a step or epoch written twice once, the last', () => {
  const runDir = temporaryDirectory();
  const log = new MetricsLog(runDir);
  const train = (step: number, loss: number): MetricsRecord => ({ kind: 'train', epoch: Math.ceil(step / 10), step, time: 't', loss, reconstruction: loss, lr: 1e-3 });
  const epoch = (number: number, loss: number): MetricsRecord => ({ kind: 'epoch', epoch: number, step: 10 * number, time: 't', units: 'nats', train: { loss, reconstruction: loss }, samplesPerSecond: 1, tensors: 1 });
  // Epoch 1 checkpointed; epoch 2 recorded, then killed before its checkpoint; a step of epoch 3 too.
  for (const record of [train(5, 9), train(10, 8), epoch(1, 8), train(15, 7), train(20, 6), epoch(2, 6), train(25, 5)]) log.append(record);
  log.close();
  assert.equal(truncateMetrics(runDir, { epoch: 1, globalStep: 10 }), 4);
  assert.deepEqual(readMetrics(runDir), [train(5, 9), train(10, 8), epoch(1, 8)]);
  assert.equal(truncateMetrics(runDir, { epoch: 1, globalStep: 10 }), 0, 'nothing more to drop');

  // A folder written before resumes dropped anything: the later record of a step or epoch wins, in its place.
  const older = [train(5, 9), epoch(1, 8), { kind: 'resume', epoch: 0, step: 0, time: 't', batch: 0 } as MetricsRecord, train(5, 4), epoch(1, 3)];
  assert.deepEqual(parseMetrics(older.map((record) => JSON.stringify(record)).join('\n')), older.slice(2));
});
