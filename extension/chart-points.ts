/**
 * One run's chart points, host side, without `vscode` (the extension's TrainingChart adds the
 * output item; plain-Node tests and the views benchmark use this): its recorded history first (a
 * continued run extends the same curve), then each metrics record as it comes; the snapshot that
 * draws alone, and the messages that extend a renderer's chart.
 */
import type { LossUnits, MetricsRecord, MetricsRecordOf } from '../runtime/protocol';
import { compactSnapshot } from './chart-snapshot';
import type { ChartSnapshot, CompactChartSnapshot, EpochPoint, HostMessage, StepPoint } from './renderer-protocol';

/** Logged steps in a snapshot given to the runs panel (the output item is compacted instead, to its byte limit). */
export const SNAPSHOT_STEP_LIMIT = 2000;

export interface ChartHistory {
  steps: readonly MetricsRecordOf<'train'>[];
  epochs: readonly MetricsRecordOf<'epoch'>[];
  resumes: readonly MetricsRecordOf<'resume'>[];
}

/** Keeps points in order: one at or before the last replaces it and all after it (a resume goes on from its checkpoint). */
function extend<T>(list: T[], point: T, key: (point: T) => number): void {
  while (list.length > 0 && key(list[list.length - 1]) >= key(point)) list.pop();
  list.push(point);
}

/** Every `stride`-th point and the last: a snapshot's share of a long history. */
function thinned<T>(points: readonly T[], limit: number): T[] {
  if (points.length <= limit) return points.slice();
  const stride = Math.ceil(points.length / limit);
  const kept = points.filter((_, index) => index % stride === 0);
  if (kept.at(-1) !== points.at(-1)) kept.push(points.at(-1)!);
  return kept;
}

export class ChartPoints {
  private readonly steps: StepPoint[] = [];
  private readonly epochs: EpochPoint[] = [];
  private readonly resumes: number[] = [];
  private units: LossUnits | undefined;
  private origin: number | undefined;
  private lastSeconds = 0;
  /** Points not yet sent by message. */
  private unsent: { steps: StepPoint[]; epochs: EpochPoint[]; resumes: number[] } = { steps: [], epochs: [], resumes: [] };
  live: boolean;

  constructor(readonly id: string, history: ChartHistory | undefined, live: boolean) {
    this.live = live;
    const records: MetricsRecord[] = [...(history?.steps ?? []), ...(history?.epochs ?? []), ...(history?.resumes ?? [])];
    // In the order they happened: an epoch ends after its last logged step.
    records.sort((a, b) => a.step - b.step || (a.kind === 'epoch' ? 1 : 0) - (b.kind === 'epoch' ? 1 : 0));
    for (const record of records) this.add(record);
    this.unsent = { steps: [], epochs: [], resumes: [] };
  }

  /** Seconds since the run's first record (its wall-clock time as written; a record without one keeps the last). */
  private seconds(time: string): number {
    const at = Date.parse(time);
    if (!Number.isFinite(at)) return this.lastSeconds;
    this.origin ??= at;
    this.lastSeconds = Math.max(0, (at - this.origin) / 1000);
    return this.lastSeconds;
  }

  /** Takes a metrics record; says whether it changed the chart. */
  add(record: MetricsRecord): boolean {
    switch (record.kind) {
      case 'train': {
        const point: StepPoint = { step: record.step, epoch: record.epoch, seconds: this.seconds(record.time), loss: record.loss, reconstruction: record.reconstruction, ...(record.kl !== undefined ? { kl: record.kl } : {}), lr: record.lr };
        extend(this.steps, point, (candidate) => candidate.step);
        this.unsent.steps.push(point);
        return true;
      }
      case 'epoch': {
        this.units = record.units;
        const terms = (value: { loss: number; reconstruction: number; kl?: number } | undefined) => (value ? { loss: value.loss, reconstruction: value.reconstruction, ...(value.kl !== undefined ? { kl: value.kl } : {}) } : undefined);
        const test = terms(record.test);
        const point: EpochPoint = { epoch: record.epoch, step: record.step, seconds: this.seconds(record.time), train: terms(record.train)!, ...(test ? { test } : {}) };
        extend(this.epochs, point, (candidate) => candidate.epoch);
        this.unsent.epochs.push(point);
        return true;
      }
      case 'resume':
        if (this.resumes.includes(record.step)) return false;
        this.resumes.push(record.step);
        this.unsent.resumes.push(record.step);
        return true;
      default:
        return false;
    }
  }

  snapshot(): ChartSnapshot {
    return { version: 1, chartId: this.id, ...(this.units ? { units: this.units } : {}), steps: thinned(this.steps, SNAPSHOT_STEP_LIMIT), epochs: this.epochs.slice(), resumes: this.resumes.slice(), live: this.live };
  }

  /** The output item's content: the whole history, compacted (version 2), re-sent each epoch. */
  compact(): CompactChartSnapshot {
    return compactSnapshot({ ...this.snapshot(), steps: this.steps.slice() });
  }

  /** Everything after the renderer's last step and epoch. */
  since(step: number, epoch: number): HostMessage {
    return { type: 'append', chartId: this.id, ...(this.units ? { units: this.units } : {}), steps: this.steps.filter((point) => point.step > step), epochs: this.epochs.filter((point) => point.epoch > epoch), resumes: this.resumes.slice() };
  }

  /** The points added since the last call, as one message; undefined when there are none. */
  takeUnsent(): HostMessage | undefined {
    const { steps, epochs, resumes } = this.unsent;
    if (steps.length + epochs.length + resumes.length === 0) return undefined;
    this.unsent = { steps: [], epochs: [], resumes: [] };
    return { type: 'append', chartId: this.id, ...(this.units ? { units: this.units } : {}), steps, epochs, resumes };
  }
}
