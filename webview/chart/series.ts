/**
 * The chart's data, apart from drawing: every point received (the full history, never thinned
 * here), the series derived from it for an x axis and a smoothing, and the thinning to about one
 * point per pixel column that keeps chart.js fast with tens of thousands of points.
 */
import type { ChartSnapshot, EpochPoint, LossTerms, StepPoint } from '../../extension/renderer-protocol';
import type { LossUnits } from '../../runtime/protocol';

export type XAxis = 'step' | 'epoch' | 'seconds';

export interface Point {
  x: number;
  y: number;
}

export interface SeriesSpec {
  id: string;
  label: string;
  /** Index into the theme's chart colours. */
  colour: number;
  /** Per logged step (smoothed when asked), or per epoch (drawn with markers). */
  per: 'step' | 'epoch';
  /** Shown until the person hides it from the legend. */
  shownAtFirst: boolean;
  /** On the right-hand axis (the learning rate). */
  rightAxis?: boolean;
  /** Whether the history has any of this series' values: cheap, so that hidden series cost nothing. */
  present: (history: History) => boolean;
  /** The series' value at a logged step (per-step series) or at an epoch's end (per-epoch series). */
  step?: (point: StepPoint) => number | undefined;
  epoch?: (point: EpochPoint) => number | undefined;
}

/** A per-step series as drawn: smoothed and raw, each thinned to the canvas width, computed in one pass. */
export interface StepLine {
  smoothed: Point[];
  raw: Point[];
  /** Every value is above zero (a log scale can show it). */
  positive: boolean;
  lastX: number | undefined;
}

/**
 * Keeps, per pixel column of x, the first, lowest, highest and last point, in x order, so that
 * spikes survive and the line looks as it would with every point drawn. Only what is kept is
 * allocated: the pass over tens of thousands of points creates no objects for the rest. Points
 * can be added after `points()` was read: a live run's line grows without being thinned again.
 */
class ColumnThinner {
  /** Every column before the current one, final. */
  private readonly closed: Point[] = [];
  private column = -1;
  private index = 0;
  /** first, lowest, highest, last: [index, x, y] each. */
  private readonly kept = new Float64Array(12);

  constructor(private readonly start: number, private readonly span: number, private readonly width: number, private readonly keepAll: boolean) {}

  add(x: number, y: number): void {
    const index = this.index++;
    if (this.keepAll) {
      this.closed.push({ x, y });
      return;
    }
    const column = Math.min(this.width - 1, Math.max(0, Math.floor(((x - this.start) / this.span) * this.width)));
    const kept = this.kept;
    if (column !== this.column) {
      this.keptPoints(this.closed);
      this.column = column;
      for (let slot = 0; slot < 12; slot += 3) {
        kept[slot] = index;
        kept[slot + 1] = x;
        kept[slot + 2] = y;
      }
      return;
    }
    if (y < kept[5]) {
      kept[3] = index;
      kept[4] = x;
      kept[5] = y;
    }
    if (y > kept[8]) {
      kept[6] = index;
      kept[7] = x;
      kept[8] = y;
    }
    kept[9] = index;
    kept[10] = x;
    kept[11] = y;
  }

  /** The current column's kept points, in the order they came, onto `into`. */
  private keptPoints(into: Point[]): void {
    if (this.column < 0) return;
    const kept = this.kept;
    const order = [0, 3, 6, 9].sort((a, b) => kept[a] - kept[b]);
    let last = -1;
    for (const slot of order) {
      if (kept[slot] === last) continue;
      last = kept[slot];
      into.push({ x: kept[slot + 1], y: kept[slot + 2] });
    }
  }

  /** What to draw now: a new array (chart.js is given new arrays, never ones it has seen change). */
  points(): Point[] {
    const points = this.closed.slice();
    this.keptPoints(points);
    return points;
  }
}

/** A per-step series' drawn line as far as it has been computed, continued while only new steps arrive. */
interface LineState {
  /** What the line was computed for: anything else computes it again. */
  weight: number;
  width: number;
  x: XAxis;
  rewrites: number;
  epochs: number;
  start: number;
  /** The x up to which the columns reach: a power of two times the unit, so they stay put while the run grows into it. */
  end: number;
  keepAll: boolean;
  /** The next step to take. */
  next: number;
  average: number;
  debias: number;
  positive: boolean;
  lastX: number | undefined;
  smoothed: ColumnThinner;
  raw: ColumnThinner | undefined;
}

/** The smallest power of two at least `span` (a span of 0 counts as 1). */
function columnsSpan(span: number): number {
  return 2 ** Math.ceil(Math.log2(span > 0 ? span : 1));
}

/** Keeps points in step order: a point at or before the last one replaces it and all after it (a resume). */
function extend<T>(list: T[], points: readonly T[], key: (point: T) => number): void {
  for (const point of points) {
    while (list.length > 0 && key(list[list.length - 1]) >= key(point)) list.pop();
    list.push(point);
  }
}

