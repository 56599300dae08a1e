/**
 * The words a run's cells show: progress, the end-of-run summary, why a cell did not run, image
 * captions, and how many epochs Continue Training offers. Plain functions (no `vscode`), tested in Node.
 */
import type { CellName, EngineEvent, RunResult, RunSummary } from '../runtime/protocol';

/** Lines longer than this wrap (a run folder's path is the one line that cannot). */
export const LINE_WIDTH = 100;

export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
}

export function formatNumber(value: unknown): string {
  return typeof value === 'number' ? (Math.abs(value) >= 100 ? value.toFixed(1) : value.toPrecision(4)) : String(value);
}

type Progress = Extract<EngineEvent, { type: 'progress' }>;

export function progressLine(event: Progress): string {
  return `epoch ${event.epoch}/${event.epochs} · step ${event.step}/${event.stepsPerEpoch} · loss ${formatNumber(event.loss)} · ${Math.round(event.samplesPerSecond)} samples/s · ETA ${formatSeconds(event.etaSeconds)}`;
}

/** The status bar's shorter form. */
export function progressStatus(event: Progress): string {
  return `epoch ${event.epoch}/${event.epochs} · step ${event.step}/${event.stepsPerEpoch} · loss ${formatNumber(event.loss)} · ETA ${formatSeconds(event.etaSeconds)}`;
}

/**
 * Breaks a line at its ` · ` separators (else at spaces) so that no piece is wider than `width`;
 * continuation lines are indented by `indent`.
 */
export function wrapLine(line: string, width = LINE_WIDTH, indent = '  '): string[] {
  if (line.length <= width) return [line];
  const pieces = line.includes(' · ') ? line.split(' · ').map((piece, index, all) => (index < all.length - 1 ? `${piece} ·` : piece)) : line.split(' ');
  const lines: string[] = [];
  let current = '';
  for (const piece of pieces) {
    const candidate = current ? `${current} ${piece}` : piece;
    if (current && candidate.length > width) {
      lines.push(current);
      current = `${indent}${piece}`;
    } else current = candidate;
  }
  if (current) lines.push(current);
  return lines;
}

/** Where a stopped run stopped: the summary's own field, else (a run folder written before it existed) its message. */
export function stopPosition(summary: RunSummary): { epoch: number; batch: number } | undefined {
  if (summary.stoppedAt) return summary.stoppedAt;
  const match = /stopped at epoch (\d+), batch (\d+)/.exec(summary.message ?? '');
  return match ? { epoch: Number(match[1]), batch: Number(match[2]) } : undefined;
}

/** What the stopped train cell says: where it stopped and how to go on (in the notebook, not a CLI command). */
export function stopLine(summary: RunSummary): string {
  const position = stopPosition(summary);
  const where = position ? `stopped at epoch ${position.epoch}, batch ${position.batch}` : `stopped after ${summary.epochs} of ${summary.targetEpochs} epochs`;
  const why = summary.stoppedBy === 'shutdown' ? ' because the runtime was shutting down' : '';
  return `${where}${why} — Continue Training resumes from its checkpoint`;
}

/** Why an analysis cell has no output after training ended early. */
export function notRunLine(status: RunResult['status']): string | undefined {
  if (status === 'stopped') return 'not run: training was stopped (Continue Training finishes it, then run this cell)';
  if (status === 'diverged') return 'not run: training diverged';
  return undefined;
}

const TEST_GROUPS: readonly (readonly string[])[] = [['loss', 'reconstruction', 'kl', 'elbo'], ['mse', 'psnr'], ['l1', 'sparsity', 'noisyMse', 'maskedMse']];
const METRIC_NAMES: Record<string, string> = { kl: 'KL', elbo: 'ELBO', mse: 'MSE', psnr: 'PSNR', l1: 'L1', noisyMse: 'noisy MSE', maskedMse: 'masked MSE' };

/** The test metrics, one group per line: losses, then pixel errors, then the model kind's own. */
export function testLines(test: NonNullable<RunSummary['test']>, units: RunSummary['units']): string[] {
  const values = test as unknown as Record<string, number | undefined>;
  const lines: string[] = [];
  for (const group of TEST_GROUPS) {
    // A KL term only means something where there is an ELBO (a plain autoencoder's KL is 0).
    const parts = group.filter((key) => typeof values[key] === 'number' && !(key === 'kl' && values.elbo === undefined))
      .map((key) => `${METRIC_NAMES[key] ?? key} ${formatNumber(values[key])}${key === 'psnr' ? ' dB' : ''}`);
    if (parts.length === 0) continue;
    const prefix = lines.length === 0 ? 'test: ' : '      ';
    const suffix = group[0] === 'loss' ? ` (${units === 'nats' ? 'nats' : 'loss'} per example)` : '';
    lines.push(...wrapLine(`${prefix}${parts.join(' · ')}${suffix}`, LINE_WIDTH, '        '));
  }
  return lines;
}

