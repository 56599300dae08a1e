/** `aexp`: the command-line front end of the engine. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { BACKENDS, selectBackend } from './backends/select';
import type { BackendName } from './backends/select';
import { DATASET_CATALOG, resolveDataDir } from './data/index';
import { ExperimentError, checkExperiment, formatDiagnostic, runExperiment } from './engine';
import { epochLine } from './format/epoch-line';
import type { EngineEvent } from './protocol';
import { REPORT_METRICS } from './analysis/evaluate-run';
import { evaluateVerb } from './cli/evaluate';
import { decodeVerb, encodeVerb } from './cli/latents';
import { RunFolderError, UsageError, checkRunFolder, isFolder, parseArguments, positiveInteger } from './cli/support';
import { describeSweepRun, sweepVerb } from './cli/sweep';
import { SWEEP_QUEUE_VARIABLE } from './sweep/local-queue';
import { SweepCellError, readSweep } from './sweep/sweep-cell';
import { prepareSweepRun, sweepRunParent, sweepRunsFolder } from './sweep/sweep-run';
import { formatSeconds } from './util/duration';

const USAGE = `usage:
  aexp run <file.aexp> [--epochs N] [--set cell.key=value]... [--out DIR] [--backend ${BACKENDS.join('|')}] [--data-dir DIR] [--reuse]
  aexp run --resume <run folder> [--epochs N]
  aexp run <file.aexp> --sweep-index I [--out DIR] [--backend …] [--data-dir DIR]
  aexp sweep <file.aexp> --list | [--parallel N] | --slurm [slurm options] | --status | --cancel | --summary
  aexp evaluate <run folder> [--metrics ${REPORT_METRICS.join(',')}] [--k N] [--json]
  aexp encode <run folder> [--split test|train|all] [--limit N] --out latents.npy|latents.csv
  aexp decode <run folder> --z z.npy|z.csv [--label C] [--columns N] --out grid.png
  aexp validate <file.aexp>...
  aexp datasets [--data-dir DIR]

evaluate, encode and decode also take [--checkpoint last|best|epoch-N] [--backend ${BACKENDS.join('|')}] [--data-dir DIR].
--reuse uses a finished run with the same data, model and train cells instead of training again.
The data folder defaults to $AEXP_DATA_DIR, then ~/.cache/latent-lab/datasets.`;

function indent(text: string): string {
  return text.split('\n').map((line) => `  ${line}`).join('\n');
}

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArguments({
    args: argv,
    allowPositionals: true,
    options: { epochs: { type: 'string' }, set: { type: 'string', multiple: true }, out: { type: 'string' }, backend: { type: 'string' }, 'data-dir': { type: 'string' }, resume: { type: 'string' }, reuse: { type: 'boolean' }, 'sweep-index': { type: 'string' } },
  });
  if (!values.resume && positionals.length !== 1) throw new UsageError('aexp run takes one .aexp file (or --resume <run folder>); aexp --help shows the usage');
  const file = positionals[0];
  if (values.resume !== undefined && positionals.length > 0) throw new UsageError(`aexp run takes either a .aexp file or --resume <run folder>, not both`);
  if (file && !existsSync(file)) throw new UsageError(`${file}: no such file`);
  if (file && isFolder(file)) throw new UsageError(`${file}: a folder, not a .aexp file`);
  if (values.resume !== undefined) checkRunFolder(values.resume, '--resume ');
  const epochs = positiveInteger(values.epochs, '--epochs');
  if (values.backend && !(BACKENDS as readonly string[]).includes(values.backend)) throw new UsageError(`--backend must be one of ${BACKENDS.join(', ')}, not "${values.backend}"`);

  let text: string | undefined;
  let outDir = values.out;
  let resume = values.resume;
  let overrides = values.set;
  if (values['sweep-index'] !== undefined) {
    if (!file) throw new UsageError('--sweep-index takes a .aexp file with a sweep cell, not --resume');
    const index = sweepIndex(values['sweep-index']);
    // --out is the parent of the run's folders, as for any run: a task resubmitted there finds its own.
    const parent = values.out ? path.resolve(values.out) : sweepRunParent(sweepRunsFolder(file), file, index);
    const prepared = prepareSweepRun(file, index, parent, values.set ?? []);
    process.stderr.write(`sweep run ${index}: ${describeSweepRun(prepared.run)}\n`);
    const { state } = prepared;
    if (state.kind === 'finished') {
      process.stderr.write(`already finished (${state.summary.status}): ${state.runDir}\n`);
      process.stdout.write(`${state.runDir}\n`);
      return state.summary.status === 'diverged' ? 3 : 0;
    }
    if (state.kind === 'running') throw new RunFolderError(`sweep run ${index} is being trained by ${state.holder} in ${state.runDir}; it is not started a second time`);
    if (state.kind === 'resume') resume = state.runDir;
    else {
      text = prepared.text;
      outDir = parent;
    }
    overrides = undefined;
  }

  const controller = new AbortController();
  let interrupts = 0;
  const onInterrupt = () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    // Training stops after its batch and writes a checkpoint; loading data or choosing a backend just stops.
    process.stderr.write('\ninterrupted: stopping (Ctrl-C again to quit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onInterrupt);
  const orphaned = watchQueue(() => {
    process.stderr.write('\nthe sweep that started this run is gone: stopping with a checkpoint\n');
    controller.abort();
  });

  const interactive = Boolean(process.stderr.isTTY);
  const bar = new cliProgress.SingleBar(
    { format: 'epoch {epoch}/{epochs} |{bar}| {value}/{total} · loss {loss} · {speed} ex/s · ETA {remaining}', stream: process.stderr, hideCursor: true, clearOnComplete: false, barsize: 24, fps: 5 },
    cliProgress.Presets.shades_classic,
  );
  let barEpoch = 0;
  const stopBar = () => {
    if (barEpoch) bar.stop();
    barEpoch = 0;
  };
  const onEvent = (event: EngineEvent) => {
    switch (event.type) {
      case 'log':
        stopBar();
        process.stderr.write(`${event.level === 'info' ? '' : `${event.level}: `}${event.message}\n`);
        break;
      case 'cellOutput':
        stopBar();
        process.stderr.write(`[${event.cell}]\n${indent(event.text)}\n`);
        break;
      case 'progress': {
        if (!interactive) break;
        const payload = { epoch: event.epoch, epochs: event.epochs, loss: event.loss.toFixed(2), speed: Math.round(event.samplesPerSecond), remaining: formatSeconds(event.etaSeconds) };
        if (barEpoch !== event.epoch) {
          stopBar();
          bar.start(event.stepsPerEpoch, event.step, payload);
          barEpoch = event.epoch;
        } else bar.update(event.step, payload);
        break;
      }
      case 'metrics': {
        // Logged steps are for charts (and metrics.jsonl); the terminal shows one line per epoch.
        if (event.record.kind !== 'epoch') break;
        stopBar();
        process.stderr.write(`${epochLine(event.record)}\n`);
        break;
      }
      case 'image':
        break;
    }
  };

  try {
    const result = await runExperiment({
      file: resume ? '' : (file ?? ''),
      text,
      epochs,
      overrides,
      outDir,
      backend: values.backend as BackendName | undefined,
      dataDir: values['data-dir'],
      resume,
      reuse: values.reuse,
      signal: controller.signal,
      onEvent,
    });
    stopBar();
    const { summary } = result;
    if (result.status === 'stopped') process.stderr.write(`resume with: aexp run --resume ${result.runDir}\n`);
    if (summary.test) {
      process.stderr.write(`[summary] ${summary.status} after ${summary.epochs}/${summary.targetEpochs} epochs on ${summary.backend}: test loss ${summary.test.loss.toFixed(3)} ${summary.units}/example (reconstruction ${summary.test.reconstruction.toFixed(3)}${summary.test.kl !== undefined && summary.test.elbo !== undefined ? `, KL ${summary.test.kl.toFixed(3)}` : ''})${summary.test.psnr ? `, PSNR ${summary.test.psnr.toFixed(2)} dB` : ''}${summary.test.sparsity !== undefined ? `, ${(100 * summary.test.sparsity).toFixed(1)}% of code values near zero` : ''}${summary.test.noisyMse !== undefined ? `, MSE ${summary.test.mse!.toFixed(4)} vs ${summary.test.noisyMse.toFixed(4)} for the corrupted input` : ''}${summary.test.maskedMse !== undefined ? `, masked-pixel MSE ${summary.test.maskedMse.toFixed(4)}` : ''}\n`);
    }
    if (result.runDir) {
      process.stderr.write(`images: ${path.join(result.runDir, 'images')}\n`);
      process.stdout.write(`${result.runDir}\n`);
    }
    if (result.status === 'diverged') return 3;
    if (result.status === 'stopped') return 130;
    return 0;
  } finally {
    stopBar();
    clearInterval(orphaned);
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
  }
}

/**
 * A run the local sweep queue started (its own process group, so that the terminal's Ctrl-C does
 * not reach it twice) stops with a checkpoint when the queue dies without stopping it (killed),
 * rather than training on unseen: the queue names itself in SWEEP_QUEUE_VARIABLE.
 */