export class History {
  readonly steps: StepPoint[] = [];
  readonly epochs: EpochPoint[] = [];
  readonly resumes: number[] = [];
  units: LossUnits | undefined;
  x: XAxis = 'step';
  /** Step at which each epoch ended, by epoch: built when first needed after the epochs change. */
  private ends: Map<number, number> | undefined;
  /** How many times logged steps were replaced (a resume): a line computed before is stale. */
  private rewrites = 0;
  /** The logged steps at which the learning rate dropped, kept as they arrive. */
  private readonly drops: StepPoint[] = [];
  /** Some logged step has a KL term (kept as they arrive: asked on every update). */
  private stepsHaveKl = false;
  /** Each per-step series' line, by its value function, continued from update to update. */
  private readonly lines = new Map<(point: StepPoint) => number | undefined, LineState>();

  add(update: { units?: LossUnits; steps: readonly StepPoint[]; epochs: readonly EpochPoint[]; resumes?: readonly number[] }): void {
    if (update.units) this.units = update.units;
    const steps = this.steps;
    for (const point of update.steps) {
      if (steps.length > 0 && steps[steps.length - 1].step >= point.step) this.rewrites++;
      while (steps.length > 0 && steps[steps.length - 1].step >= point.step) {
        if (this.drops.at(-1) === steps.pop()) this.drops.pop();
      }
      if (steps.length > 0 && point.lr < steps[steps.length - 1].lr) this.drops.push(point);
      if (point.kl !== undefined) this.stepsHaveKl = true;
      steps.push(point);
    }
    extend(this.epochs, update.epochs, (point) => point.epoch);
    if (update.epochs.length > 0) this.ends = undefined;
    for (const resume of update.resumes ?? []) if (!this.resumes.includes(resume)) this.resumes.push(resume);
  }

  load(snapshot: ChartSnapshot): void {
    this.add(snapshot);
  }

  get lastStep(): number {
    return this.steps.at(-1)?.step ?? 0;
  }

  get lastEpoch(): number {
    return this.epochs.at(-1)?.epoch ?? 0;
  }

  get stepsKl(): boolean {
    return this.stepsHaveKl;
  }

  /** Variational kinds report a KL term; plain autoencoders do not. */
  get variational(): boolean {
    return this.stepsHaveKl || this.epochs.some((point) => point.train.kl !== undefined);
  }

  /**
   * Where a step lies on the epoch axis: epoch e spans (e − 1, e], its length taken from the
   * steps at which epochs ended (the running epoch's from the one before it).
   */
  epochOf(step: number, epoch: number): number {
    this.ends ??= new Map(this.epochs.map((point) => [point.epoch, point.step]));
    const start = this.ends.get(epoch - 1) ?? (epoch === 1 ? 0 : undefined);
    const end = this.ends.get(epoch);
    const length = end !== undefined && start !== undefined ? end - start : this.epochs.length > 0 ? this.epochs[0].step : undefined;
    if (start === undefined || !length || length <= 0) return epoch - 1;
    return epoch - 1 + Math.min(1, Math.max(0, (step - start) / length));
  }

  xOfStep(point: StepPoint): number {
    return this.x === 'step' ? point.step : this.x === 'seconds' ? point.seconds : this.epochOf(point.step, point.epoch);
  }

  xOfEpoch(point: EpochPoint): number {
    return this.x === 'step' ? point.step : this.x === 'seconds' ? point.seconds : point.epoch;
  }

  /**
   * A per-step series, smoothed by an EMA of this weight (TensorBoard's, debiased) and thinned to
   * about `columns`, in one pass. While only new steps arrive, the pass goes on from where the
   * last one stopped: the columns span a power of two of x, so they hold still until the run
   * outgrows them (at least half of them are used).
   */
  stepLine(value: (point: StepPoint) => number | undefined, weight: number, columns: number): StepLine {
    const steps = this.steps;
    const width = Math.max(1, Math.floor(columns));
    if (steps.length === 0) return { smoothed: [], raw: [], positive: true, lastX: undefined };
    const start = this.xOfStep(steps[0]);
    const last = this.xOfStep(steps[steps.length - 1]);
    const epochs = this.x === 'epoch' ? this.epochs.length : 0;
    let line = this.lines.get(value);
    const current = line && line.weight === weight && line.width === width && line.x === this.x && line.rewrites === this.rewrites && line.epochs === epochs && line.start === start && last <= line.end && (!line.keepAll || steps.length <= width * 2) && line.next <= steps.length;
    if (!line || !current) {
      const end = start + columnsSpan(last - start);
      const keepAll = steps.length <= width * 2;
      line = { weight, width, x: this.x, rewrites: this.rewrites, epochs, start, end, keepAll, next: 0, average: 0, debias: 0, positive: true, lastX: undefined, smoothed: new ColumnThinner(start, end - start, width, keepAll), raw: weight > 0 ? new ColumnThinner(start, end - start, width, keepAll) : undefined };
      this.lines.set(value, line);
    }
    const { smoothed, raw } = line;
    for (let index = line.next; index < steps.length; index++) {
      const point = steps[index];
      const y = value(point);
      if (y === undefined || !Number.isFinite(y)) continue;
      const x = this.xOfStep(point);
      if (y <= 0) line.positive = false;
      line.lastX = x;
      if (!raw) {
        smoothed.add(x, y);
        continue;
      }
      line.average = line.average * weight + (1 - weight) * y;
      line.debias = line.debias * weight + (1 - weight);
      smoothed.add(x, line.average / line.debias);
      raw.add(x, y);
    }
    line.next = steps.length;
    return { smoothed: smoothed.points(), raw: raw?.points() ?? [], positive: line.positive, lastX: line.lastX };
  }

