/**
 * `aexp sweep <file>`: the runs of the file's sweep cell listed (--list), run here as a queue
 * (--parallel N), submitted to Slurm as a job array (--slurm), and reported (--status, --summary)
 * or cancelled (--cancel).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { resolveDataDir } from '../data/index';
import { formatDiagnostic, loadExperiment } from '../format/validate';
import { ExperimentError } from '../run/check';
import { experimentName } from '../run-folder';
import { BACKENDS } from '../backends/names';
import type { SweepRun } from '../sweep/expand';
import { chooseConcurrency, describeRun, runQueue } from '../sweep/local-queue';
import { SlurmError, cancel, checkSbatch, queuedTasks, submit } from '../sweep/slurm';
import type { SlurmOptions } from '../sweep/slurm-script';
import { arraySpec, sbatchScript } from '../sweep/slurm-script';
import { appendJob, copyCliBundle, readJobs, sweepFile, sweepFolder, withSweepLock, writeSweepRecord } from '../sweep/sweep-folder';
import { SweepRunError, requireSweep, sweepRunText, sweepRunsFolder } from '../sweep/sweep-run';
import { statusLines, sweepStatus } from '../sweep/sweep-status';
import { formatTable, summaryTable, writeSummaryCsv } from '../sweep/summary';
import { writeFileAtomic } from '../util/atomic-file';
import { UsageError, isFolder, parseArguments, positiveInteger } from './support';

export function describeSweepRun(run: SweepRun): string {
  return describeRun(run);
}

const MODES = ['list', 'slurm', 'status', 'cancel', 'summary'] as const;

export async function sweepVerb(argv: string[]): Promise<number> {
  const { values, positionals } = parseArguments({
    args: argv,
    allowPositionals: true,
    options: {
      list: { type: 'boolean' },
      parallel: { type: 'string' },
      slurm: { type: 'boolean' },
      status: { type: 'boolean' },
      cancel: { type: 'boolean' },
      summary: { type: 'boolean' },
      partition: { type: 'string' },
      account: { type: 'string' },
      'gpus-per-task': { type: 'string' },
      'cpus-per-task': { type: 'string' },
      time: { type: 'string' },
      mem: { type: 'string' },
      'max-parallel': { type: 'string' },
      preamble: { type: 'string', multiple: true },
      'dry-run': { type: 'boolean' },
      out: { type: 'string' },
      backend: { type: 'string' },
      'data-dir': { type: 'string' },
    },
  });
  if (positionals.length !== 1) throw new UsageError('aexp sweep takes one .aexp file with a sweep cell; aexp --help shows the usage');
  const file = path.resolve(positionals[0]);
  if (!existsSync(file)) throw new UsageError(`${positionals[0]}: no such file`);
  if (isFolder(file)) throw new UsageError(`${positionals[0]}: a folder, not a .aexp file`);
  const modes = MODES.filter((mode) => values[mode]);
  if (modes.length > 1) throw new UsageError(`aexp sweep takes one of --${modes.join(', --')}`);
  const slurmOnly = ['partition', 'account', 'gpus-per-task', 'cpus-per-task', 'time', 'mem', 'max-parallel', 'preamble', 'dry-run'] as const;
  const stray = slurmOnly.find((name) => values[name] !== undefined);
  if (stray && !values.slurm) throw new UsageError(`--${stray} goes with --slurm`);
  if (values.parallel !== undefined && modes.length > 0) throw new UsageError('--parallel is for a sweep run here (without --slurm, --list, --status, --cancel or --summary)');
  if (values.backend && !(BACKENDS as readonly string[]).includes(values.backend)) throw new UsageError(`--backend must be one of ${BACKENDS.join(', ')}, not "${values.backend}"`);
  const parallel = positiveInteger(values.parallel, '--parallel');

  const text = readFileSync(file, 'utf8');
  const sweep = requireSweep(file, text);
  const runsFolder = sweepRunsFolder(file, values.out);
  const folder = sweepFolder(runsFolder, file);
  const input = { file, text, runs: sweep.runs, runsFolder, sweepFolder: folder };

  if (values.list) {
    process.stdout.write(`${file}: ${sweep.runs.length} run(s)\n`);
    for (const run of sweep.runs) process.stdout.write(`${String(run.index).padStart(4)}  ${describeRun(run)}\n`);
    return 0;
  }
  if (values.status) {
    for (const line of statusLines(sweepStatus(input))) process.stdout.write(`${line}\n`);
    return 0;
  }
  if (values.summary) {
    const table = summaryTable(sweepStatus(input), sweep.config.metric);
    process.stdout.write(`${formatTable(table)}\n`);
    const csv = sweepFile(folder, 'summary');
    writeSummaryCsv(csv, table);
    process.stderr.write(`sorted by ${table.metric.replace(/^-/, '')} (${table.metric.startsWith('-') ? 'higher' : 'lower'} first); written to ${csv}\n`);
    return 0;
  }
  if (values.cancel) {
    const jobs = readJobs(folder).map((job) => job.jobId);
    const queued = new Set([...queuedTasks(jobs).keys()].map((task) => task.split('_')[0]));
    const live = jobs.filter((jobId) => queued.has(jobId));
    if (live.length === 0) {
      process.stderr.write('no job of this sweep is pending or running\n');
      return 0;
    }
    cancel(live);
    process.stderr.write(`cancelled job(s) ${live.join(', ')}; a running task checkpoints on the SIGTERM Slurm sends first\n`);
    return 0;
  }

  // Before any run starts: a file that cannot run fails here once, not in every run.
  const experiment = loadExperiment(text, file);
  if (experiment.diagnostics.some((diagnostic) => diagnostic.severity === 'error')) throw new ExperimentError(experiment.diagnostics);
  for (const warning of experiment.diagnostics) process.stderr.write(`${formatDiagnostic(warning)}\n`);
  // Each run's overrides too (a value out of range for its key): refused before anything is queued or submitted.
  for (const run of sweep.runs) {
    const problem = loadExperiment(sweepRunText(text, file, run), file).diagnostics.find((diagnostic) => diagnostic.severity === 'error');
    if (problem) throw new SweepRunError(`run ${run.index} of the sweep (${describeRun(run)}) is not a valid experiment: ${problem.message}`);
  }
  // Before anything is written for a submission that cannot happen here.
  if (values.slurm && !values['dry-run']) checkSbatch();
  writeSweepRecord(folder, { version: 1, file, runsFolder, ...(sweep.config.metric ? { metric: sweep.config.metric } : {}), runs: sweep.runs });

  if (values.slurm) {
    const options: SlurmOptions = {
      partition: values.partition,
      account: values.account,
      gpusPerTask: positiveInteger(values['gpus-per-task'], '--gpus-per-task'),
      cpusPerTask: positiveInteger(values['cpus-per-task'], '--cpus-per-task'),
      time: values.time,
      mem: values.mem,
      maxParallel: positiveInteger(values['max-parallel'], '--max-parallel'),
      preamble: values.preamble,
    };
    // One submission of a sweep at a time, from choosing its runs to recording its job: two at once
    // each saw every run unqueued and submitted all of them, and could share one rewritten script.
    const submission = (): number => {
      // Finished runs, and runs a job of this sweep still has queued or running, are not submitted again.
      const statuses = sweepStatus(input);
      const indices = statuses.filter((status) => !['completed', 'early-stopped', 'diverged', 'pending', 'running'].includes(status.state)).map((status) => status.run.index);
      if (indices.length === 0) {
        process.stderr.write(`every run of the sweep is finished or queued (aexp sweep ${positionals[0]} --status)\n`);
        return 0;
      }
      const runtimeFolder = __dirname;
      if (!existsSync(path.join(runtimeFolder, 'cli.js'))) throw new SlurmError(`the CLI bundle is not built (${path.join(runtimeFolder, 'cli.js')} is missing); run npm run build`);
      const cli = values['dry-run'] ? path.join(sweepFile(folder, 'bundle'), 'runtime', 'cli.js') : copyCliBundle(runtimeFolder, folder);
      const script = sbatchScript({
        name: experimentName(file),
        node: process.execPath,
        cli,
        experiment: file,
        runsFolder,
        sweepFolder: folder,
        count: sweep.runs.length,
        indices,
        dataDir: path.resolve(resolveDataDir(values['data-dir'])),
        backend: values.backend ?? 'auto',
        options,
      });
      const scriptFile = sweepFile(folder, 'script');
      mkdirSync(sweepFile(folder, 'tasks'), { recursive: true });
      writeFileAtomic(scriptFile, [Buffer.from(script)]);
      if (values['dry-run']) {
        process.stdout.write(script);
        process.stderr.write(`written to ${scriptFile}; not submitted (--dry-run)\n`);
        return 0;
      }
      const jobId = submit(scriptFile);
      const damaged = appendJob(folder, { jobId, indices, submitted: new Date().toISOString(), script: scriptFile });
      if (damaged) process.stderr.write(`warning: ${damaged}\n`);
      process.stderr.write(`submitted job ${jobId}: run(s) ${arraySpec(indices)} of ${sweep.runs.length}; aexp sweep ${positionals[0]} --status\n`);
      process.stdout.write(`${jobId}\n`);
      return 0;
    };
    return values['dry-run'] ? submission() : withSweepLock(folder, 'submit the sweep', submission);
  }

  return runHere({ ...input, parallel, backend: values.backend, dataDir: values['data-dir'], display: positionals[0] });
}

async function runHere(options: { file: string; text: string; runs: SweepRun[]; runsFolder: string; sweepFolder: string; parallel?: number; backend?: string; dataDir?: string; display: string }): Promise<number> {
  const concurrency = chooseConcurrency(options.runs.length, options.backend, options.parallel);
  process.stderr.write(`${options.runs.length} run(s); ${concurrency.reason}\n`);
  const controller = new AbortController();
  const onInterrupt = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('\ninterrupted: stopping every run with a checkpoint (Ctrl-C again to quit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onInterrupt);
  const interactive = Boolean(process.stderr.isTTY);
  let drawn = 0;
  let printed = new Set<string>();
  const clear = () => {
    if (interactive && drawn > 0) process.stderr.write(`\x1b[${drawn}A\x1b[J`);
    drawn = 0;
  };
  try {
    const result = await runQueue({
      ...options,
      concurrency,
      cli: path.resolve(process.argv[1]),
      childArguments: [...(options.backend ? ['--backend', options.backend] : []), ...(options.dataDir ? ['--data-dir', options.dataDir] : [])],
      signal: controller.signal,
      say: (line) => {
        clear();
        process.stderr.write(`${line}\n`);
      },
      progress: (lines) => {
        if (interactive) {
          clear();
          if (lines.length > 0) process.stderr.write(`${lines.join('\n')}\n`);
          drawn = lines.length;
          return;
        }
        // Without a terminal, a run's line is printed when it changes (once an epoch), with the sweep's ETA after it.
        const runLines = lines.slice(0, -1);
        const changed = runLines.filter((line) => !printed.has(line));
        if (changed.length === 0) return;
        printed = new Set(runLines);
        process.stderr.write(`${[...changed, lines[lines.length - 1]].join('\n')}\n`);
      },
    });
    clear();
    const parts = [`${result.completed.length} finished`, `${result.skipped.length} already finished before`];
    if (result.failed.length > 0) parts.push(`${result.failed.length} failed (run(s) ${result.failed.map((failure) => failure.index).join(', ')})`);
    if (controller.signal.aborted) parts.push(`${result.stopped.length} stopped with a checkpoint; aexp sweep ${options.display} continues`);
    process.stderr.write(`sweep: ${parts.join(', ')}; aexp sweep ${options.display} --summary shows the table\n`);
    if (controller.signal.aborted) return 130;
    return result.failed.length > 0 ? 1 : 0;
  } finally {
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
  }
}
