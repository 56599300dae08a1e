/**
 * Sweeps on a real Slurm (test/helpers/slurm-cluster.ts starts one on this machine): a 4-run sweep
 * submitted as a job array lands in four complete run folders, and --status and --summary report
 * them; a sweep with a run that fails at run time reports that run's failure with the reason from
 * its task's output; resubmitting submits only the unfinished run, and --cancel cancels it.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { PNG } from 'pngjs';
import { checkpointFile, readRunSummary } from '../../runtime/run-folder';
import { readRunProgress } from '../../runtime/sweep/run-progress';
import { readJobs } from '../../runtime/sweep/sweep-folder';
import { sweepRunParent } from '../../runtime/sweep/sweep-run';
import type { SlurmCluster } from '../helpers/slurm-cluster';
import { useSlurmCluster } from '../helpers/slurm-cluster';
import { temporaryDirectory } from '../helpers/temp';

const root = path.resolve(__dirname, '..', '..');
const aexp = path.join(root, 'bin', 'aexp.js');
const folder = temporaryDirectory('slurm-sweep-');
const runs = path.join(folder, 'runs');
const slurm = useSlurmCluster();

const cli = (args: string[]) => spawnSync(process.execPath, [aexp, ...args], { cwd: folder, encoding: 'utf8', env: (slurm() as SlurmCluster).env });
const slurmArguments = ['--out', runs, '--backend', 'cpu', '--data-dir', folder, '--cpus-per-task', '1', '--time', '10'];

function experiment(name: string, data: string, sweep: string): string {
  const file = path.join(folder, `${name}.aexp`);
  writeFileSync(file, `---\nseed: 6\n---\n\`\`\`data\n${data}batch: 32\n\`\`\`\n\n\`\`\`model\nkind: vae\nlatent: 2\nencoder: [dense 16 relu]\n\`\`\`\n\n\`\`\`train\nepochs: 1\n\`\`\`\n\n\`\`\`sweep\n${sweep}\`\`\`\n`);
  return file;
}

/** A small image folder: two labels, twelve 12×12 grey images each. */
function imageFolder(): string {
  const images = path.join(folder, 'images');
  for (const label of ['a', 'b']) {
    mkdirSync(path.join(images, label), { recursive: true });
    for (let index = 0; index < 12; index++) {
      const png = new PNG({ width: 12, height: 12, colorType: 0, inputColorType: 0, inputHasAlpha: false });
      png.data = Buffer.from(Array.from({ length: 144 }, (_, pixel) => ((pixel * (index + 3) + (label === 'a' ? 0 : 97)) * 37) % 256));
      writeFileSync(path.join(images, label, `${index}.png`), PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false }));
    }
  }
  return images;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > 120_000) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function waitUntilIdle(jobIds: string[]): Promise<void> {
  const started = Date.now();
  for (;;) {
    const queue = spawnSync('squeue', ['-h', '-r', '-o', '%i %T', '-j', jobIds.join(',')], { encoding: 'utf8', env: (slurm() as SlurmCluster).env });
    if (queue.status === 0 && queue.stdout.trim() === '') return;
    if (Date.now() - started > 150_000) throw new Error(`the jobs did not end: ${queue.stdout}${queue.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

test('a sweep submitted to Slurm runs as a job array into one runs folder, and its status, summary, resubmission and cancel report and act on each run', async (context) => {
  const cluster = slurm();
  if (typeof cluster === 'string') return context.skip(cluster);
  const sweep = experiment('beta', 'dataset: sprites\nsize: 12\ncount: 300\n', 'grid:\n  model.latent: [2, 3]\nseeds: [1, 2]\nmetric: test.loss\n');
  imageFolder();
  const failing = experiment('broken', 'dataset: folder\npath: images\nsize: 12\nchannels: 1\n', 'grid:\n  data.path: [images, missing]\n');

  const dry = cli(['sweep', sweep, '--slurm', '--dry-run', '--max-parallel', '3', ...slurmArguments]);
  assert.equal(dry.status, 0, dry.stderr);
  assert.match(dry.stdout, /^#SBATCH --array=0-3%3$/m);
  assert.match(dry.stderr, /not submitted \(--dry-run\)/);

  const submitted = cli(['sweep', sweep, '--slurm', ...slurmArguments]);
  assert.equal(submitted.status, 0, submitted.stderr);
  const jobId = submitted.stdout.trim();
  assert.match(jobId, /^\d+$/);
  const sweepFolder = path.join(runs, '.sweeps', 'beta');
  assert.deepEqual(JSON.parse(readFileSync(path.join(sweepFolder, 'jobs.json'), 'utf8')).map((job: { jobId: string; indices: number[] }) => [job.jobId, job.indices]), [[jobId, [0, 1, 2, 3]]]);
  assert.ok(existsSync(path.join(sweepFolder, 'bundle', 'runtime', 'cli.js')));
  assert.match(readFileSync(path.join(sweepFolder, 'sweep.sbatch'), 'utf8'), new RegExp(`'${path.join(sweepFolder, 'bundle', 'runtime', 'cli.js')}' run`));
  const failingJob = cli(['sweep', failing, '--slurm', ...slurmArguments]);
  assert.equal(failingJob.status, 0, failingJob.stderr);
  await waitUntilIdle([jobId, failingJob.stdout.trim()]);

  for (let index = 0; index < 4; index++) {
    const parent = sweepRunParent(runs, sweep, index);
    const names = readdirSync(parent);
    assert.equal(names.length, 1, `${parent}: ${names.join(', ')}\n${readFileSync(path.join(sweepFolder, 'tasks', `task-${index}.out`), 'utf8')}`);
    assert.equal(readRunSummary(path.join(parent, names[0]))?.status, 'completed');
  }
  const status = cli(['sweep', sweep, '--status', '--out', runs]);
  assert.equal(status.status, 0, status.stderr);
  assert.match(status.stdout, /4 run\(s\): 4 completed\n$/);
  assert.match(status.stdout, /^ {3}3 {2}completed +model\.latent=3 seed=2 {2}1 epochs · test loss [\d.]+$/m);
  const summary = cli(['sweep', sweep, '--summary', '--out', runs]);
  assert.equal(summary.status, 0, summary.stderr);
  const rows = summary.stdout.trim().split('\n');
  assert.match(rows[0], /^index +model\.latent +seed +state +epochs +test\.loss/);
  assert.equal(rows.length, 5);
  const losses = rows.slice(1).map((row) => Number(row.split(/ +/)[5]));
  assert.deepEqual(losses, [...losses].sort((a, b) => a - b));
  assert.equal(readFileSync(path.join(sweepFolder, 'summary.csv'), 'utf8').trim().split('\n').length, 5);

  const failed = cli(['sweep', failing, '--status', '--out', runs]);
  assert.equal(failed.status, 0, failed.stderr);
  assert.match(failed.stdout, /^ {3}0 {2}completed /m);
  assert.match(failed.stdout, /^ {3}1 {2}failed +data\.path="missing" {2}job \d+_1 \(FAILED[^)]*\): aexp: image folder \S*missing does not exist/m);

  // Again: only the failed run is submitted; held by its preamble until it is cancelled.
  const again = cli(['sweep', failing, '--slurm', '--preamble', 'sleep 120', ...slurmArguments]);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /run\(s\) 1 of 2/);
  const pending = cli(['sweep', failing, '--status', '--out', runs]);
  assert.match(pending.stdout, /^ {3}1 {2}(pending|running) /m);
  const cancelled = cli(['sweep', failing, '--cancel', '--out', runs]);
  assert.equal(cancelled.status, 0, cancelled.stderr);
  assert.match(cancelled.stderr, new RegExp(`cancelled job\\(s\\) ${again.stdout.trim()}`));
  await waitUntilIdle([again.stdout.trim()]);
  assert.match(cli(['sweep', failing, '--status', '--out', runs]).stdout, /^ {3}1 {2}failed +data\.path="missing" {2}job \d+_1 \(CANCELLED/m);
});

test('a task stopped by Slurm\'s SIGTERM (its time limit) checkpoints, and the sweep submitted again resumes it', async (context) => {
  const cluster = slurm();
  if (typeof cluster === 'string') return context.skip(cluster);
  const file = experiment('long', 'dataset: sprites\nsize: 12\ncount: 300\n', 'seeds: [1]\n');
  writeFileSync(file, readFileSync(file, 'utf8').replace('epochs: 1', 'epochs: 400'));
  const parent = sweepRunParent(runs, file, 0);
  const output = path.join(runs, '.sweeps', 'long', 'tasks', 'task-0.out');
  const first = cli(['sweep', file, '--slurm', ...slurmArguments]);
  assert.equal(first.status, 0, first.stderr);
  const jobId = first.stdout.trim();
  await until(() => readRunProgress(parent).epoch >= 1, 'the task to finish an epoch');
  assert.match(cli(['sweep', file, '--status', '--out', runs]).stdout, new RegExp(`^ {3}0 {2}running +seed=1 {2}job ${jobId}_0 · epoch \\d+/400$`, 'm'));
  // What slurmd sends a task at its time limit (the batch step is node itself: the script execs it).
  const signalled = spawnSync('scancel', ['--batch', '--signal=TERM', `${jobId}_0`], { encoding: 'utf8', env: cluster.env });
  assert.equal(signalled.status, 0, signalled.stderr);
  await waitUntilIdle([jobId]);
  const stopped = readRunProgress(parent);
  assert.equal(stopped.summary?.status, 'stopped', readFileSync(output, 'utf8'));
  assert.ok(existsSync(checkpointFile(stopped.runDir!, 'last')));
  assert.match(cli(['sweep', file, '--status', '--out', runs]).stdout, /^ {3}0 {2}stopped +seed=1 {2}job \d+_0 \([^)]*\) stopped at epoch \d+\/400 with a checkpoint/m);

  const again = cli(['sweep', file, '--slurm', ...slurmArguments]);
  assert.equal(again.status, 0, again.stderr);
  await until(() => /resuming at epoch/.test(readFileSync(output, 'utf8')), 'the resubmitted task to resume');
  assert.equal(readRunProgress(parent).runDir, stopped.runDir);
  // The first task's lines are still there: the output file is appended to.
  assert.match(readFileSync(output, 'utf8'), /interrupted: stopping[\s\S]*resuming at epoch/);
  assert.equal(cli(['sweep', file, '--cancel', '--out', runs]).status, 0);
  await waitUntilIdle([again.stdout.trim()]);
});

test('two submissions of one sweep at the same moment submit each run once: the second finds the first\'s runs queued', async (context) => {
  const cluster = slurm();
  if (typeof cluster === 'string') return context.skip(cluster);
  const file = experiment('twice', 'dataset: sprites\nsize: 12\ncount: 300\n', 'seeds: [1, 2, 3]\n');
  // Held by their preamble: the test looks at what was submitted, then cancels it.
  const submit = () => new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [aexp, 'sweep', file, '--slurm', '--preamble', 'sleep 120', ...slurmArguments], { cwd: folder, env: cluster.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
  const both = await Promise.all([submit(), submit()]);
  for (const result of both) assert.equal(result.status, 0, result.stderr);
  const jobs = readJobs(path.join(runs, '.sweeps', 'twice'));
  try {
    const submitted = jobs.flatMap((job) => job.indices).sort();
    assert.deepEqual(submitted, [0, 1, 2], `each run once: ${JSON.stringify(jobs)}; ${both.map((result) => result.stderr.trim()).join(' | ')}`);
    assert.equal(jobs.length, 1, 'one job');
    assert.ok(both.some((result) => /every run of the sweep is finished or queued/.test(result.stderr)), 'the other submission says why it submitted nothing');
  } finally {
    assert.equal(cli(['sweep', file, '--cancel', '--out', runs]).status, 0);
    await waitUntilIdle(jobs.map((job) => job.jobId));
  }
});
