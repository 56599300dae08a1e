/**
 * The sweep's folder: the copy of the CLI bundle (a newer build replaces each file by rename, so a
 * task still running keeps the file it loaded), and jobs.json under submissions made at once.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { copyCliBundle, readJobs, recordJob } from '../../runtime/sweep/sweep-folder';
import { HOST_IDENTITY, HOST_NAME } from '../../runtime/util/host';
import { temporaryDirectory } from '../helpers/temp';

const recorderScript = path.join(__dirname, '..', 'helpers', 'record-jobs.ts');

test('a rebuilt bundle replaces the copied files by rename, never in place; an unchanged one is not copied again', () => {
  const folder = temporaryDirectory('sweep-folder-');
  const runtime = path.join(folder, 'dist', 'runtime');
  mkdirSync(runtime, { recursive: true });
  mkdirSync(path.join(folder, 'dist', 'native'));
  writeFileSync(path.join(runtime, 'cli.js'), 'first build');
  writeFileSync(path.join(runtime, 'cli.js.map'), 'a source map stays behind');
  writeFileSync(path.join(folder, 'dist', 'native', 'addon.node'), 'first addon');
  const sweep = path.join(folder, 'sweep');
  const cli = copyCliBundle(runtime, sweep);
  assert.equal(readFileSync(cli, 'utf8'), 'first build');
  const addon = path.join(path.dirname(cli), '..', 'native', 'addon.node');
  const before = { cli: statSync(cli).ino, addon: statSync(addon).ino };
  copyCliBundle(runtime, sweep);
  assert.deepEqual({ cli: statSync(cli).ino, addon: statSync(addon).ino }, before, 'unchanged files are kept');

  writeFileSync(path.join(runtime, 'cli.js'), 'second build');
  const later = new Date(Date.now() + 5000);
  utimesSync(path.join(runtime, 'cli.js'), later, later);
  copyCliBundle(runtime, sweep);
  assert.equal(readFileSync(cli, 'utf8'), 'second build');
  // A new file took the name: whoever had the old one open (a running task) still reads the first build.
  assert.notEqual(statSync(cli).ino, before.cli);
  assert.equal(statSync(addon).ino, before.addon);
});

test('two processes recording jobs in one sweep folder at the same time keep every job id', async () => {
  const folder = path.join(temporaryDirectory('sweep-jobs-'), '.sweeps', 'tiny');
  const count = 100;
  const recorders = ['first', 'second'].map((prefix) => {
    const child = spawn(process.execPath, ['--import', 'tsx', recorderScript, folder, prefix, String(count)], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    return { child, next: async () => ((await lines.next()).value as string | undefined) };
  });
  for (const recorder of recorders) assert.equal(await recorder.next(), 'ready');
  // Both start only once both are loaded, so their read-modify-writes of jobs.json overlap.
  for (const recorder of recorders) recorder.child.stdin!.write('go\n');
  for (const recorder of recorders) {
    assert.equal(await recorder.next(), 'done');
    if (recorder.child.exitCode === null) await once(recorder.child, 'exit');
  }
  const ids = readJobs(folder).map((job) => job.jobId);
  const expected = ['first', 'second'].flatMap((prefix) => Array.from({ length: count }, (_, index) => `${prefix}-${index}`));
  assert.deepEqual([...ids].sort(), [...expected].sort(), `jobs.json lost ${expected.length - new Set(ids).size} of ${expected.length} job ids`);
  // Each process's own jobs stay in the order it recorded them.
  for (const prefix of ['first', 'second']) assert.deepEqual(ids.filter((id) => id.startsWith(`${prefix}-`)), expected.filter((id) => id.startsWith(`${prefix}-`)));
});

test('a lock left in the sweep folder by a submission that died does not stop the next one recording its job', () => {
  const folder = path.join(temporaryDirectory('sweep-jobs-'), '.sweeps', 'tiny');
  mkdirSync(folder, { recursive: true });
  const dead = spawnSync(process.execPath, ['-e', '']).pid!;
  writeFileSync(path.join(folder, 'lock.json'), JSON.stringify({ host: HOST_NAME, hostId: HOST_IDENTITY, pid: dead, startedAt: new Date().toISOString(), token: 'abc123' }));
  recordJob(folder, { jobId: '41', indices: [0], submitted: new Date().toISOString(), script: 'sweep.sbatch' });
  assert.deepEqual(readJobs(folder).map((job) => job.jobId), ['41']);
  assert.ok(!existsSync(path.join(folder, 'lock.json')), 'the lock is released once the job is recorded');
});

test('a damaged jobs.json is moved aside, not written over: the job ids in it are kept, and the new job is recorded', () => {
  const folder = path.join(temporaryDirectory('sweep-jobs-'), '.sweeps', 'tiny');
  mkdirSync(folder, { recursive: true });
  const damaged = '[{"jobId": "40", "indices": [0]}, {"jobId": "41", "ind';
  writeFileSync(path.join(folder, 'jobs.json'), damaged);
  const note = recordJob(folder, { jobId: '42', indices: [1], submitted: new Date().toISOString(), script: 'sweep.sbatch' });
  assert.match(note ?? '', /jobs\.json: not JSON .*; moved to .*jobs\.json\.damaged-/);
  assert.deepEqual(readJobs(folder).map((job) => job.jobId), ['42']);
  const aside = readdirSync(folder).filter((name) => name.startsWith('jobs.json.damaged-'));
  assert.equal(aside.length, 1, 'the damaged file is kept beside the new list');
  assert.equal(readFileSync(path.join(folder, aside[0]), 'utf8'), damaged, 'byte for byte');
  writeFileSync(path.join(folder, 'jobs.json'), JSON.stringify([{ jobId: '43', indices: [2] }, { jobId: 44 }]));
  assert.match(recordJob(folder, { jobId: '45', indices: [3], submitted: new Date().toISOString(), script: 'sweep.sbatch' }) ?? '', /entry 1 is not a job/);
  assert.equal(recordJob(folder, { jobId: '46', indices: [4], submitted: new Date().toISOString(), script: 'sweep.sbatch' }), undefined, 'a whole list is added to without a word');
  assert.deepEqual(readJobs(folder).map((job) => job.jobId), ['45', '46']);
});