function watchQueue(stop: () => void): NodeJS.Timeout | undefined {
  const queue = Number(process.env[SWEEP_QUEUE_VARIABLE]);
  if (!Number.isInteger(queue) || queue <= 0) return undefined;
  const timer = setInterval(() => {
    if (process.ppid === queue) return;
    clearInterval(timer);
    stop();
  }, 1000);
  timer.unref();
  return timer;
}

function sweepIndex(value: string): number {
  const index = Number(value);
  if (!(/^\d+$/.test(value) && Number.isSafeInteger(index))) throw new UsageError(`--sweep-index must be a run's index (0, 1, …), not "${value}"`);
  return index;
}

async function validate(files: string[]): Promise<number> {
  if (files.length === 0) throw new UsageError('aexp validate takes one or more .aexp files');
  const flag = files.find((file) => file.startsWith('-'));
  if (flag) throw new UsageError(`aexp validate takes .aexp files, not "${flag}"`);
  await selectBackend('cpu');
  let failed = 0;
  // Every file gets its verdict, whatever happened to the ones before it.
  for (const file of files) if (!validateFile(file)) failed++;
  return failed === 0 ? 0 : 1;
}

/** Validates one file, printing its diagnostics and model summary, or the one line that says why it could not be checked. */
function validateFile(file: string): boolean {
  const fail = (problem: string) => {
    process.stderr.write(`${file}: ${problem}\n`);
    process.stdout.write(`${file}: failed\n`);
    return false;
  };
  if (isFolder(file)) return fail('a folder, not a .aexp file');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return fail(`cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let checked: ReturnType<typeof checkExperiment>;
  try {
    checked = checkExperiment(text, file);
  } catch (error) {
    return fail((error as Error).message.split('\n')[0]);
  }
  const { diagnostics, summary } = checked;
  // The sweep cell's own problems are among the diagnostics; a sweep that expands is counted.
  let sweepRuns: number | undefined;
  try {
    sweepRuns = readSweep(text, file)?.runs.length;
  } catch (error) {
    if (!(error instanceof SweepCellError)) throw error;
  }
  for (const diagnostic of diagnostics) process.stderr.write(`${formatDiagnostic(diagnostic)}${diagnostic.fix ? ` (quick fix: ${diagnostic.fix})` : ''}\n`);
  const errors = diagnostics.filter((diagnostic) => diagnostic.severity === 'error').length;
  process.stdout.write(`${file}: ${errors === 0 ? 'ok' : `${errors} error(s)`}\n`);
  if (summary) process.stdout.write(`${indent(summary)}\n`);
  if (sweepRuns !== undefined) process.stdout.write(`  sweep: ${sweepRuns} run(s) (aexp sweep ${file} --list shows them)\n`);
  return errors === 0;
}

function datasets(argv: string[]): number {
  const { values } = parseArguments({ args: argv, options: { 'data-dir': { type: 'string' } } });
  const dataDir = resolveDataDir(values['data-dir']);
  process.stdout.write(`data folder: ${dataDir}\n`);
  for (const entry of DATASET_CATALOG) {
    const cached = entry.files.length === 0 ? '' : existsSync(path.join(dataDir, entry.name)) ? ' [cached]' : ' [downloaded on first use]';
    process.stdout.write(`  ${entry.name.padEnd(14)} ${entry.source}${cached}\n`);
  }
  return 0;
}

/** Runs a verb with Ctrl-C (and SIGTERM) aborting its signal; a second Ctrl-C quits at once. */
async function withInterrupt(verb: (signal: AbortSignal) => Promise<number>): Promise<number> {
  const controller = new AbortController();
  const onInterrupt = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('\ninterrupted: stopping (Ctrl-C again to quit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onInterrupt);
  try {
    return await verb(controller.signal);
  } finally {
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  switch (command) {
    case 'run':
      return run(rest);
    case 'validate':
      return validate(rest);
    case 'sweep':
      return sweepVerb(rest);
    case 'evaluate':
      return withInterrupt((signal) => evaluateVerb(rest, signal));
    case 'encode':
      return withInterrupt((signal) => encodeVerb(rest, signal));
    case 'decode':
      return withInterrupt((signal) => decodeVerb(rest, signal));
    case 'datasets':
      return datasets(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command "${command}"; aexp --help shows the usage`);
  }
}

