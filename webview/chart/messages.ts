/**
 * What the renderer accepts from the host: output items and messages are checked field by field
 * (a notebook file can carry any JSON in an output), and anything else is dropped.
 */
import type { ChartSnapshot, EpochPoint, HostMessage, StepPoint } from '../../extension/renderer-protocol';
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

/** The output item, or a reason it cannot be drawn. */
export function parseSnapshot(value: unknown): ChartSnapshot | string {
  if (!isObject(value) || value.version !== 1) return 'expected a chart snapshot of version 1';
  if (!isChartId(value.chartId)) return 'chartId must be a short string';
  if (value.units !== undefined && !isUnits(value.units)) return 'units must be nats or loss';
  const steps = listOf(value.steps, isStep);
  const epochs = listOf(value.epochs, isEpoch);
  const resumes = listOf(value.resumes, isNumber);
  if (!steps) return 'steps must be a list of {step, epoch, seconds, loss, reconstruction, lr}';
  if (!epochs) return 'epochs must be a list of {epoch, step, seconds, train, test?}';
  if (!resumes) return 'resumes must be a list of steps';
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
  return { type: 'append', chartId: value.chartId, ...(value.units ? { units: value.units } : {}), steps, epochs, resumes };
}
