/**
 * The chart's output item in its compact form (version 2 of the snapshot, see renderer-protocol.ts):
 * columns instead of one object per point, integers as differences, losses rounded to what a chart
 * can show, and a long run thinned by the renderer's own rule until the item fits its byte limit.
 * No `vscode` here: plain-Node tests and the benchmark encode with it too.
 */
import type { ChartSnapshot, CompactChartSnapshot, EpochPoint, StepPoint } from './renderer-protocol';

/** T4: an output item is re-sent whole each epoch. */
export const SNAPSHOT_BYTE_LIMIT = 64 * 1024;
/** Columns of steps a snapshot starts from (more than a notebook's chart is wide); halved until it fits. */
const FIRST_COLUMNS = 1024;
const SIGNIFICANT_DIGITS = 5;

function rounded(value: number): number {
  return Number(value.toPrecision(SIGNIFICANT_DIGITS));
}

function roundedOrNull(value: number | undefined): number | null {
  return value === undefined ? null : rounded(value);
}

/** The first value, then each one's difference from the one before. */
function differences(values: readonly number[]): number[] {
  return values.map((value, index) => (index === 0 ? value : value - values[index - 1]));
}

/** A column with `null` where a point has no value, or nothing when no point has one. */
function optional<T>(points: readonly T[], value: (point: T) => number | undefined): (number | null)[] | undefined {
  return points.some((point) => value(point) !== undefined) ? points.map((point) => roundedOrNull(value(point))) : undefined;
}

/**
 * Which points to keep: per column of x, the first, lowest, highest and last (the renderer's
 * thinning, so the line looks as it does with every point), and every point where `always` says so.
 */
export function keptIndices(xs: readonly number[], ys: readonly number[], columns: number, always: (index: number) => boolean = () => false): number[] {
  if (xs.length <= columns * 2) return xs.map((_, index) => index);
  const first = xs[0];
  const span = xs[xs.length - 1] - first || 1;
  const kept = new Set<number>();
  let index = 0;
  while (index < xs.length) {
    const column = Math.min(columns - 1, Math.floor(((xs[index] - first) / span) * columns));
    const start = index;
    let low = index;
    let high = index;
    while (index < xs.length && Math.min(columns - 1, Math.floor(((xs[index] - first) / span) * columns)) === column) {
      if (ys[index] < ys[low]) low = index;
      if (ys[index] > ys[high]) high = index;
      if (always(index)) kept.add(index);
      index++;
    }
    kept.add(start).add(low).add(high).add(index - 1);
  }
  return [...kept].sort((a, b) => a - b);
}

const centiseconds = (seconds: number) => Math.round(seconds * 100);

function stepColumns(steps: readonly StepPoint[]): CompactChartSnapshot['steps'] {
  const lr: number[] = [];
  steps.forEach((point, index) => {
    const rate = rounded(point.lr);
    if (lr.length === 0 || lr[lr.length - 1] !== rate) lr.push(index, rate);
  });
  const kl = optional(steps, (point) => point.kl);
  return {
    step: differences(steps.map((point) => point.step)),
    epoch: differences(steps.map((point) => point.epoch)),
    centiseconds: differences(steps.map((point) => centiseconds(point.seconds))),
    loss: steps.map((point) => rounded(point.loss)),
    reconstruction: steps.map((point) => rounded(point.reconstruction)),
    ...(kl ? { kl } : {}),
    lr,
  };
}

function epochColumns(epochs: readonly EpochPoint[]): CompactChartSnapshot['epochs'] {
  const columns: CompactChartSnapshot['epochs'] = {
    epoch: differences(epochs.map((point) => point.epoch)),
    step: differences(epochs.map((point) => point.step)),
    centiseconds: differences(epochs.map((point) => centiseconds(point.seconds))),
    trainLoss: epochs.map((point) => rounded(point.train.loss)),
    trainReconstruction: epochs.map((point) => rounded(point.train.reconstruction)),
  };
  const named: [keyof CompactChartSnapshot['epochs'], (point: EpochPoint) => number | undefined][] = [
    ['trainKl', (point) => point.train.kl],
    ['testLoss', (point) => point.test?.loss],
    ['testReconstruction', (point) => point.test?.reconstruction],
    ['testKl', (point) => point.test?.kl],
  ];
  for (const [name, value] of named) {
    const column = optional(epochs, value);
    if (column) (columns as Record<string, (number | null)[]>)[name] = column;
  }
  return columns;
}

const byteLength = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)).byteLength;

function pick<T>(points: readonly T[], indices: readonly number[]): T[] {
  return indices.map((index) => points[index]);
}

/** One snapshot's steps and epochs thinned to `columns` columns (the learning rate's changes kept). */
function thinnedTo(snapshot: ChartSnapshot, columns: number): { steps: StepPoint[]; epochs: EpochPoint[] } {
  const { steps, epochs } = snapshot;
  const rateChanges = (index: number) => index > 0 && steps[index].lr !== steps[index - 1].lr;
  const keptSteps = keptIndices(steps.map((point) => point.step), steps.map((point) => point.loss), columns, rateChanges);
  const keptEpochs = keptIndices(epochs.map((point) => point.step), epochs.map((point) => point.test?.loss ?? point.train.loss), columns);
  return { steps: pick(steps, keptSteps), epochs: pick(epochs, keptEpochs) };
}

/**
 * The snapshot as the output item writes it: every point while it fits `limit` bytes of JSON,
 * else thinned to half the columns until it does (a run of 20k logged steps keeps about 1024
 * columns of them).
 */
export function compactSnapshot(snapshot: ChartSnapshot, limit = SNAPSHOT_BYTE_LIMIT): CompactChartSnapshot {
  const encode = (steps: readonly StepPoint[], epochs: readonly EpochPoint[]): CompactChartSnapshot => ({
    version: 2,
    chartId: snapshot.chartId,
    ...(snapshot.units ? { units: snapshot.units } : {}),
    steps: stepColumns(steps),
    epochs: epochColumns(epochs),
    resumes: snapshot.resumes.slice(),
    live: snapshot.live,
  });
  let compact = encode(snapshot.steps, snapshot.epochs);
  for (let columns = FIRST_COLUMNS; columns >= 16 && byteLength(compact) > limit; columns /= 2) {
    const { steps, epochs } = thinnedTo(snapshot, columns);
    compact = encode(steps, epochs);
  }
  return compact;
}
