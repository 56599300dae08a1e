/**
 * What the renderer accepts from the host: output items and messages are checked field by field
 * (a notebook file can carry any JSON in an output), and anything else is dropped.
 */
import type { ChartSnapshot, EpochPoint, HostMessage, LossTerms, StepPoint } from '../../extension/renderer-protocol';
import type { LossUnits } from '../../runtime/protocol';

/** More points than any run logs is a damaged or hostile output: refused rather than drawn. */
const POINT_LIMIT = 1_000_000;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isUnits(value: unknown): value is LossUnits {
  return value === 'nats' || value === 'loss';
}

function isTerms(value: unknown): boolean {
  return isObject(value) && isNumber(value.loss) && isNumber(value.reconstruction) && (value.kl === undefined || isNumber(value.kl));
}

function isStep(value: unknown): value is StepPoint {
  return isObject(value) && isTerms(value) && isNumber(value.step) && isNumber(value.epoch) && isNumber(value.seconds) && isNumber(value.lr);
}

function isEpoch(value: unknown): value is EpochPoint {
  return isObject(value) && isNumber(value.epoch) && isNumber(value.step) && isNumber(value.seconds) && isTerms(value.train) && (value.test === undefined || isTerms(value.test));
}

function listOf<T>(value: unknown, check: (item: unknown) => item is T): T[] | undefined {
  return Array.isArray(value) && value.length <= POINT_LIMIT && value.every(check) ? (value as T[]) : undefined;
}

function isChartId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 200;
}

/** A column of `count` numbers (or `null`s, where `nulls`), or undefined. */
function column(value: unknown, count: number, nulls = false): (number | null)[] | undefined {
  return Array.isArray(value) && value.length === count && value.every((item) => isNumber(item) || (nulls && item === null)) ? (value as (number | null)[]) : undefined;
}

/** Integers written as the first value and then differences, summed back. */
function summed(values: readonly (number | null)[]): number[] {
  let total = 0;
  return values.map((value) => (total += value ?? 0));
}

function termsAt(loss: (number | null)[] | undefined, reconstruction: (number | null)[] | undefined, kl: (number | null)[] | undefined, index: number): LossTerms | undefined {
  const lossValue = loss?.[index];
  const reconstructionValue = reconstruction?.[index];
  if (lossValue === null || lossValue === undefined || reconstructionValue === null || reconstructionValue === undefined) return undefined;
  const klValue = kl?.[index];
  return { loss: lossValue, reconstruction: reconstructionValue, ...(klValue !== null && klValue !== undefined ? { kl: klValue } : {}) };
}

/** Version 2's steps as points, or a reason. */
function compactSteps(value: unknown): StepPoint[] | string {
  const reason = 'steps must be columns step, epoch, centiseconds, loss, reconstruction, kl? and lr of one length';
  if (!isObject(value) || !Array.isArray(value.step) || value.step.length > POINT_LIMIT) return reason;
  const count = value.step.length;
  const step = column(value.step, count);
  const epoch = column(value.epoch, count);
  const centiseconds = column(value.centiseconds, count);
  const loss = column(value.loss, count);
  const reconstruction = column(value.reconstruction, count);
  const kl = value.kl === undefined ? undefined : column(value.kl, count, true);
  const lr = Array.isArray(value.lr) && value.lr.length % 2 === 0 && value.lr.length <= count * 2 && value.lr.every(isNumber) ? (value.lr as number[]) : undefined;
  if (!step || !epoch || !centiseconds || !loss || !reconstruction || (value.kl !== undefined && !kl) || !lr || (count > 0 && lr[0] !== 0)) return reason;
  const steps = summed(step);
  const epochs = summed(epoch);
  const times = summed(centiseconds);
  const points: StepPoint[] = [];
  let change = 0;
  let rate = 0;
  for (let index = 0; index < count; index++) {
    if (change < lr.length && lr[change] === index) {
      rate = lr[change + 1];
      change += 2;
    }
    const klValue = kl?.[index];
    points.push({ step: steps[index], epoch: epochs[index], seconds: times[index] / 100, loss: loss[index]!, reconstruction: reconstruction[index]!, ...(klValue !== null && klValue !== undefined ? { kl: klValue } : {}), lr: rate });
  }
  return points;
}

