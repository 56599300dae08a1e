/**
 * A sweep run on this machine: a queue of `aexp run <file> --sweep-index i` child processes, N at a
 * time, runs already finished skipped. Each child gets its own process group, so a Ctrl-C in the
 * terminal reaches only this process, which passes exactly one SIGINT to each child (a second
 * would make it quit without its checkpoint) and waits for all of them.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SweepRun } from './expand';
import { readRunProgress } from './run-progress';
import { localOutputFile } from './sweep-folder';
import { sweepRunParent, sweepRunState, sweepRunText } from './sweep-run';
import { formatSeconds } from '../util/duration';

/** Set in each run the queue starts: the queue's pid; a run whose parent is no longer it stops with a checkpoint. */
export const SWEEP_QUEUE_VARIABLE = 'AEXP_SWEEP_QUEUE';

export interface Concurrency {
  parallel: number;
  /** Native threads per run. */
  threads: number;
  /** The choice in one line. */
  reason: string;
}

/** Cores one native-backend run uses well; past this, a second run gains more than a wider first. */
const CORES_PER_RUN = 4;
/** Memory one small run may take (TF.js, the data set, the model), so N runs fit in memory. */
const MEMORY_PER_RUN = 2 * 1024 ** 3;

/**
 * How many runs at once, and the threads of each. The native backend computes one run on every
 * core it is given, so runs split the cores (at least CORES_PER_RUN each when there are that many)
 * rather than fight over them; a GPU backend trains one run at a time.
 */
export function chooseConcurrency(runCount: number, backend: string | undefined, requested?: number, cores = os.availableParallelism(), memory = os.totalmem()): Concurrency {
  if (requested !== undefined) {
    const threads = Math.max(1, Math.floor(cores / requested));
    return { parallel: requested, threads, reason: `${requested} run(s) at a time (--parallel), ${threads} thread(s) each on ${cores} cores` };
  }
  if (backend === 'tensorflow' || backend === 'webgpu') return { parallel: 1, threads: cores, reason: `1 run at a time: the ${backend} backend trains on one device` };
  const byCores = Math.max(1, Math.floor(cores / Math.min(cores, CORES_PER_RUN)));
  const byMemory = Math.max(1, Math.floor(memory / MEMORY_PER_RUN));
  const parallel = Math.max(1, Math.min(byCores, byMemory, runCount));
  const threads = Math.max(1, Math.floor(cores / parallel));
  return { parallel, threads, reason: `${parallel} run(s) at a time, ${threads} thread(s) each (${cores} cores, ${Math.round(memory / 1024 ** 3)} GB; more at once would slow each run); --parallel N to change` };
}

export interface QueueOptions {
  file: string;
  /** The experiment's text, the sweep's runs. */
  text: string;
  runs: SweepRun[];
  runsFolder: string;
  sweepFolder: string;
  concurrency: Concurrency;
  /** The `aexp` script the children run, and the arguments every child gets (--backend, --data-dir). */
  cli: string;
  childArguments: string[];
  signal: AbortSignal;
  /** Lines that stay (a run started, finished, failed, skipped). */
  say: (line: string) => void;
  /** The progress block, redrawn: one line per running run and the overall ETA. */
  progress: (lines: string[]) => void;
}

export interface QueueResult {
  completed: number[];
  skipped: number[];
  failed: { index: number; code: number | null; reason: string }[];
  stopped: number[];
}

export function describeRun(run: SweepRun): string {
  const parts = run.overrides.map(([key, value]) => `${key}=${JSON.stringify(value)}`);
  if (run.seed !== undefined) parts.push(`seed=${run.seed}`);
  return parts.join(' ') || '(the experiment as it is)';
}

/** The line in a run's output that says why it failed: the CLI's own `aexp:` or `file:line:col: error:` line, else the last one. */
export function failureReason(output: string): string {
  const lines = output.split('\n').map((line) => line.trim()).filter(Boolean);
  const reason = [...lines].reverse().find((line) => /^aexp: |: error: |^slurmstepd: error: |Error: /.test(line));
  return reason ?? lines[lines.length - 1] ?? 'no output';
}

interface Running {
  run: SweepRun;
  child: ChildProcess;
  parent: string;
  startEpoch?: number;
  fraction: number;
}

