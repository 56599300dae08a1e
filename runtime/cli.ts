/** `aexp`: the command-line front end of the engine. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { BACKENDS, selectBackend } from './backends/select';
import type { BackendName } from './backends/select';
import { DATASET_CATALOG, resolveDataDir } from './data/index';
import { ExperimentError, checkExperiment, formatDiagnostic, runExperiment } from './engine';
import { epochLine } from './format/epoch-line';
import type { EngineEvent } from './protocol';

const USAGE = `usage:
  aexp run <file.aexp> [--epochs N] [--set cell.key=value]... [--out DIR] [--backend ${BACKENDS.join('|')}] [--data-dir DIR] [--reuse]
  aexp run --resume <run folder> [--epochs N]
  aexp validate <file.aexp>...
  aexp datasets [--data-dir DIR]

--reuse uses a finished run with the same data, model and train cells instead of training again.
The data folder defaults to $AEXP_DATA_DIR, then ~/.cache/latent-lab/datasets.`;

class UsageError extends Error {}

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

function indent(text: string): string {
  return text.split('\n').map((line) => `  ${line}`).join('\n');
}

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { epochs: { type: 'string' }, set: { type: 'string', multiple: true }, out: { type: 'string' }, backend: { type: 'string' }, 'data-dir': { type: 'string' }, resume: { type: 'string' }, reuse: { type: 'boolean' } },
  });
  if (!values.resume && positionals.length !== 1) throw new UsageError('aexp run takes one .aexp file (or --resume <run folder>)');
  const file = positionals[0];
  if (file && !existsSync(file)) throw new UsageError(`${file}: no such file`);
  const epochs = values.epochs === undefined ? undefined : Number(values.epochs);
  if (epochs !== undefined && !(Number.isInteger(epochs) && epochs > 0)) throw new UsageError(`--epochs must be a positive whole number, not "${values.epochs}"`);
  if (values.backend && !(BACKENDS as readonly string[]).includes(values.backend)) throw new UsageError(`--backend must be one of ${BACKENDS.join(', ')}, not "${values.backend}"`);

  const controller = new AbortController();
  let interrupts = 0;
  const onInterrupt = () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    process.stderr.write('\ninterrupted: writing a checkpoint (Ctrl-C again to quit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onInterrupt);

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
      file: file ?? '',
      epochs,
      overrides: values.set,
      outDir: values.out,
      backend: values.backend as BackendName | undefined,
      dataDir: values['data-dir'],
      resume: values.resume,
      reuse: values.reuse,
      signal: controller.signal,
      onEvent,
    });
    stopBar();
    const { summary } = result;
    if (result.status === 'stopped') process.stderr.write(`resume with: aexp run --resume ${result.runDir}\n`);
    if (summary.test) {
      process.stderr.write(`[summary] ${summary.status} after ${summary.epochs}/${summary.targetEpochs} epochs on ${summary.backend}: test loss ${summary.test.loss.toFixed(3)} ${summary.units}/example (reconstruction ${summary.test.reconstruction.toFixed(3)}${summary.test.elbo !== undefined ? `, KL ${summary.test.kl.toFixed(3)}` : ''})${summary.test.psnr ? `, PSNR ${summary.test.psnr.toFixed(2)} dB` : ''}${summary.test.sparsity !== undefined ? `, ${(100 * summary.test.sparsity).toFixed(1)}% of code values near zero` : ''}${summary.test.noisyMse !== undefined ? `, MSE ${summary.test.mse!.toFixed(4)} vs ${summary.test.noisyMse.toFixed(4)} for the corrupted input` : ''}${summary.test.maskedMse !== undefined ? `, masked-pixel MSE ${summary.test.maskedMse.toFixed(4)}` : ''}\n`);
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
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
  }
}

async function validate(files: string[]): Promise<number> {
  if (files.length === 0) throw new UsageError('aexp validate takes one or more .aexp files');
  await selectBackend('cpu');
  let failed = 0;
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      process.stderr.write(`${file}: cannot read the file\n`);
      failed++;
      continue;
    }
    const { diagnostics, summary } = checkExperiment(text, file);
    for (const diagnostic of diagnostics) process.stderr.write(`${formatDiagnostic(diagnostic)}${diagnostic.fix ? ` (quick fix: ${diagnostic.fix})` : ''}\n`);
    const errors = diagnostics.filter((diagnostic) => diagnostic.severity === 'error').length;
    if (errors > 0) failed++;
    process.stdout.write(`${file}: ${errors === 0 ? 'ok' : `${errors} error(s)`}\n`);
    if (summary) process.stdout.write(`${indent(summary)}\n`);
  }
  return failed === 0 ? 0 : 1;
}

function datasets(argv: string[]): number {
  const { values } = parseArgs({ args: argv, options: { 'data-dir': { type: 'string' } } });
  const dataDir = resolveDataDir(values['data-dir']);
  process.stdout.write(`data folder: ${dataDir}\n`);
  for (const entry of DATASET_CATALOG) {
    const cached = entry.files.length === 0 ? '' : existsSync(path.join(dataDir, entry.name)) ? ' [cached]' : ' [downloaded on first use]';
    process.stdout.write(`  ${entry.name.padEnd(14)} ${entry.source}${cached}\n`);
  }
  return 0;
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
    case 'datasets':
      return datasets(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command "${command}"`);
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
    else if (error instanceof UsageError) process.stderr.write(`aexp: ${error.message}\n${USAGE}\n`);
    else {
      // A backend that cannot start is a fact about this machine, not a bug: no class name.
      const plain = error.name === 'Error' || error.name === 'BackendError';
      process.stderr.write(`aexp: ${plain ? '' : `${error.name}: `}${error.message}\n`);
      if (process.env.AEXP_DEBUG) process.stderr.write(`${error.stack}\n`);
    }
    process.exitCode = error instanceof UsageError ? 2 : 1;
  },
);
