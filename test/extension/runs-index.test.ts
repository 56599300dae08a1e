/** The Runs panel's index: run folders read into rows, the config keys that differ, the CSV. */
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { continueRefusal, differingKeys, flattenConfig, listRuns, parsePageMessage, runChoiceLabels, runsCsv, sweepGroups } from '../../extension/runs-index';
import { acquireRunLock } from '../../runtime/run-lock';
import { temporaryDirectory } from '../helpers/temp';
import { writeRun } from '../helpers/written-runs';
import { writeSweep } from '../helpers/written-sweep';

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
  assert.deepEqual(differingKeys([config(0.1, 1, []), { config: { ...config(0.1, 1, []).config, 'data.seed': 4 } }]), ['data.seed'], 'a key one run lacks differs');
});

test('a model key that does not apply to a run\'s kind is absent for it, and differs from nothing', async () => {
  // As config.json stores them: every model default whatever the kind.
  const defaults = { beta: 4, sparsity: 1, noise: 0.3, mask_ratio: 0.75, kl_warmup: 0 };
  const root = temporaryDirectory();
  const [seven, eight, betaTwo, betaFour] = [
    { seed: 7, kind: 'vae', model: defaults },
    { seed: 8, kind: 'vae', model: defaults },
    { seed: 7, kind: 'beta-vae', model: { ...defaults, beta: 2 } },
    { seed: 7, kind: 'beta-vae', model: defaults },
  ].map((run, index) => writeRun(root, { experiment: 'vae-mnist', start: start(index), status: 'completed', ...run }));
  const rows = await listRuns([root]);
  const rowOf = (runDir: string) => rows.find((row) => row.runDir === runDir)!;
  assert.equal(rowOf(seven).config['model.beta'], undefined, 'a plain vae has no beta');
  assert.equal(rowOf(seven).config['model.sparsity'], undefined);
  assert.equal(rowOf(seven).config['model.kl_warmup'], 0, 'kl_warmup applies to a vae');
  assert.equal(rowOf(betaTwo).config['model.beta'], 2);
  assert.equal(rowOf(betaTwo).config['model.noise'], undefined);
  assert.deepEqual(differingKeys([rowOf(seven), rowOf(eight)]), ['seed']);
  assert.deepEqual(differingKeys([rowOf(seven), rowOf(eight), rowOf(betaTwo)]), ['seed', 'model.kind'], 'beta applies to one of them only');
  assert.deepEqual(differingKeys([rowOf(seven), rowOf(betaTwo), rowOf(betaFour)]), ['model.beta', 'model.kind'], 'between the beta-vae runs, beta differs');
  // Rows as they are written, before the panel drops what does not apply: the same answer.
  const raw = (kind: string, beta: number) => ({ config: flattenConfig({ seed: 1, model: { kind, ...defaults, beta } }) });
  assert.deepEqual(differingKeys([raw('vae', 4), raw('vae', 3)]), [], 'a vae\'s beta is no difference');
  assert.deepEqual(differingKeys([raw('vae', 4), raw('beta-vae', 4)]), ['model.kind']);
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

test('a sweep\'s runs are listed under its group: runs done of its total, the best metric, its swept keys, log-uniform ones marked', async () => {
  const workspace = temporaryDirectory();
  const runsRoot = path.join(workspace, '.aexp', 'runs');
  const runsFolder = path.join(runsRoot, 'tiny');
  const sweep = writeSweep(workspace, 'tiny', runsFolder, start(10), (index) => (index === 3 ? undefined : 'completed'));
  // An older run folder of run 0 (it trained another text): listed, but not what the sweep counts.
  const older = writeRun(path.join(runsFolder), { experiment: 'tiny-sweep-0000', start: start(1), status: 'completed', lr: 1, sourceFile: sweep.file });
  const plain = writeRun(runsRoot, { experiment: 'tiny', start: start(2), status: 'completed' });
  for (const roots of [[runsRoot], [runsFolder]]) {
    const rows = await listRuns(roots);
    const members = rows.filter((row) => row.sweep?.id === sweep.folder);
    assert.deepEqual(members.map((row) => row.runDir).sort(), [...sweep.runDirs, older].sort(), roots.join());
    assert.ok(members.every((row) => row.experiment === 'tiny'), 'a sweep run is listed under its experiment');
    assert.deepEqual(members.filter((row) => row.sweep!.newest).map((row) => row.sweep!.index).sort(), [0, 1, 2, 3]);
    assert.equal(members.find((row) => row.runDir === older)!.sweep!.newest, false);
    if (roots[0] === runsRoot) assert.equal(rows.find((row) => row.runDir === plain)?.sweep, undefined, 'a run outside the sweep is not in it');
    const groups = await sweepGroups(rows);
    assert.equal(groups.length, 1);
    const [group] = groups;
    assert.equal(group.problem, undefined);
    assert.deepEqual({ id: group.id, name: group.name, total: group.total, done: group.done, metric: group.metric, keys: group.keys, logKeys: group.logKeys }, { id: sweep.folder, name: 'tiny', total: 4, done: 3, metric: 'test.loss', keys: ['train.lr', 'seed'], logKeys: ['train.lr'] });
    const newest = members.filter((row) => row.sweep!.newest);
    const finished = newest.filter((row) => row.status === 'completed');
    const lowest = Math.min(...finished.map((row) => row.test!.loss));
    assert.equal(group.best?.value, lowest);
    assert.equal(group.best?.run, finished.find((row) => row.test!.loss === lowest)!.runDir);
    assert.ok(newest.every((row) => row.sweep!.metric === (row.sweep!.index === 3 ? undefined : row.test!.loss)), 'each finished run carries its metric for the plot; the one still going has none yet');
    for (const [index, run] of sweep.runs.entries()) {
      const row = members.find((candidate) => candidate.runDir === sweep.runDirs[index])!;
      assert.equal(row.config['train.lr'], run.overrides[0][1], 'the swept key is a config column of the run');
      assert.equal(row.config.seed, run.seed);
    }
  }
});

test('a sweep whose sweep.json is damaged is still a group, naming the file', async () => {
  const workspace = temporaryDirectory();
  const runsFolder = path.join(workspace, 'runs');
  const sweep = writeSweep(workspace, 'tiny', runsFolder, start(10), () => 'completed');
  writeFileSync(path.join(sweep.folder, 'sweep.json'), '{"runs": [');
  const groups = await sweepGroups(await listRuns([runsFolder]));
  assert.equal(groups.length, 1);
  assert.equal(groups[0].total, 4, 'the runs found count when sweep.json cannot say');
  assert.match(groups[0].problem ?? '', /sweep\.json: .*JSON/);
});

test('the explorer\'s run picker names runs apart: title, start to the second, then what differs within the experiment', () => {
  const row = (runDir: string, experiment: string, startedAt: string, config: Record<string, string | number>) => ({ runDir, experiment, title: `${experiment} title`, startedAt, config });
  const labels = runChoiceLabels([
    row('/runs/vae/a', 'vae', '2026-11-30T09:39:05.000Z', { seed: 7, 'train.lr': 0.001, 'model.kind': 'vae' }),
    row('/runs/vae/b', 'vae', '2026-11-30T09:39:48.000Z', { seed: 8, 'train.lr': 0.001, 'model.kind': 'vae' }),
    row('/runs/other/c', 'other', '2026-11-30T10:00:00.000Z', { seed: 1, 'model.kind': 'ae' }),
  ]);
  assert.equal(labels.get('/runs/vae/a'), 'vae title · 2026-11-30 09:39:05 · seed 7');
  assert.equal(labels.get('/runs/vae/b'), 'vae title · 2026-11-30 09:39:48 · seed 8');
  assert.equal(labels.get('/runs/other/c'), 'other title · 2026-11-30 10:00:00', 'a lone run of its experiment: nothing to tell apart');
});
