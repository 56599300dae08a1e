/**
 * The sbatch script of a sweep: a job array over the sweep's run indices, one output file per
 * task, each task running `aexp run <file> --sweep-index $SLURM_ARRAY_TASK_ID` into a run folder
 * named from its index in one shared runs folder. A person reads it, keeps it and can submit it
 * again by hand; so it is self-contained: the `node` it runs and the CLI bundle are absolute paths
 * (the bundle a copy kept in the sweep's folder: an extension's install folder can vanish before a
 * pending job starts), and every value is quoted for the shell.
 */

export interface SlurmOptions {
  partition?: string;
  account?: string;
  gpusPerTask?: number;
  cpusPerTask?: number;
  /** Slurm's time format: minutes, MM:SS, HH:MM:SS, D-HH… */
  time?: string;
  /** Slurm's memory format: 4G, 500M, … */
  mem?: string;
  /** At most this many tasks at once (the array's `%N` throttle). */
  maxParallel?: number;
  /** Lines run before the task (`module load …`, `source venv/bin/activate`). */
  preamble?: string[];
}

export interface SweepScriptInput {
  /** A name for the job (the experiment's). */
  name: string;
  /** Absolute paths. */
  node: string;
  cli: string;
  experiment: string;
  runsFolder: string;
  /** Where the script, its task outputs and the job id are kept. */
  sweepFolder: string;
  /** How many runs the sweep has: the array is 0…count − 1. */
  count: number;
  /** Only these indices (a resubmission of the unfinished ones); default all. */
  indices?: number[];
  dataDir: string;
  backend: string;
  options: SlurmOptions;
}

export class SlurmOptionError extends Error {
  override name = 'SlurmOptionError';
}

/** Single-quoted for bash: safe for any path or value. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The array spec: ranges where indices run on (0-3,7,9-10), then the throttle. */
export function arraySpec(indices: number[], maxParallel?: number): string {
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let start = 0; start < sorted.length; ) {
    let end = start;
    while (end + 1 < sorted.length && sorted[end + 1] === sorted[end] + 1) end++;
    parts.push(end === start ? `${sorted[start]}` : `${sorted[start]}-${sorted[end]}`);
    start = end + 1;
  }
  return `${parts.join(',')}${maxParallel ? `%${maxParallel}` : ''}`;
}

/** What every run folder of a sweep starts with; the index follows, as four digits at least. */
export function sweepRunFolderPrefix(name: string): string {
  return `${name}-sweep-`;
}

/** The folder a sweep run writes into: stable, so a resubmitted task finds its own checkpoint. */
export function sweepRunFolderName(name: string, index: number): string {
  return `${sweepRunFolderPrefix(name)}${String(index).padStart(4, '0')}`;
}

function checkOptions(options: SlurmOptions): void {
  const word = /^[\w.+-]+$/;
  for (const key of ['partition', 'account'] as const) if (options[key] !== undefined && !word.test(options[key]!)) throw new SlurmOptionError(`--${key} ${JSON.stringify(options[key])}: letters, digits, . _ + - only`);
  if (options.time !== undefined && !/^(\d+-)?\d+(:\d{2}){0,2}$/.test(options.time)) throw new SlurmOptionError(`--time ${JSON.stringify(options.time)}: Slurm's forms are minutes, MM:SS, HH:MM:SS or D-HH:MM:SS`);
  if (options.mem !== undefined && !/^\d+[KMGT]?$/.test(options.mem)) throw new SlurmOptionError(`--mem ${JSON.stringify(options.mem)}: a size such as 4G or 500M`);
  for (const key of ['gpusPerTask', 'cpusPerTask', 'maxParallel'] as const) {
    const value = options[key];
    if (value !== undefined && !(Number.isInteger(value) && value >= 1)) throw new SlurmOptionError(`--${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)} must be a positive whole number, not ${value}`);
  }
  for (const line of options.preamble ?? []) if (/[\r\n]/.test(line)) throw new SlurmOptionError('a preamble entry is one line');
}

export function sbatchScript(input: SweepScriptInput): string {
  checkOptions(input.options);
  const { options } = input;
  const indices = input.indices ?? Array.from({ length: input.count }, (_, index) => index);
  if (indices.length === 0) throw new SlurmOptionError('no runs to submit');
  const cpus = options.cpusPerTask ?? 1;
  const directives = [
    `--job-name=${shellQuote(`aexp-${input.name}`)}`,
    `--array=${arraySpec(indices, options.maxParallel)}`,
    `--output=${shellQuote(`${input.sweepFolder}/tasks/task-%a.out`)}`,
    // A resubmitted task adds to its output file: why it stopped before stays readable.
    '--open-mode=append',
    `--cpus-per-task=${cpus}`,
    ...(options.partition ? [`--partition=${options.partition}`] : []),
    ...(options.account ? [`--account=${options.account}`] : []),
    ...(options.gpusPerTask ? [`--gpus-per-task=${options.gpusPerTask}`] : []),
    ...(options.time ? [`--time=${options.time}`] : []),
    ...(options.mem ? [`--mem=${options.mem}`] : []),
  ];
  const folder = `${input.runsFolder}/${sweepRunFolderPrefix(input.name)}`;
  return [
    '#!/bin/bash',
    `# Latent Lab sweep of ${input.experiment}: ${input.count} run(s); written by aexp sweep --slurm.`,
    '# Each task runs one run of the sweep by its index. A task stopped at its time limit checkpoints on',
    '# SIGTERM (Slurm sends it first); submitting the sweep again resumes every unfinished run.',
    ...directives.map((directive) => `#SBATCH ${directive}`),
    '',
    'set -euo pipefail',
    ...(options.preamble ?? []),
    '',
    // The native backend computes on as many threads as the task has cores, no more.
    `export AEXP_NATIVE_THREADS="\${SLURM_CPUS_PER_TASK:-${cpus}}"`,
    `index="\${SLURM_ARRAY_TASK_ID:?run this script with sbatch (it is a job array)}"`,
    `run_folder=${shellQuote(folder)}"$(printf '%04d' "$index")"`,
    `exec ${shellQuote(input.node)} ${shellQuote(input.cli)} run ${shellQuote(input.experiment)} --sweep-index "$index" --out "$run_folder" --data-dir ${shellQuote(input.dataDir)} --backend ${shellQuote(input.backend)}`,
    '',
  ].join('\n');
}