/** Version 2's epochs as points, or a reason. */
function compactEpochs(value: unknown): EpochPoint[] | string {
  const reason = 'epochs must be columns epoch, step, centiseconds, trainLoss, trainReconstruction and optional ones of one length';
  if (!isObject(value) || !Array.isArray(value.epoch) || value.epoch.length > POINT_LIMIT) return reason;
  const count = value.epoch.length;
  const epoch = column(value.epoch, count);
  const step = column(value.step, count);
  const centiseconds = column(value.centiseconds, count);
  const trainLoss = column(value.trainLoss, count);
  const trainReconstruction = column(value.trainReconstruction, count);
  // An absent optional column is null here; one present but malformed is undefined.
  const optional = (['trainKl', 'testLoss', 'testReconstruction', 'testKl'] as const).map((name) => (value[name] === undefined ? null : column(value[name], count, true)));
  if (!epoch || !step || !centiseconds || !trainLoss || !trainReconstruction || optional.includes(undefined)) return reason;
  const [trainKl, testLoss, testReconstruction, testKl] = optional.map((found) => found ?? undefined);
  const epochs = summed(epoch);
  const steps = summed(step);
  const times = summed(centiseconds);
  return epochs.map((number, index) => {
    const test = termsAt(testLoss, testReconstruction, testKl, index);
    return { epoch: number, step: steps[index], seconds: times[index] / 100, train: termsAt(trainLoss, trainReconstruction, trainKl, index)!, ...(test ? { test } : {}) };
  });
}

/** The output item (version 2, or version 1 as notebooks saved before hold it), or a reason it cannot be drawn. */
export function parseSnapshot(value: unknown): ChartSnapshot | string {
  if (!isObject(value) || (value.version !== 1 && value.version !== 2)) return 'expected a chart snapshot of version 1 or 2';
  if (!isChartId(value.chartId)) return 'chartId must be a short string';
  if (value.units !== undefined && !isUnits(value.units)) return 'units must be nats or loss';
  const resumes = listOf(value.resumes, isNumber);
  if (!resumes) return 'resumes must be a list of steps';
  const steps = value.version === 2 ? compactSteps(value.steps) : (listOf(value.steps, isStep) ?? 'steps must be a list of {step, epoch, seconds, loss, reconstruction, lr}');
  const epochs = value.version === 2 ? compactEpochs(value.epochs) : (listOf(value.epochs, isEpoch) ?? 'epochs must be a list of {epoch, step, seconds, train, test?}');
  if (typeof steps === 'string') return steps;
  if (typeof epochs === 'string') return epochs;
  return { version: 1, chartId: value.chartId, ...(value.units ? { units: value.units } : {}), steps, epochs, resumes, live: value.live === true };
}

/** A message from the host, or undefined for anything this renderer does not know. */
export function parseHostMessage(value: unknown): HostMessage | undefined {
  if (!isObject(value) || !isChartId(value.chartId)) return undefined;
  if (value.type === 'ended') return { type: 'ended', chartId: value.chartId };
  if (value.type !== 'append') return undefined;
  if (value.units !== undefined && !isUnits(value.units)) return undefined;
  const steps = listOf(value.steps, isStep);
  const epochs = listOf(value.epochs, isEpoch);
  const resumes = listOf(value.resumes, isNumber);
  if (!steps || !epochs || !resumes) return undefined;
  return { type: 'append', chartId: value.chartId, ...(value.units ? { units: value.units } : {}), steps, epochs, resumes, ...(isNumber(value.sentAt) ? { sentAt: value.sentAt } : {}) };
}