/** The train cell's last output: how the run ended, on what, its test numbers, where it is kept. */
export function summaryLines(result: RunResult, restoredFrom?: Date): string[] {
  const summary = result.summary;
  const lines: string[] = [];
  if (restoredFrom) lines.push(`last run, ${restoredFrom.toLocaleString()} (shown again from its run folder)`);
  if (summary.reused) lines.push(`reused: ${summary.epochs}/${summary.targetEpochs} epochs, ${summary.steps} steps, trained in ${formatSeconds(summary.reused.trainedSeconds)}`);
  else lines.push(`${summary.status}: ${summary.epochs}/${summary.targetEpochs} epochs, ${summary.steps} steps in ${formatSeconds(summary.durationSeconds)}${summary.samplesPerSecond ? ` (${Math.round(summary.samplesPerSecond)} samples/s)` : ''}`);
  lines.push(`on ${summary.backend} (${summary.device})`);
  if (summary.status === 'stopped') lines.push(stopLine(summary));
  if (summary.test) lines.push(...testLines(summary.test, summary.units));
  // The engine's own stop message names a CLI command; the stop line above says it for the notebook.
  if (summary.message && summary.status !== 'stopped') lines.push(summary.message);
  const wrapped = lines.flatMap((line) => wrapLine(line));
  if (result.runDir) wrapped.push(`run folder: ${result.runDir}`);
  return wrapped;
}

/** The rows of a reconstruction grid, top to bottom, for a model kind (see the engine's reconstruction images). */
export function reconstructionRows(modelKind: string | undefined): string[] {
  if (modelKind === 'denoising-ae') return ['test inputs', 'corrupted inputs', 'reconstructions'];
  if (modelKind === 'masked-ae') return ['test inputs', 'masked inputs (masked patches grey)', 'reconstructions'];
  return ['test inputs', 'reconstructions'];
}

/** Runs of rows that differ only by a consecutive number at their end, as one: "reconstructions after epochs 1–8". */
export function compactRows(rows: readonly string[]): string[] {
  const compact: string[] = [];
  for (let index = 0; index < rows.length;) {
    const match = /^(.*\D)(\d+)$/.exec(rows[index]);
    let end = index;
    while (match && end + 1 < rows.length && rows[end + 1] === `${match[1]}${Number(match[2]) + end + 1 - index}`) end++;
    compact.push(match && end - index >= 2 ? `${match[1].replace(/epoch $/, 'epochs ')}${match[2]}–${Number(match[2]) + end - index}` : rows[index]);
    if (!(match && end - index >= 2)) end = index;
    index = end + 1;
  }
  return compact;
}

/**
 * The line above an image grid: which checkpoint it shows (the train cell's per-epoch history, or
 * the analysis cells' final model) and what its rows are: as the runtime names them, else as the
 * model kind draws them (run folders written before the runtime named them). Wrapped at LINE_WIDTH.
 */
export function gridCaption(image: { cell: CellName; kind: string; epoch: number; rows?: readonly string[] }, modelKind?: string): string {
  const when = image.kind === 'history' ? `after epochs 1–${image.epoch}` : image.cell === 'train' ? `after epoch ${image.epoch}` : `final checkpoint (epoch ${image.epoch})`;
  if (image.rows && image.rows.length > 0) return wrapLine(`${when} — rows: ${compactRows(image.rows).join(' · ')}`).join('\n');
  if (image.kind === 'samples') return `${when} — decoded from random codes z ~ N(0, I)${modelKind === 'cvae' ? ', one row per class' : ''}`;
  return `${when} — rows, repeating: ${reconstructionRows(modelKind).join(', ')}`;
}

/** How far a run got and what Continue Training offers by default. */
export interface ContinuationPlan {
  /** Epochs finished. */
  done: number;
  /** The train cell's `epochs` the run was aiming at. */
  target: number;
  /** Offered in the input box: what remains of the target, or 5 more when the run is complete. */
  more: number;
}

export const MORE_WHEN_COMPLETE = 5;

export function continuationPlan(from: { summary?: Pick<RunSummary, 'epochs' | 'targetEpochs'>; lastEpoch?: number; configEpochs?: number }): ContinuationPlan {
  const done = from.summary?.epochs ?? from.lastEpoch ?? 0;
  const target = from.summary?.targetEpochs ?? from.configEpochs ?? done;
  return { done, target, more: target > done ? target - done : MORE_WHEN_COMPLETE };
}

/** The first argument of "Continue Training" as an epoch count: only a positive whole number is one. */
export function epochCount(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}
