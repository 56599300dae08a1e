/** The run folder's layout and formats, as runtime/run-folder.ts reads and writes them for the engine, the CLI and the extension. */
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { MetricsRecord, RunSummary } from '../../runtime/protocol';
import { MetricsLog, checkRunFolderEntries, checkpointFile, epochCheckpointName, findReusableRun, imageFile, isRunFolderName, newRunDir, newestRunFolder, parseMetrics, readMetrics, readRunConfig, runFile, truncateMetrics, writeRunConfig, writeRunOutputs, writeRunSummary } from '../../runtime/run-folder';
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

test('only folders named as newRunDir names them, for a real time not over a day ahead, are runs: a repository cannot pin the newest', async () => {
  const now = new Date('2026-06-01T12:00:00Z');
  assert.ok(isRunFolderName('20260601-120000', now));
  assert.ok(isRunFolderName('20260601-120000-12', now));
  assert.ok(isRunFolderName('20260602-115959', now), 'a clock a little ahead is forgiven');
  for (const name of ['zzz', '99999999-999999', '20260603-120001', '20261301-000000', '20260230-000000', '20260601-246000', '20260601-120000-', '20260601-120000-x', ' 20260601-120000', '2026060-1120000']) assert.equal(isRunFolderName(name, now), false, name);

  const parent = temporaryDirectory();
  const real = newRunDir(parent, new Date(Date.now() - 60_000));
  const future = newRunDir(parent, new Date(Date.now() + 3 * 24 * 60 * 60 * 1000));
  const planted = [path.join(parent, 'zzz'), path.join(parent, '99999999-999999'), future];
  for (const runDir of [real, ...planted]) {
    mkdirSync(runDir, { recursive: true });
    writeRunConfig(runDir, config('same'));
    writeRunSummary(runDir, summary);
    mkdirSync(path.dirname(checkpointFile(runDir, 'last')), { recursive: true });
    writeFileSync(checkpointFile(runDir, 'last'), '');
  }
  assert.equal(await newestRunFolder(parent), real);
  assert.equal(findReusableRun(parent, { configHash: 'same', backend: 'wasm', dataDir: '/data' })?.runDir, real);
});

test('runs of one second sort by their suffix as a number: -10 is newer than -9', async () => {
  const parent = temporaryDirectory();
  const second = new Date(Date.now() - 60_000);
  const folders = Array.from({ length: 10 }, () => newRunDir(parent, second));
  for (const runDir of folders) writeRunConfig(runDir, config('same'));
  assert.equal(path.basename(folders[9]).split('-')[2], '10');
  assert.equal(await newestRunFolder(parent), folders[9]);
});

test('a run folder whose entries are links or of the wrong kind is refused in one line naming the entry; metrics.jsonl is never appended through a link', () => {
  const outside = path.join(temporaryDirectory(), 'outside.txt');
  writeFileSync(outside, 'kept');
  const linked = (entry: string) => {
    const runDir = temporaryDirectory();
    writeRunConfig(runDir, config('abc'));
    mkdirSync(path.join(runDir, 'images', 'nested'), { recursive: true });
    mkdirSync(path.join(runDir, 'model', 'encoder'), { recursive: true });
    mkdirSync(path.join(runDir, 'views'), { recursive: true });
    writeFileSync(path.join(runDir, 'model', 'encoder', 'model.json'), '{}');
    checkRunFolderEntries(runDir);
    const file = path.join(runDir, entry);
    rmSync(file, { recursive: true, force: true });
    symlinkSync(outside, file);
    return { runDir, file };
  };
  for (const entry of ['metrics.jsonl', 'config.json', 'lock.json', 'images', 'images/nested/epoch-001-samples.png', 'checkpoints', 'model/encoder/model.json', 'views', 'views/epoch-0001.bin']) {
    const { runDir, file } = linked(entry);
    assert.throws(() => checkRunFolderEntries(runDir), (error: Error) => error.message === `${file}: a symbolic link; refusing to write through it (a run folder holds only its own files and folders)`, entry);
  }
  const { runDir } = linked('metrics.jsonl');
  assert.throws(() => new MetricsLog(runDir), /ELOOP/);
  assert.equal(readFileSync(outside, 'utf8'), 'kept');

  const wrongKind = temporaryDirectory();
  mkdirSync(path.join(wrongKind, 'summary.json'));
  assert.throws(() => checkRunFolderEntries(wrongKind), (error: Error) => error.message === `${path.join(wrongKind, 'summary.json')}: not a regular file; refusing to use it`);
  rmSync(path.join(wrongKind, 'summary.json'), { recursive: true });
  writeFileSync(path.join(wrongKind, 'images'), '');
  assert.throws(() => checkRunFolderEntries(wrongKind), (error: Error) => error.message === `${path.join(wrongKind, 'images')}: not a folder; refusing to use it`);
});
