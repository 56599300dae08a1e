/** The Runs panel's index: run folders read into rows, the config keys that differ, the CSV. */
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { continueRefusal, differingKeys, flattenConfig, listRuns, parsePageMessage, runsCsv } from '../../extension/runs-index';
import { acquireRunLock } from '../../runtime/run-lock';
import { temporaryDirectory } from '../helpers/temp';
import { writeRun } from '../helpers/written-runs';

const start = (minute: number) => new Date(Date.UTC(2026, 10, 1, 12, minute, 0));

test('every run folder under the runs folders becomes a row, newest first, with its status, times, backend and test metrics', async () => {
  const root = temporaryDirectory();
  const finished = writeRun(root, { experiment: 'vae', start: start(1), status: 'completed', epochs: 2 });
  const diverged = writeRun(root, { experiment: 'vae', start: start(2), status: 'diverged' });
  const killed = writeRun(root, { experiment: 'other', start: start(3), epochs: 2 });
  const running = writeRun(root, { experiment: 'other', start: start(4), epochs: 1 });
  const lock = acquireRunLock(running);
  try {
    // Not run folders: a folder not named as newRunDir names them, and a link to a run folder.
    mkdirSync(path.join(root, 'vae', 'notes'));
    symlinkSync(finished, path.join(root, 'vae', '20261101-120900'));
    const rows = await listRuns([root]);
    assert.deepEqual(rows.map((row) => row.runDir), [running, killed, diverged, finished]);
    assert.deepEqual(rows.map((row) => row.status), ['running', 'interrupted', 'diverged', 'completed']);
    const done = rows[3];
    assert.equal(done.experiment, 'vae');
    assert.equal(done.startedAt, '2026-11-01T12:01:00Z');
    assert.equal(done.durationSeconds, 20);
    assert.equal(done.backend, 'cpu');
    assert.equal(done.device, 'JavaScript');
    assert.equal(done.units, 'nats');
    assert.equal(done.epochs, 2);
    assert.ok(done.test && done.best && done.best.epoch === 2 && done.best.loss === done.test.loss);
    // Without a summary, the metrics say how far it got and its best epoch.
    assert.equal(rows[1].epochs, 2);
    assert.equal(rows[1].best?.epoch, 2);
    assert.equal(rows[1].durationSeconds, 19);
  } finally {
    lock.release();
  }
  assert.equal((await listRuns([root])).find((row) => row.runDir === running)?.status, 'interrupted', 'a released lock is no longer running');
});

test('a run folder whose config.json is damaged is listed, naming the file', async () => {
  const root = temporaryDirectory();
  const runDir = writeRun(root, { experiment: 'vae', start: start(1), status: 'completed' });
  writeFileSync(path.join(runDir, 'config.json'), '{"seed": 1,');
  const [row] = await listRuns([root]);
  assert.equal(row.status, 'completed');
  assert.match(row.problem ?? '', new RegExp(`${path.join(runDir, 'config.json').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*JSON`));
  assert.deepEqual(row.config, {});
});

test('runs written by the CLI straight into a folder (--out) are listed under that folder\'s name', async () => {
  const root = temporaryDirectory();
  const runDir = writeRun(root, { experiment: 'sweep', start: start(5), status: 'completed' });
  const rows = await listRuns([path.join(root, 'sweep'), root]);
  assert.deepEqual(rows.map((row) => [row.runDir, row.experiment]), [[runDir, 'sweep']], 'listed once though two roots reach it');
});

test('only the config keys that differ between the runs are columns', () => {
  const config = (lr: number, seed: number, encoder: string[]) => ({ config: flattenConfig({ version: 1, sourceFile: `/x/${lr}.aexp`, configHash: String(lr), seed, data: { dataset: 'mnist', batch: 128 }, model: { kind: 'vae', encoder }, train: { lr, epochs: 10 } }) });
  assert.deepEqual(Object.keys(config(1, 1, []).config).sort(), ['data.batch', 'data.dataset', 'model.encoder', 'model.kind', 'seed', 'train.epochs', 'train.lr']);
  assert.deepEqual(differingKeys([config(0.1, 1, ['dense 64']), config(0.01, 1, ['dense 64'])]), ['train.lr']);
  assert.deepEqual(differingKeys([config(0.1, 1, ['dense 64']), config(0.1, 2, ['dense 32'])]), ['seed', 'model.encoder']);
  assert.deepEqual(differingKeys([config(0.1, 1, [])]), [], 'one run differs from nothing');
  assert.deepEqual(differingKeys([config(0.1, 1, []), { config: { ...config(0.1, 1, []).config, 'model.beta': 4 } }]), ['model.beta'], 'a key one run lacks differs');
});