// A closed pipe (`aexp validate … | head`) is not an error worth a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    if (error instanceof ExperimentError) process.stderr.write(`${error.message}\n`);
    else if (error instanceof UsageError) process.stderr.write(`aexp: ${error.message}\n`);
    else if (error instanceof RunFolderError || error.name === 'AbortError') process.stderr.write(`aexp: ${error.message}\n`);
    else {
      // A backend that cannot start is a fact about this machine, not a bug: no class name.
      // Neither is a locked run folder (another process trains there) or a checkpoint that cannot be used: each says what and where.
      const plain = ['Error', 'BackendError', 'RunLockedError', 'CheckpointError', 'CheckpointChoiceError', 'MatrixFileError', 'DatasetError', 'SweepRunError', 'SweepCellError', 'SlurmOptionError', 'SlurmError', 'AnalysisError', 'SsimError'].includes(error.name);
      process.stderr.write(`aexp: ${plain ? '' : `${error.name}: `}${error.message}\n`);
      if (process.env.AEXP_DEBUG) process.stderr.write(`${error.stack}\n`);
    }
    // Interrupted before training began: nothing to checkpoint, and the exit status of a stopped run.
    process.exitCode = error instanceof UsageError ? 2 : error.name === 'AbortError' ? 130 : 1;
  },
);
