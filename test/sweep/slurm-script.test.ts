/** The sbatch script of a sweep, run by bash itself with Slurm's variables set as a task would have them. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { SlurmOptionError, arraySpec, sbatchScript, shellQuote } from '../../runtime/sweep/slurm-script';
import { temporaryDirectory } from '../helpers/temp';

const folder = temporaryDirectory('sbatch-');

test('the array spec joins runs of indices and carries the throttle', () => {
  assert.equal(arraySpec([0, 1, 2, 3]), '0-3');
  assert.equal(arraySpec([9, 0, 1, 2, 5, 7, 8], 2), '0-2,5,7-9%2');
  assert.equal(arraySpec([4]), '4');
});

test('a task of the script runs the CLI with its sweep index, its own run folder, the data folder and backend, and the thread count from its cores', () => {
  // A stand-in for node that prints what it was asked to run: the script's job is the command line.
  const node = path.join(folder, "no de's");
  writeFileSync(node, '#!/bin/bash\nprintf "%s\\n" "$@"\necho "threads=$AEXP_NATIVE_THREADS"\n');
  chmodSync(node, 0o755);
  const script = sbatchScript({
    name: 'beta sweep',
    node,
    cli: '/opt/sweep folder/aexp.js',
    experiment: "/home/a/exp's.aexp",
    runsFolder: '/scratch/runs',
    sweepFolder: '/scratch/runs/.sweeps/beta',
    count: 6,
    dataDir: '/data',
    backend: 'native',
    options: { partition: 'gpu', account: 'lab-1', gpusPerTask: 1, cpusPerTask: 4, time: '1-00:00:00', mem: '8G', maxParallel: 2, preamble: ['module load cuda/12'] },
  });
  for (const line of ["#SBATCH --array=0-5%2", "#SBATCH --output='/scratch/runs/.sweeps/beta/tasks/task-%a.out'", '#SBATCH --open-mode=append', '#SBATCH --cpus-per-task=4', '#SBATCH --partition=gpu', '#SBATCH --account=lab-1', '#SBATCH --gpus-per-task=1', '#SBATCH --time=1-00:00:00', '#SBATCH --mem=8G', 'module load cuda/12']) assert.ok(script.split('\n').includes(line), `${line}\n---\n${script}`);
  const file = path.join(folder, 'sweep.sbatch');
  writeFileSync(file, script.replace('module load cuda/12', 'true'));
  const task = spawnSync('bash', [file], { encoding: 'utf8', env: { PATH: process.env.PATH, SLURM_ARRAY_TASK_ID: '3', SLURM_CPUS_PER_TASK: '4' } });
  assert.equal(task.status, 0, task.stderr);
  assert.deepEqual(task.stdout.trim().split('\n'), ['/opt/sweep folder/aexp.js', 'run', "/home/a/exp's.aexp", '--sweep-index', '3', '--out', '/scratch/runs/beta sweep-sweep-0003', '--data-dir', '/data', '--backend', 'native', 'threads=4']);
  const outside = spawnSync('bash', [file], { encoding: 'utf8', env: { PATH: process.env.PATH } });
  assert.notEqual(outside.status, 0);
  assert.match(outside.stderr, /run this script with sbatch/);
});

test('options Slurm would misread are refused by name before anything is written', () => {
  const base = { name: 'x', node: '/n', cli: '/c', experiment: '/e', runsFolder: '/r', sweepFolder: '/s', count: 2, dataDir: '/d', backend: 'cpu' };
  assert.throws(() => sbatchScript({ ...base, options: { time: '1 hour' } }), (error: unknown) => error instanceof SlurmOptionError && /--time "1 hour"/.test(error.message));
  assert.throws(() => sbatchScript({ ...base, options: { partition: 'gpu;rm' } }), /--partition "gpu;rm": letters/);
  assert.throws(() => sbatchScript({ ...base, options: { maxParallel: 0 } }), /--max-parallel must be a positive whole number/);
  assert.throws(() => sbatchScript({ ...base, options: { preamble: ['a\nb'] } }), /one line/);
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
});

test('aexp sweep --slurm where sbatch is not on the PATH says where to run it, and writes nothing', () => {
  const file = path.join(folder, 'nowhere.aexp');
  writeFileSync(file, '---\nseed: 1\n---\n```data\ndataset: sprites\nsize: 12\ncount: 300\n```\n\n```model\nkind: vae\nlatent: 2\nencoder: [dense 16 relu]\n```\n\n```train\nepochs: 1\n```\n\n```sweep\nseeds: 2\n```\n');
  const runs = path.join(folder, 'runs');
  // A PATH with nothing on it: node is started by its own path.
  const result = spawnSync(process.execPath, [path.resolve(__dirname, '..', '..', 'bin', 'aexp.js'), 'sweep', file, '--slurm', '--out', runs], { encoding: 'utf8', env: { PATH: folder } });
  assert.equal(result.status, 1, result.stderr);
  assert.equal(result.stderr, 'aexp: sbatch is not on the PATH: run this on a machine of the Slurm cluster (its login node)\n');
  assert.equal(existsSync(path.join(runs, '.sweeps')), false);
});
