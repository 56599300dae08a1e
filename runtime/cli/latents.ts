/** `aexp encode` and `aexp decode`: a trained run's latent codes out to a file, and latent vectors from a file back to images. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import cliProgress from 'cli-progress';
import type { SplitName } from '../analysis/latent-codes';
import { decodeLatents, encodeSplit } from '../analysis/latent-codes';
import { BACKENDS } from '../backends/select';
import type { BackendName } from '../backends/select';
import { readMatrixFile, writeMatrixFile } from '../format/matrix-file';
import { openRun } from '../run/open-run';
import { gridPng, writePng } from '../train/images';
import { UsageError, checkRunFolder, isFolder, parseArguments, positiveInteger } from './support';

/** The options every verb that opens a run takes. */
export const RUN_OPTIONS = {
  checkpoint: { type: 'string' },
  backend: { type: 'string' },
  'data-dir': { type: 'string' },
} as const;

export function checkBackend(value: string | undefined): BackendName | undefined {
  if (value !== undefined && !(BACKENDS as readonly string[]).includes(value)) throw new UsageError(`--backend must be one of ${BACKENDS.join(', ')}, not "${value}"`);
  return value as BackendName | undefined;
}

/** The one run folder a verb takes, checked. */
export function runFolderArgument(verb: string, positionals: string[]): string {
  if (positionals.length !== 1) throw new UsageError(`aexp ${verb} takes one run folder; aexp --help shows the usage`);
  checkRunFolder(positionals[0], '');
  return positionals[0];
}

function checkOutput(file: string | undefined, extensions: string[]): string {
  if (!file) throw new UsageError(`--out is required (${extensions.join(' or ')})`);
  if (!extensions.includes(path.extname(file).toLowerCase())) throw new UsageError(`--out ${file}: give a ${extensions.join(' or ')} file`);
  if (isFolder(file)) throw new UsageError(`--out ${file}: a folder`);
  if (!existsSync(path.dirname(path.resolve(file)))) throw new UsageError(`--out ${file}: its folder does not exist`);
  return file;
}

export async function encodeVerb(argv: string[], signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseArguments({ args: argv, allowPositionals: true, options: { ...RUN_OPTIONS, split: { type: 'string' }, limit: { type: 'string' }, out: { type: 'string' } } });
  const runDir = runFolderArgument('encode', positionals);
  const split = (values.split ?? 'test') as SplitName;
  if (!['train', 'test', 'all'].includes(split)) throw new UsageError(`--split must be train, test or all, not "${values.split}"`);
  const limit = positiveInteger(values.limit, '--limit');
  const out = checkOutput(values.out, ['.npy', '.csv']);
  const run = await openRun(runDir, { checkpoint: values.checkpoint, dataDir: values['data-dir'], backend: checkBackend(values.backend), data: true, signal });
  try {
    const bar = process.stderr.isTTY ? new cliProgress.SingleBar({ format: 'encoding |{bar}| {value}/{total}', stream: process.stderr, hideCursor: true, barsize: 24 }, cliProgress.Presets.shades_classic) : undefined;
    let started = false;
    const codes = await encodeSplit(run.model, run.dataset!, run.config.data, {
      split,
      limit,
      seed: run.config.seed,
      signal,
      onProgress: (done, total) => {
        if (!bar) return;
        if (!started) bar.start(total, done);
        else bar.update(done);
        started = true;
      },
    });
    bar?.stop();
    const names = Array.from({ length: codes.latent }, (_, index) => `z${index}`);
    const withLabels = run.dataset!.classes.length > 0;
    if (path.extname(out).toLowerCase() === '.csv') {
      // One table: the means, then the label (the dataset's class index) where there is one.
      const columns = codes.latent + (withLabels ? 1 : 0);
      const values = new Float32Array(codes.count * columns);
      for (let row = 0; row < codes.count; row++) {
        values.set(codes.means.subarray(row * codes.latent, (row + 1) * codes.latent), row * columns);
        if (withLabels) values[row * columns + codes.latent] = codes.labels[row];
      }
      writeMatrixFile(out, { rows: codes.count, columns, values, names: withLabels ? [...names, 'label'] : names });
      process.stderr.write(`${codes.count} ${split} examples × ${codes.latent} latent means${withLabels ? ' and their labels' : ''} (checkpoint ${run.checkpoint}) → ${out}\n`);
    } else {
      writeMatrixFile(out, { rows: codes.count, columns: codes.latent, values: codes.means });
      const labelsFile = out.replace(/\.npy$/i, '.labels.npy');
      if (withLabels) writeMatrixFile(labelsFile, { rows: codes.count, columns: 1, values: Float32Array.from(codes.labels) });
      process.stderr.write(`${codes.count} ${split} examples × ${codes.latent} latent means (checkpoint ${run.checkpoint}) → ${out}${withLabels ? `; labels → ${labelsFile}` : ''}\n`);
    }
    process.stdout.write(`${out}\n`);
    return 0;
  } finally {
    run.dispose();
  }
}

export async function decodeVerb(argv: string[], signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseArguments({ args: argv, allowPositionals: true, options: { ...RUN_OPTIONS, z: { type: 'string' }, label: { type: 'string' }, out: { type: 'string' }, columns: { type: 'string' } } });
  const runDir = runFolderArgument('decode', positionals);
  if (!values.z) throw new UsageError('--z is required: a .npy or .csv of latent vectors, one per row');
  if (!existsSync(values.z)) throw new UsageError(`--z ${values.z}: no such file`);
  const out = checkOutput(values.out, ['.png']);
  const label = values.label === undefined ? undefined : Number(values.label);
  if (label !== undefined && !(Number.isInteger(label) && label >= 0)) throw new UsageError(`--label must be a class index (0, 1, …), not "${values.label}"`);
  const columns = positiveInteger(values.columns, '--columns');
  const z = readMatrixFile(values.z);
  const run = await openRun(runDir, { checkpoint: values.checkpoint, dataDir: values['data-dir'], backend: checkBackend(values.backend), signal });
  try {
    if (z.columns !== run.model.latent) throw new UsageError(`--z ${values.z}: ${z.columns} values per row; this run's latent space has ${run.model.latent} dimensions`);
    if (run.model.classes > 0 && label === undefined) throw new UsageError(`this run is a cvae: give --label (0–${run.model.classes - 1}), the class every vector is decoded as`);
    if (run.model.classes === 0 && label !== undefined) throw new UsageError(`--label: this run's model (${run.model.kind}) is not conditional`);
    const pixels = await decodeLatents(run.model, z.values, z.rows, label === undefined ? undefined : new Array<number>(z.rows).fill(label));
    const [height, width, channels] = run.model.inputShape;
    writePng(out, gridPng({ pixels, count: z.rows, height, width, channels }, columns ?? Math.min(8, z.rows)));
    process.stderr.write(`${z.rows} latent vector(s) decoded (checkpoint ${run.checkpoint}${label !== undefined ? `, class ${label}` : ''}) → ${out}\n`);
    process.stdout.write(`${out}\n`);
    return 0;
  } finally {
    run.dispose();
  }
}
