/**
 * Slurm's own commands, run for a sweep: sbatch to submit, squeue for what is queued or running,
 * sacct for what ended (when accounting is enabled) else scontrol (which keeps ended jobs for a
 * few minutes), scancel to cancel. Each is run with its arguments as a list, never through a shell.
 */
import { spawnSync } from 'node:child_process';

export class SlurmError extends Error {
  override name = 'SlurmError';
}

function slurm(command: string, args: string[]): { ok: boolean; stdout: string; stderr: string } {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 60_000 });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') throw new SlurmError(`${command} is not on the PATH: run this on a machine of the Slurm cluster (its login node)`);
  return { ok: result.status === 0, stdout: result.stdout ?? '', stderr: (result.stderr ?? '').trim() || (result.error?.message ?? '') };
}

/** Throws, saying where to run this, when sbatch is not on the PATH (before the sweep's folder is written). */
export function checkSbatch(): void {
  slurm('sbatch', ['--version']);
}

/** Submits the script; returns the job id sbatch printed. */
export function submit(script: string): string {
  const result = slurm('sbatch', ['--parsable', script]);
  if (!result.ok) throw new SlurmError(`sbatch refused ${script}: ${result.stderr}`);
  const jobId = result.stdout.trim().split(';')[0];
  if (!/^\d+$/.test(jobId)) throw new SlurmError(`sbatch printed no job id (${JSON.stringify(result.stdout.trim())})`);
  return jobId;
}

export interface TaskState {
  /** Slurm's state: PENDING, RUNNING, COMPLETED, FAILED, TIMEOUT, CANCELLED, … */
  state: string;
  /** Why it is pending, or why it ended (Slurm's reason, an exit code). */
  reason?: string;
}

/** `<array job id>_<task id>` → its state, for every task of these jobs that Slurm still queues or runs. */
export function queuedTasks(jobIds: string[]): Map<string, TaskState> {
  const tasks = new Map<string, TaskState>();
  if (jobIds.length === 0) return tasks;
  // -r: one line per array task, pending ones included, rather than 12_[3-7].
  const result = slurm('squeue', ['-h', '-r', '-o', '%i|%T|%r', '-j', jobIds.join(',')]);
  // squeue refuses a job list when one of the jobs has left its memory: ask job by job then.
  const outputs = result.ok ? [result.stdout] : jobIds.map((jobId) => slurm('squeue', ['-h', '-r', '-o', '%i|%T|%r', '-j', jobId])).filter((each) => each.ok).map((each) => each.stdout);
  for (const line of outputs.join('\n').split('\n')) {
    const [id, state, reason] = line.trim().split('|');
    if (!id || !state) continue;
    tasks.set(id, { state, ...(reason && reason !== 'None' ? { reason } : {}) });
  }
  return tasks;
}

/**
 * `<array job id>_<task id>` → how each ended task of the job ended: sacct where accounting works,
 * else scontrol's records of recently ended jobs. Empty when neither knows the job any more.
 */
export function endedTasks(jobId: string): Map<string, TaskState> {
  const tasks = new Map<string, TaskState>();
  const accounting = slurm('sacct', ['-n', '-P', '-X', '-j', jobId, '-o', 'JobID,State,ExitCode']);
  if (accounting.ok && accounting.stdout.trim()) {
    for (const line of accounting.stdout.trim().split('\n')) {
      const [id, state, exitCode] = line.split('|');
      if (id && state && /_\d+$/.test(id)) tasks.set(id, { state: state.split(' ')[0], ...(exitCode && exitCode !== '0:0' ? { reason: `exit code ${exitCode}` } : {}) });
    }
    return tasks;
  }
  const control = slurm('scontrol', ['show', 'job', jobId]);
  if (!control.ok) return tasks;
  for (const record of control.stdout.split(/\n\s*\n/)) {
    const field = (name: string) => new RegExp(`(?:^|\\s)${name}=(\\S+)`).exec(record)?.[1];
    const arrayJob = field('ArrayJobId');
    const task = field('ArrayTaskId');
    const state = field('JobState');
    if (!arrayJob || !task || !state || !/^\d+$/.test(task)) continue;
    const reason = field('Reason');
    const exitCode = field('ExitCode');
    const because = [reason && reason !== 'None' ? reason : undefined, exitCode && exitCode !== '0:0' ? `exit code ${exitCode}` : undefined].filter(Boolean).join(', ');
    tasks.set(`${arrayJob}_${task}`, { state, ...(because ? { reason: because } : {}) });
  }
  return tasks;
}

/** Cancels the jobs (every task of each array). */
export function cancel(jobIds: string[]): void {
  if (jobIds.length === 0) return;
  const result = slurm('scancel', jobIds);
  if (!result.ok) throw new SlurmError(`scancel ${jobIds.join(' ')}: ${result.stderr}`);
}