export async function runQueue(options: QueueOptions): Promise<QueueResult> {
  const result: QueueResult = { completed: [], skipped: [], failed: [], stopped: [] };
  const waiting: SweepRun[] = [];
  for (const run of options.runs) {
    const parent = sweepRunParent(options.runsFolder, options.file, run.index);
    const state = sweepRunState(parent, sweepRunText(options.text, options.file, run));
    if (state.kind === 'finished') {
      result.skipped.push(run.index);
      options.say(`run ${run.index}: already finished (${state.summary.status}) in ${state.runDir}`);
    } else if (state.kind === 'running') {
      result.skipped.push(run.index);
      options.say(`run ${run.index}: being trained by ${state.holder} in ${state.runDir}; not started again`);
    } else waiting.push(run);
  }
  const total = waiting.length;
  if (total === 0) return result;
  const started = Date.now();
  let done = 0;
  const running = new Map<number, Running>();
  mkdirSync(path.dirname(localOutputFile(options.sweepFolder, 0)), { recursive: true });

  const draw = () => {
    try {
      drawProgress();
    } catch (error) {
      // A run folder being written is read as it stands; what cannot be read now is read at the next tick.
      options.say(`progress: ${(error as Error).message}`);
    }
  };
  const drawProgress = () => {
    const lines: string[] = [];
    let progress = done;
    for (const entry of running.values()) {
      const now = readRunProgress(entry.parent);
      entry.startEpoch ??= now.runDir ? now.epoch : undefined;
      const epochs = now.epochs;
      const first = entry.startEpoch ?? 0;
      entry.fraction = epochs && epochs > first ? Math.min(1, (now.epoch - first) / (epochs - first)) : 0;
      progress += entry.fraction;
      const state = !now.runDir ? 'starting' : `epoch ${now.epoch}/${epochs ?? '?'}${now.loss !== undefined ? ` · loss ${now.loss.toFixed(2)}` : ''}`;
      lines.push(`run ${entry.run.index} [${describeRun(entry.run)}]: ${state}`);
    }
    const elapsed = (Date.now() - started) / 1000;
    const eta = progress > 0 ? (elapsed * (total - progress)) / progress : Number.NaN;
    lines.push(`sweep: ${done}/${total} run(s) done, ${running.size} running · ETA ${formatSeconds(eta)}`);
    options.progress(lines);
  };

  const timer = setInterval(draw, 1000);
  await new Promise<void>((resolve) => {
    const launch = () => {
      while (!options.signal.aborted && running.size < options.concurrency.parallel && waiting.length > 0) {
        const run = waiting.shift()!;
        const parent = sweepRunParent(options.runsFolder, options.file, run.index);
        const logFile = localOutputFile(options.sweepFolder, run.index);
        const log = openSync(logFile, 'w');
        const child = spawn(process.execPath, [options.cli, 'run', options.file, '--sweep-index', String(run.index), '--out', parent, ...options.childArguments], {
          detached: true,
          stdio: ['ignore', log, log],
          env: { ...process.env, AEXP_NATIVE_THREADS: String(options.concurrency.threads), [SWEEP_QUEUE_VARIABLE]: String(process.pid) },
        });
        closeSync(log);
        const runStarted = Date.now();
        running.set(run.index, { run, child, parent, fraction: 0 });
        options.say(`run ${run.index}: started [${describeRun(run)}], output in ${logFile}`);
        // A process that could not be started (no memory, no pids left) fails its run; the queue goes on.
        child.on('error', (error) => {
          if (!running.has(run.index)) return;
          running.delete(run.index);
          done++;
          result.failed.push({ index: run.index, code: null, reason: error.message });
          options.say(`run ${run.index}: failed to start: ${error.message}`);
          launch();
          if (running.size === 0 && (waiting.length === 0 || options.signal.aborted)) resolve();
        });
        child.on('exit', (code) => {
          if (!running.has(run.index)) return;
          // The run's last progress (its final epoch) is shown before its end, however short it was.
          draw();
          running.delete(run.index);
          done++;
          if (code === 0) {
            result.completed.push(run.index);
            let progress: ReturnType<typeof readRunProgress> | undefined;
            try {
              progress = readRunProgress(parent);
            } catch {
              // A summary being rewritten by a later process is read as it stands next time; the run did finish.
            }
            const { runDir, summary } = progress ?? {};
            options.say(`run ${run.index}: ${summary?.status ?? 'finished'} in ${formatSeconds((Date.now() - runStarted) / 1000)}${summary?.test ? ` · test loss ${summary.test.loss.toFixed(2)}` : ''}: ${runDir ?? parent}`);
          } else if (code === 130) {
            result.stopped.push(run.index);
            options.say(`run ${run.index}: stopped with a checkpoint; aexp sweep ${options.file} resumes it`);
          } else {
            const reason = failureReason(readText(logFile));
            result.failed.push({ index: run.index, code, reason });
            options.say(`run ${run.index}: failed (exit status ${code}): ${reason}`);
          }
          launch();
          if (running.size === 0 && (waiting.length === 0 || options.signal.aborted)) resolve();
        });
      }
    };
    options.signal.addEventListener('abort', () => {
      for (const entry of running.values()) if (entry.child.pid !== undefined && entry.child.exitCode === null) entry.child.kill('SIGINT');
      if (running.size === 0) resolve();
    }, { once: true });
    launch();
    if (running.size === 0) resolve();
  });
  clearInterval(timer);
  options.progress([]);
  return result;
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
