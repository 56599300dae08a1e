/**
 * Where each run of a sweep stands, from its run folder (finished, stopped with a checkpoint, the
 * epoch it is at), from Slurm (pending, running, how a task ended) and from the task's own output
 * (why it failed).
 */
import { existsSync, readFileSync } from 'node:fs';
import type { RunSummary } from '../protocol';
import { readRunLock } from '../run-lock';
import type { SweepRun } from './expand';
import { describeRun, failureReason } from './local-queue';
import { readRunProgress } from './run-progress';
import type { TaskState } from './slurm';
import { endedTasks, queuedTasks } from './slurm';
import { localOutputFile, readJobs, taskOutputFile } from './sweep-folder';
import { sweepRunParent, sweepRunState, sweepRunText } from './sweep-run';

export type RunState = 'completed' | 'early-stopped' | 'diverged' | 'pending' | 'running' | 'stopped' | 'failed' | 'not started';

export interface RunStatus {
  run: SweepRun;
  state: RunState;
  detail: string;
  runDir?: string;
  summary?: RunSummary;
  jobId?: string;
}

export interface SweepStatusInput {
  file: string;
  text: string;
  runs: SweepRun[];
  runsFolder: string;
  sweepFolder: string;
}

function readText(file: string): string | undefined {
  try {
    return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  } catch {
    return undefined;
  }
}

export function sweepStatus(input: SweepStatusInput): RunStatus[] {
  const jobs = readJobs(input.sweepFolder);
  const queued = queuedTasks(jobs.map((job) => job.jobId));
  const ended = new Map<string, Map<string, TaskState>>();
  const endedOf = (jobId: string) => {
    if (!ended.has(jobId)) ended.set(jobId, endedTasks(jobId));
    return ended.get(jobId)!;
  };
  return input.runs.map((run): RunStatus => {
    const parent = sweepRunParent(input.runsFolder, input.file, run.index);
    const state = sweepRunState(parent, sweepRunText(input.text, input.file, run));
    const progress = readRunProgress(parent);
    const at = `epoch ${progress.epoch}/${progress.epochs ?? '?'}`;
    if (state.kind === 'finished') {
      const test = state.summary.test;
      return { run, state: state.summary.status as RunState, detail: `${state.summary.epochs} epochs${test ? ` · test loss ${test.loss.toFixed(3)}` : ''}`, runDir: state.runDir, summary: state.summary };
    }
    const job = [...jobs].reverse().find((candidate) => candidate.indices.includes(run.index));
    const runDir = state.kind === 'resume' ? state.runDir : progress.runDir;
    if (job) {
      const task = `${job.jobId}_${run.index}`;
      const live = queued.get(task);
      if (live?.state === 'PENDING') return { run, state: 'pending', detail: `job ${task}${live.reason ? ` (${live.reason})` : ''}`, jobId: job.jobId, runDir };
      if (live) return { run, state: 'running', detail: `job ${task}${live.state === 'RUNNING' ? '' : ` (${live.state})`} · ${progress.runDir ? at : 'starting'}`, jobId: job.jobId, runDir };
      const end = endedOf(job.jobId).get(task);
      const slurmSays = end ? `${end.state}${end.reason ? `, ${end.reason}` : ''}` : 'ended';
      if (state.kind === 'resume') return { run, state: 'stopped', detail: `job ${task} (${slurmSays}) stopped at ${at} with a checkpoint; aexp sweep --slurm again resumes it`, jobId: job.jobId, runDir };
      const output = readText(taskOutputFile(input.sweepFolder, run.index));
      return { run, state: 'failed', detail: `job ${task} (${slurmSays}): ${output === undefined ? 'no output file' : failureReason(output)}`, jobId: job.jobId, runDir };
    }
    // A run trained here (the local queue, or aexp run --sweep-index by hand) holds its folder's lock while it runs.
    const lock = progress.runDir ? readRunLock(progress.runDir) : undefined;
    if (lock && !lock.abandoned) return { run, state: 'running', detail: `${lock.holder ? `pid ${lock.holder.pid} on ${lock.holder.host} · ` : ''}${at}`, runDir };
    if (state.kind === 'resume') return { run, state: 'stopped', detail: `stopped at ${at} with a checkpoint`, runDir };
    // A run the local queue started and that left neither a finished run nor a checkpoint: its output says why.
    const log = readText(localOutputFile(input.sweepFolder, run.index));
    if (log !== undefined) return { run, state: 'failed', detail: failureReason(log), runDir };
    return { run, state: 'not started', detail: '', runDir };
  });
}

export function statusLines(statuses: RunStatus[]): string[] {
  const counts = new Map<string, number>();
  for (const status of statuses) counts.set(status.state, (counts.get(status.state) ?? 0) + 1);
  return [
    ...statuses.map((status) => `${String(status.run.index).padStart(4)}  ${status.state.padEnd(13)} ${describeRun(status.run)}${status.detail ? `  ${status.detail}` : ''}`),
    `${statuses.length} run(s): ${[...counts].map(([state, count]) => `${count} ${state}`).join(', ')}`,
  ];
}