test('the table as CSV: one line per run, the differing config keys as columns, fields quoted where they need it', async () => {
  const root = temporaryDirectory();
  writeRun(root, { experiment: 'a,b "quoted"', start: start(1), status: 'completed', lr: 0.01 });
  writeRun(root, { experiment: 'plain', start: start(2), status: 'stopped', lr: 0.001 });
  const rows = await listRuns([root]);
  const keys = differingKeys(rows);
  assert.ok(keys.includes('train.lr'), keys.join());
  const lines = runsCsv(rows, keys).split('\r\n');
  assert.equal(lines.length, 4, 'header, two runs, and the final line break');
  assert.equal(lines[0].split(',').at(-keys.length - 1), 'best_epoch');
  assert.ok(lines[1].startsWith('plain,plain,'), lines[1]);
  assert.ok(lines[2].startsWith('"a,b ""quoted""","a,b ""quoted""",'), lines[2]);
  assert.equal(lines[1].split(',').at(keys.indexOf('train.lr') - keys.length), '0.001');
});

test('50 run folders are listed', async () => {
  const root = temporaryDirectory();
  for (let index = 0; index < 50; index++) writeRun(root, { experiment: `experiment-${index % 5}`, start: start(index), status: 'completed', lr: 0.001 * (1 + index) });
  const rows = await listRuns([root]);
  assert.equal(rows.length, 50);
  assert.deepEqual(differingKeys(rows), ['train.lr']);
});

test('the page\'s messages are checked: runs must be ones the host listed, anything else is dropped', () => {
  const known = new Set(['/runs/a/20261101-120000', '/runs/a/20261101-120100']);
  const [first, second] = known;
  assert.deepEqual(parsePageMessage({ type: 'ready' }, known), { type: 'ready' });
  assert.deepEqual(parsePageMessage({ type: 'select', runs: [first, second, first] }, known), { type: 'select', runs: [first, second] });
  assert.equal(parsePageMessage({ type: 'select', runs: [first, '/etc'] }, known), undefined);
  assert.equal(parsePageMessage({ type: 'select', runs: first }, known), undefined);
  assert.deepEqual(parsePageMessage({ type: 'action', action: 'delete', run: first }, known), { type: 'action', action: 'delete', run: first });
  assert.equal(parsePageMessage({ type: 'action', action: 'delete', run: '/home' }, known), undefined, 'a folder the host did not list is never deleted');
  assert.equal(parsePageMessage({ type: 'action', action: 'format', run: first }, known), undefined);
  assert.deepEqual(parsePageMessage({ type: 'viewsEpoch', epoch: 3 }, known), { type: 'viewsEpoch', epoch: 3 });
  assert.equal(parsePageMessage({ type: 'viewsEpoch', epoch: -1 }, known), undefined);
  assert.equal(parsePageMessage({ type: 'viewsEpoch', epoch: 1.5 }, known), undefined);
  assert.deepEqual(parsePageMessage({ type: 'exportCsv', runs: [second], keys: ['train.lr'] }, known), { type: 'exportCsv', runs: [second], keys: ['train.lr'] });
  assert.equal(parsePageMessage({ type: 'exportCsv', runs: [second], keys: [7] }, known), undefined);
  for (const junk of [null, 'ready', 7, [], { type: 'unknown' }, { type: '__proto__' }]) assert.equal(parsePageMessage(junk, known), undefined, JSON.stringify(junk));
});

test('Continue Training applies to an experiment\'s newest run once it has ended, while its file is there', async () => {
  const root = temporaryDirectory();
  const source = path.join(root, 'vae.aexp');
  writeFileSync(source, '');
  const older = writeRun(root, { experiment: 'vae', start: start(1), status: 'completed', sourceFile: source });
  const newest = writeRun(root, { experiment: 'vae', start: start(2), status: 'stopped', sourceFile: source });
  const gone = writeRun(root, { experiment: 'gone', start: start(3), status: 'stopped', sourceFile: path.join(root, 'gone.aexp') });
  const rows = await listRuns([root]);
  const rowOf = (runDir: string) => rows.find((row) => row.runDir === runDir)!;
  const exists = (file: string) => file === source;
  assert.equal(continueRefusal(rowOf(newest), rows, exists), undefined);
  assert.match(continueRefusal(rowOf(older), rows, exists) ?? '', /newest run, and vae\.aexp has a newer one \(2026-11-01T12:02:00Z\)/);
  assert.match(continueRefusal(rowOf(gone), rows, exists) ?? '', /gone\.aexp is gone/);
  assert.match(continueRefusal({ ...rowOf(newest), status: 'running' }, rows, exists) ?? '', /training now/);
});
