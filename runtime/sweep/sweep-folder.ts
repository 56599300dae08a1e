/**
 * A sweep's own folder, `<runs>/.sweeps/<experiment>/`: what it was (sweep.json), the sbatch script
 * and the copy of the CLI bundle it runs, the jobs submitted (jobs.json), each Slurm task's output
 * (tasks/), each local run's output (local/), and the summary (summary.csv); lock.json while a
 * submission records its job.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import { experimentName } from '../run-folder';
import { acquireRunLock, RunLockedError, type RunLock } from '../run-lock';
import { writeFileAtomic } from '../util/atomic-file';
import type { SweepRun } from './expand';

export interface SweepRecord {
  version: 1;
  /** The experiment file, absolute. */
  file: string;
  runsFolder: string;
  metric?: string;
  runs: SweepRun[];
}

export interface JobRecord {
  jobId: string;
  indices: number[];
  submitted: string;
  script: string;
}

export function sweepFolder(runsFolder: string, file: string): string {
  return path.join(runsFolder, '.sweeps', experimentName(file));
}

export const SWEEP_FILES = {
  record: 'sweep.json',
  jobs: 'jobs.json',
  script: 'sweep.sbatch',
  bundle: 'bundle',
  tasks: 'tasks',
  local: 'local',
  summary: 'summary.csv',
} as const;

export function sweepFile(folder: string, name: keyof typeof SWEEP_FILES): string {
  return path.join(folder, SWEEP_FILES[name]);
}

/** A Slurm task's output file: the script's `--output=…/tasks/task-%a.out`. */
export function taskOutputFile(folder: string, index: number): string {
  return path.join(folder, SWEEP_FILES.tasks, `task-${index}.out`);
}

/** A local run's output (its `aexp run`'s stdout and stderr). */
export function localOutputFile(folder: string, index: number): string {
  return path.join(folder, SWEEP_FILES.local, `run-${index}.log`);
}

function writeJson(file: string, value: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(file, [Buffer.from(`${JSON.stringify(value, null, 2)}\n`)]);
}

export function writeSweepRecord(folder: string, record: SweepRecord): void {
  writeJson(sweepFile(folder, 'record'), record);
}

/** The jobs submitted for the sweep, oldest first; none when nothing was submitted (or the file is unreadable). */
export function readJobs(folder: string): JobRecord[] {
  try {
    const jobs = JSON.parse(readFileSync(sweepFile(folder, 'jobs'), 'utf8')) as unknown;
    return Array.isArray(jobs) ? (jobs as JobRecord[]).filter((job) => typeof job?.jobId === 'string' && Array.isArray(job.indices)) : [];
  } catch {
    return [];
  }
}

/**
 * Adds `job` to jobs.json under the sweep folder's lock. Two submissions of one sweep at once (two
 * `aexp sweep --slurm`) would each read the list and write it back with only their own job added:
 * the lock is held from the read to the rename, so no job id is dropped. It is the run folder's
 * lock (run-lock.ts: a holder that died, or whose heartbeat from another host went stale, is taken over).
 */
export function recordJob(folder: string, job: JobRecord): string | undefined {
  return withSweepLock(folder, `record job ${job.jobId}`, () => appendJob(folder, job));
}

/** Runs `body` holding the sweep folder's lock (waiting for another holder, as recordJob does). */
export function withSweepLock<T>(folder: string, purpose: string, body: () => T): T {
  mkdirSync(folder, { recursive: true });
  const lock = lockSweepFolder(folder, purpose);
  try {
    return body();
  } finally {
    lock.release();
  }
}

/**
 * Adds `job` to jobs.json; the caller holds the sweep folder's lock (withSweepLock). A jobs.json
 * that cannot be read as a list of jobs is not written over (its job ids would be lost): it is
 * moved aside, and the returned line says where.
 */
export function appendJob(folder: string, job: JobRecord): string | undefined {
  const file = sweepFile(folder, 'jobs');
  let kept: JobRecord[] = [];
  let note: string | undefined;
  if (existsSync(file)) {
    const problem = jobsProblem(file);
    if (problem) {
      const aside = `${file}.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      renameSync(file, aside);
      note = `${file}: ${problem}; moved to ${aside} (its job ids are not in the new list)`;
    } else kept = readJobs(folder);
  }
  writeJson(file, [...kept, job]);
  return note;
}

/** Why a jobs.json is not a list of jobs, or undefined when it is. */
function jobsProblem(file: string): string | undefined {
  let jobs: unknown;
  try {
    jobs = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch (error) {
    return `not JSON (${(error as Error).message})`;
  }
  if (!Array.isArray(jobs)) return 'not a list of jobs';
  const bad = jobs.findIndex((entry: Partial<JobRecord> | null) => typeof entry?.jobId !== 'string' || !Array.isArray(entry.indices));
  return bad === -1 ? undefined : `entry ${bad} is not a job (a jobId and its run indices)`;
}

/** How long a submission waits for others recording their jobs in the same sweep folder. */
const SWEEP_LOCK_WAIT_MS = 30_000;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

function lockSweepFolder(folder: string, purpose: string): RunLock {
  const deadline = Date.now() + SWEEP_LOCK_WAIT_MS;
  for (;;) {
    try {
      return acquireRunLock(folder);
    } catch (error) {
      if (!(error instanceof RunLockedError)) throw error;
      if (Date.now() > deadline) throw new Error(`cannot ${purpose}: ${error.message}, for more than ${SWEEP_LOCK_WAIT_MS / 1000} s`, { cause: error });
      // Others hold it for one read and one write: a few milliseconds.
      Atomics.wait(sleeper, 0, 0, 2 + Math.random() * 8);
    }
  }
}

/**
 * Copies the CLI bundle (dist/runtime, and dist/native beside it when built) into the sweep's
 * folder, keeping their layout (the bundle finds the native addon at ../native). Source maps stay
 * behind. Returns the copied cli.js. A file already copied with the same size and time is kept;
 * a newer one replaces it by rename, never in place.
 */
export function copyCliBundle(runtimeFolder: string, folder: string): string {
  const target = sweepFile(folder, 'bundle');
  for (const name of ['runtime', 'native']) {
    const source = name === 'runtime' ? runtimeFolder : path.join(runtimeFolder, '..', 'native');
    if (!existsSync(source)) continue;
    const destination = path.join(target, name);
    mkdirSync(destination, { recursive: true });
    for (const entry of readdirSync(source, { withFileTypes: true })) {
      if (!entry.isFile() || entry.name.endsWith('.map')) continue;
      const from = path.join(source, entry.name);
      const to = path.join(destination, entry.name);
      const before = statSync(from);
      if (existsSync(to)) {
        const after = statSync(to);
        if (after.size === before.size && after.mtimeMs >= before.mtimeMs) continue;
      }
      // Copied beside, then renamed over: tasks of an earlier submission still running keep the file
      // they loaded (the native addon is mapped into them), and a task starting now never reads half of one.
      const temporary = `${to}.${process.pid}.tmp`;
      copyFileSync(from, temporary);
      renameSync(temporary, to);
    }
  }
  return path.join(target, 'runtime', 'cli.js');
}