  epochSeries(value: (point: EpochPoint) => number | undefined): Point[] {
    const points: Point[] = [];
    for (const point of this.epochs) {
      const y = value(point);
      if (y !== undefined && Number.isFinite(y)) points.push({ x: this.xOfEpoch(point), y });
    }
    return points;
  }

  /** Where resumed runs went on, on the current x axis. */
  resumeMarks(): number[] {
    return this.resumes.map((step) => {
      const after = this.steps.find((point) => point.step >= step);
      return this.x === 'step' || !after ? step : this.xOfStep(after);
    });
  }

  /** Where the learning rate dropped (a step schedule, a plateau), on the current x axis. */
  rateDrops(): number[] {
    return this.drops.map((point) => this.xOfStep(point));
  }
}

const term = (terms: LossTerms | undefined, key: keyof LossTerms) => terms?.[key];

/** Every series the chart can show, in legend order. Those with no points are left out of the legend. */
const hasSteps = (history: History) => history.steps.length > 0;
const hasEpochs = (history: History) => history.epochs.length > 0;
const hasTest = (history: History) => history.epochs.some((point) => point.test !== undefined);
const hasTestKl = (history: History) => history.epochs.some((point) => point.test?.kl !== undefined);

export const SERIES: readonly SeriesSpec[] = [
  { id: 'step-loss', label: 'loss (per step)', colour: 0, per: 'step', shownAtFirst: true, present: hasSteps, step: (point) => point.loss },
  { id: 'step-reconstruction', label: 'reconstruction (per step)', colour: 3, per: 'step', shownAtFirst: false, present: hasSteps, step: (point) => point.reconstruction },
  { id: 'step-kl', label: 'KL (per step)', colour: 4, per: 'step', shownAtFirst: false, present: (history) => history.stepsKl, step: (point) => point.kl },
  { id: 'train-loss', label: 'train loss (epoch)', colour: 1, per: 'epoch', shownAtFirst: true, present: hasEpochs, epoch: (point) => point.train.loss },
  { id: 'test-loss', label: 'test loss (epoch)', colour: 2, per: 'epoch', shownAtFirst: true, present: hasTest, epoch: (point) => term(point.test, 'loss') },
  { id: 'test-reconstruction', label: 'test reconstruction (epoch)', colour: 3, per: 'epoch', shownAtFirst: false, present: hasTest, epoch: (point) => term(point.test, 'reconstruction') },
  { id: 'test-kl', label: 'test KL (epoch)', colour: 4, per: 'epoch', shownAtFirst: false, present: hasTestKl, epoch: (point) => term(point.test, 'kl') },
  { id: 'lr', label: 'learning rate', colour: 5, per: 'step', shownAtFirst: false, rightAxis: true, present: hasSteps, step: (point) => point.lr },
];

/**
 * At most about `columns` × 4 points: per column of x, the first, lowest, highest and last point,
 * in x order, so spikes survive and the line looks as it would with every point drawn.
 */
export function thin(points: readonly Point[], columns: number): Point[] {
  const width = Math.max(1, Math.floor(columns));
  if (points.length <= width * 2) return points.slice();
  const first = points[0].x;
  const span = points[points.length - 1].x - first || 1;
  const result: Point[] = [];
  let index = 0;
  while (index < points.length) {
    const column = Math.min(width - 1, Math.floor(((points[index].x - first) / span) * width));
    const start = index;
    let low = index;
    let high = index;
    while (index < points.length && Math.min(width - 1, Math.floor(((points[index].x - first) / span) * width)) === column) {
      if (points[index].y < points[low].y) low = index;
      if (points[index].y > points[high].y) high = index;
      index++;
    }
    const end = index - 1;
    for (const kept of [...new Set([start, low, high, end])].sort((a, b) => a - b)) result.push(points[kept]);
  }
  return result;
}

/** The history as CSV: one row per logged step and one per epoch, every value as received. */
export function toCsv(history: History): string {
  const rows = ['record,epoch,step,seconds,loss,reconstruction,kl,lr,test_loss,test_reconstruction,test_kl'];
  const value = (number: number | undefined) => (number === undefined ? '' : String(number));
  for (const point of history.steps) rows.push(['step', point.epoch, point.step, point.seconds, point.loss, point.reconstruction, value(point.kl), point.lr, '', '', ''].join(','));
  for (const point of history.epochs) rows.push(['epoch', point.epoch, point.step, point.seconds, point.train.loss, point.train.reconstruction, value(point.train.kl), '', value(point.test?.loss), value(point.test?.reconstruction), value(point.test?.kl)].join(','));
  return `${rows.join('\n')}\n`;
}
