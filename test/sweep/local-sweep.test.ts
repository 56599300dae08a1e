/**
 * A sweep run on this machine: `aexp run --sweep-index` (a finished run is not trained again, a
 * stopped one resumes in its own folder), the queue of `aexp sweep --parallel 2` (two runs at
 * once, finished runs skipped), its status and summary, and Ctrl-C, which leaves every running
 * run stopped with a checkpoint that resumes.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { PNG } from 'pngjs';
import { checkpointFile, readMetrics, readRunSummary } from '../../runtime/run-folder';
import { runQueue } from '../../runtime/sweep/local-queue';
import { readRunProgress } from '../../runtime/sweep/run-progress';
import { CELL_KINDS } from '../../runtime/format/document';
import { acquireRunLock } from '../../runtime/run-lock';
import { expandSweep } from '../../runtime/sweep/expand';
import { sweepRunParent, sweepRunText } from '../../runtime/sweep/sweep-run';
import { waitForChild } from '../helpers/child-wait';
import { temporaryDirectory } from '../helpers/temp';

const root = path.resolve(__dirname, '..', '..');
const aexp = path.join(root, 'bin', 'aexp.js');
const cli = (args: string[]) => spawnSync(process.execPath, [aexp, ...args], { cwd: root, encoding: 'utf8' });
const folder = temporaryDirectory('local-sweep-');

function sweepFile(name: string, epochs: number, sweep: string): string {
  const file = path.join(folder, `${name}.aexp`);
  writeFileSync(file, `---
seed: 4
---
\`\`\`data
dataset: sprites
size: 12
count: 300
batch: 32
\`\`\`

\`\`\`model
kind: vae
latent: 2
encoder: [dense 16 relu]
\`\`\`

\`\`\`train
epochs: ${epochs}
\`\`\`

\`\`\`sweep
${sweep}\`\`\`
`);
  return file;
}

const runFolders = (parent: string) => (existsSync(parent) ? readdirSync(parent).filter((name) => /^\d{8}-\d{6}/.test(name)) : []);

test('a run of a sweep by its index: trained once, then "already finished" in the same folder; aexp sweep --list numbers the runs', () => {
  const file = sweepFile('indexed', 1, 'grid:\n  model.latent: [2, 3]\n');
  const list = cli(['sweep', file, '--list']);
  assert.equal(list.status, 0, list.stderr);
  assert.match(list.stdout, /2 run\(s\)\n {3}0 {2}model\.latent=2\n {3}1 {2}model\.latent=3\n/);
  const parent = path.join(folder, 'indexed-runs');
  const first = cli(['run', file, '--sweep-index', '1', '--out', parent, '--backend', 'cpu']);
  assert.equal(first.status, 0, first.stderr);
  const runDir = first.stdout.trim();
  assert.match(readFileSync(path.join(runDir, 'experiment.aexp'), 'utf8'), /latent: 3/);
  const again = cli(['run', file, '--sweep-index', '1', '--out', parent, '--backend', 'cpu']);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /already finished \(completed\)/);
  assert.equal(again.stdout.trim(), runDir);
  assert.deepEqual(runFolders(parent), [path.basename(runDir)]);
  const outside = cli(['run', file, '--sweep-index', '2', '--out', parent]);
  assert.equal(outside.status, 1);
  assert.match(outside.stderr, /--sweep-index 2: the sweep of .* has runs 0 to 1/);
});

test('the local queue runs two at a time, skips the finished run, and reports status and summary', () => {
  const file = sweepFile('queue', 1, 'grid:\n  model.latent: [2, 3, 4]\nmetric: test.loss\n');
  const runs = path.join(folder, 'queue-runs');
  const done = cli(['run', file, '--sweep-index', '0', '--out', sweepRunParent(runs, file, 0), '--backend', 'cpu']);
  assert.equal(done.status, 0, done.stderr);
  const sweep = cli(['sweep', file, '--parallel', '2', '--out', runs, '--backend', 'cpu']);
  assert.equal(sweep.status, 0, sweep.stderr);
  const lines = sweep.stderr.split('\n');
  assert.ok(lines.some((line) => /^run 0: already finished \(completed\)/.test(line)), sweep.stderr);
  assert.match(sweep.stderr, /2 run\(s\) at a time \(--parallel\)/);
  // Both queued runs start before either ends: two at a time.
  const started = ['run 1: started', 'run 2: started'].map((prefix) => lines.findIndex((line) => line.startsWith(prefix)));
  const ended = lines.findIndex((line) => /^run [12]: completed/.test(line));
  assert.ok(started.every((index) => index >= 0 && index < ended), sweep.stderr);
  assert.match(sweep.stderr, /run [12] \[model\.latent=[34]\]: epoch 1\/1 · loss [\d.]+/);
  assert.match(sweep.stderr, /ETA/);
  for (const index of [0, 1, 2]) {
    const names = runFolders(sweepRunParent(runs, file, index));
    assert.equal(names.length, 1);
    assert.equal(readRunSummary(path.join(sweepRunParent(runs, file, index), names[0]))?.status, 'completed');
  }
  const status = cli(['sweep', file, '--status', '--out', runs]);
  assert.equal(status.status, 0, status.stderr);
  assert.match(status.stdout, /3 run\(s\): 3 completed/);
  const summary = cli(['sweep', file, '--summary', '--out', runs]);
  assert.equal(summary.status, 0, summary.stderr);
  const rows = summary.stdout.trim().split('\n');
  assert.match(rows[0], /^index +model\.latent +state +epochs +test\.loss/);
  const losses = rows.slice(1).map((row) => Number(row.split(/ +/)[4]));
  assert.equal(losses.length, 3);
  assert.deepEqual(losses, [...losses].sort((a, b) => a - b));
  const csv = readFileSync(path.join(runs, '.sweeps', 'queue', 'summary.csv'), 'utf8').trim().split('\n');
  assert.equal(csv.length, 4);
  assert.match(csv[0], /^index,model\.latent,state,epochs,test\.loss/);
});

test('a run that fails in the queue is reported with the reason from its output, the others finish, and the exit status is 1', () => {
  const file = path.join(folder, 'broken.aexp');
  const images = path.join(folder, 'images');
  for (const label of ['a', 'b']) {
    mkdirSync(path.join(images, label), { recursive: true });
    for (let index = 0; index < 4; index++) {
      const png = new PNG({ width: 8, height: 8 });
      png.data.fill(index * 60 + (label === 'a' ? 0 : 20));
      writeFileSync(path.join(images, label, `${index}.png`), PNG.sync.write(png));
    }
  }
  writeFileSync(file, readFileSync(sweepFile('broken', 1, 'grid:\n  data.path: [images, missing]\n'), 'utf8').replace('dataset: sprites\nsize: 12\ncount: 300', 'dataset: folder\npath: images\nsize: 8\nchannels: 1'));
  const runs = path.join(folder, 'broken-runs');
  const sweep = cli(['sweep', file, '--parallel', '2', '--out', runs, '--backend', 'cpu']);
  assert.equal(sweep.status, 1, sweep.stderr);
  assert.match(sweep.stderr, /^run 1: failed \(exit status 1\): aexp: image folder \S*missing does not exist/m);
  assert.match(sweep.stderr, /^run 0: completed/m);
  assert.match(sweep.stderr, /1 failed \(run\(s\) 1\)/);
  const status = cli(['sweep', file, '--status', '--out', runs]);
  assert.match(status.stdout, /^ {3}1 {2}failed +data\.path="missing" {2}aexp: image folder \S*missing does not exist/m);
  assert.match(status.stdout, /2 run\(s\): 1 completed, 1 failed/);
});

test('Ctrl-C stops every running run with a checkpoint, and each resumes from it', async () => {
  const file = sweepFile('interrupted', 400, 'seeds: [1, 2]\n');
  const runs = path.join(folder, 'interrupted-runs');
  const parents = [0, 1].map((index) => sweepRunParent(runs, file, index));
  const child = spawn(process.execPath, [aexp, 'sweep', file, '--parallel', '2', '--out', runs, '--backend', 'cpu'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await waitForChild(() => parents.every((parent) => readRunProgress(parent).epoch >= 1), child, 'both runs to finish an epoch');
  const running = cli(['sweep', file, '--status', '--out', runs]);
  assert.match(running.stdout, /^ {3}0 {2}running +seed=1 {2}pid \d+ on \S+ · epoch \d+\/400$/m);
  assert.match(running.stdout, /2 run\(s\): 2 running/);
  child.kill('SIGINT');
  assert.equal(await exited, 130, stderr);
  assert.match(stderr, /stopping every run with a checkpoint/);
  for (const parent of parents) {
    const progress = readRunProgress(parent);
    assert.equal(progress.summary?.status, 'stopped', stderr);
    assert.ok(existsSync(checkpointFile(progress.runDir!, 'last')));
  }
  const status = cli(['sweep', file, '--status', '--out', runs]);
  assert.match(status.stdout, /2 run\(s\): 2 stopped/);
  // Resumed through the sweep's own index, in its own folder, to one epoch past where it stopped.
  const stopped = readRunProgress(parents[0]);
  const resumed = cli(['run', file, '--sweep-index', '0', '--out', parents[0], '--epochs', String(stopped.summary!.epochs + 1), '--backend', 'cpu']);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.equal(resumed.stdout.trim(), stopped.runDir);
  assert.match(resumed.stderr, /resuming at epoch/);
  assert.ok(readMetrics(stopped.runDir!).some((record) => record.kind === 'resume'));
  assert.equal(readRunSummary(stopped.runDir!)?.status, 'completed');
});

test('a queue killed outright leaves its runs to stop with a checkpoint, not to train on unseen', async () => {
  const file = sweepFile('orphaned', 400, 'seeds: [1]\n');
  const runs = path.join(folder, 'orphaned-runs');
  const parent = sweepRunParent(runs, file, 0);
  const child = spawn(process.execPath, [aexp, 'sweep', file, '--parallel', '1', '--out', runs, '--backend', 'cpu'], { cwd: root, stdio: 'ignore' });
  await waitForChild(() => readRunProgress(parent).epoch >= 1, child, 'the run to finish an epoch');
  child.kill('SIGKILL');
  const started = Date.now();
  while (readRunProgress(parent).summary?.status !== 'stopped') {
    assert.ok(Date.now() - started < 60_000, 'the run did not stop after its queue was killed');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.ok(existsSync(checkpointFile(readRunProgress(parent).runDir!, 'last')));
});

test('a sweep run another process is training (its lock is live) is neither started again nor resumed, by --sweep-index or the queue', () => {
  const file = sweepFile('locked', 1, 'grid:\n  model.latent: [2]\n');
  const parent = sweepRunParent(path.join(folder, 'locked-runs'), file, 0);
  // The run's folder as a process training it leaves it before its first checkpoint: its experiment and a live lock.
  const runDir = path.join(parent, '20261130-000000');
  mkdirSync(runDir, { recursive: true });
  writeFileSync(path.join(runDir, 'experiment.aexp'), sweepRunText(readFileSync(file, 'utf8'), file, expandSweep({ grid: { 'model.latent': [2] } }, CELL_KINDS)[0]));
  const lock = acquireRunLock(runDir);
  try {
    const again = cli(['run', file, '--sweep-index', '0', '--out', parent]);
    assert.equal(again.status, 1, again.stderr);
    assert.match(again.stderr, new RegExp(`sweep run 0 is being trained by pid ${process.pid} on .* in ${runDir.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}; it is not started a second time`));
    assert.deepEqual(readdirSync(parent), ['20261130-000000'], 'no second run folder');
    const queue = cli(['sweep', file, '--out', path.join(folder, 'locked-runs')]);
    assert.equal(queue.status, 0, queue.stderr);
    assert.match(queue.stderr, /run 0: being trained by pid \d+ on .*; not started again/);
    assert.deepEqual(readdirSync(parent), ['20261130-000000']);
  } finally {
    lock.release();
  }
});

test('a run whose process cannot be started fails with the reason, and the queue goes on to the next', async () => {
  const file = sweepFile('unstartable', 1, 'grid:\n  model.latent: [2, 3]\n');
  const text = readFileSync(file, 'utf8');
  const said: string[] = [];
  const execPath = process.execPath;
  // No such program: spawning it fails with an 'error' event and no 'exit'.
  Object.defineProperty(process, 'execPath', { value: path.join(folder, 'no-such-node'), configurable: true, writable: true });
  try {
    const result = await runQueue({
      file,
      text,
      runs: expandSweep({ grid: { 'model.latent': [2, 3] } }, CELL_KINDS),
      runsFolder: path.join(folder, 'unstartable-runs'),
      sweepFolder: path.join(folder, 'unstartable-runs', '.sweeps', 'unstartable'),
      concurrency: { parallel: 1, threads: 1, reason: '' },
      cli: aexp,
      childArguments: [],
      signal: new AbortController().signal,
      say: (line) => said.push(line),
      progress: () => {},
    });
    assert.deepEqual(result.failed.map((failure) => failure.index), [0, 1]);
    assert.match(said.join('\n'), /run 0: failed to start: spawn .*no-such-node ENOENT\nrun 1: started/);
  } finally {
    Object.defineProperty(process, 'execPath', { value: execPath, configurable: true, writable: true });
  }
});

test('a run whose summary.json is half-written is not taken as finished: the queue resumes it and writes the summary whole', () => {
  const file = sweepFile('torn', 1, 'grid:\n  model.latent: [2]\n');
  const runs = path.join(folder, 'torn-runs');
  const parent = sweepRunParent(runs, file, 0);
  const trained = cli(['run', file, '--sweep-index', '0', '--out', parent, '--backend', 'cpu']);
  assert.equal(trained.status, 0, trained.stderr);
  const runDir = trained.stdout.trim();
  const summaryFile = path.join(runDir, 'summary.json');
  const whole = readFileSync(summaryFile, 'utf8');
  // As a writer killed mid-write leaves it (one that writes in place, as versions before atomic writes did).
  writeFileSync(summaryFile, whole.slice(0, Math.floor(whole.length / 2)));
  const sweep = cli(['sweep', file, '--out', runs, '--backend', 'cpu']);
  assert.equal(sweep.status, 0, sweep.stderr);
  assert.doesNotMatch(sweep.stderr, /run 0: already finished/);
  assert.match(sweep.stderr, /run 0: started/);
  assert.deepEqual(runFolders(parent), [path.basename(runDir)], 'resumed in its own folder, not trained again in a new one');
  assert.equal(readRunSummary(runDir)?.status, 'completed');
});
