/**
 * Run-time checks of the messages that cross between the main thread and the inference worker
 * (their types are in protocol.ts). Each check answers the message, typed, or one line saying
 * what is wrong with it; nothing unchecked reaches the model.
 */
import type { SerializedError } from '../protocol';
import type { LatentPoint, WorkerInbound, WorkerOutbound } from './protocol';

/** The most images one decode, interpolation or traversal may ask for. */
export const MAXIMUM_IMAGES = 4096;
/** The most examples one forward pass of an encode may take. */
export const MAXIMUM_BATCH = 10_000;

type Checked<T> = T | string;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isIndex(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isCount(value: unknown, low: number, high: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= low && value <= high;
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function describe(value: unknown): string {
  if (value instanceof Float32Array) return `a Float32Array of ${value.length}`;
  if (Array.isArray(value)) return `a list of ${value.length}`;
  // JSON would write NaN and the infinities as null.
  if (typeof value === 'number') return String(value);
  const text = JSON.stringify(value) ?? String(value);
  return text.length <= 60 ? text : `${text.slice(0, 60)}…`;
}

/** The index of the first value that is NaN or infinite, or -1. */
export function firstNonFinite(values: Float32Array): number {
  for (let index = 0; index < values.length; index++) if (!Number.isFinite(values[index])) return index;
  return -1;
}

function checkVector(value: unknown, field: string): string | undefined {
  if (!(value instanceof Float32Array)) return `${field} must be a Float32Array, not ${describe(value)}`;
  const bad = firstNonFinite(value);
  if (bad >= 0) return `${field}[${bad}] is ${value[bad]}: latent values must be finite`;
  return undefined;
}

function checkSplit(value: unknown, field: string): string | undefined {
  return value === 'train' || value === 'test' || value === 'all' ? undefined : `${field} must be "train", "test" or "all", not ${describe(value)}`;
}

function checkPoint(value: unknown, field: string): string | undefined {
  if (!isRecord(value)) return `${field} must be {z} or {split, index}, not ${describe(value)}`;
  if ('z' in value) return checkVector(value.z, `${field}.z`);
  return checkSplit(value.split, `${field}.split`) ?? (isIndex(value.index) ? undefined : `${field}.index must be a whole number ≥ 0, not ${describe(value.index)}`);
}

function checkLabel(value: unknown, field: string): string | undefined {
  return value === undefined || isIndex(value) ? undefined : `${field} must be a class number ≥ 0, not ${describe(value)}`;
}

/** A request or cancel message sent to the worker, checked field by field. */
export function parseInbound(message: unknown): Checked<WorkerInbound> {
  if (!isRecord(message)) return `a request must be an object, not ${describe(message)}`;
  if (!isIndex(message.id)) return `a request needs a whole-number id ≥ 0, not ${describe(message.id)}`;
  const problem = inboundProblem(message);
  return problem ?? (message as unknown as WorkerInbound);
}

function inboundProblem(request: Record<string, unknown>): string | undefined {
  const type = request.type;
  switch (type) {
    case 'cancel':
    case 'memory':
      return undefined;
    case 'open':
      if (typeof request.runDir !== 'string' || request.runDir.length === 0) return `open needs runDir, the run folder, not ${describe(request.runDir)}`;
      if (typeof request.checkpoint !== 'string') return `open needs checkpoint (last, best or epoch-N), not ${describe(request.checkpoint)}`;
      if (request.dataDir !== undefined && typeof request.dataDir !== 'string') return `dataDir must be a folder, not ${describe(request.dataDir)}`;
      return undefined;
    case 'encode':
      return checkSplit(request.split, 'split')
        ?? (request.limit === undefined || isCount(request.limit, 1, Number.MAX_SAFE_INTEGER) ? undefined : `limit must be a whole number ≥ 1, not ${describe(request.limit)}`)
        ?? (request.batch === undefined || isCount(request.batch, 1, MAXIMUM_BATCH) ? undefined : `batch must be a whole number from 1 to ${MAXIMUM_BATCH}, not ${describe(request.batch)}`);
    case 'example':
      return checkSplit(request.split, 'split') ?? (isIndex(request.index) ? undefined : `index must be a whole number ≥ 0, not ${describe(request.index)}`);
    case 'decode': {
      if (!isCount(request.count, 1, MAXIMUM_IMAGES)) return `count must be a whole number from 1 to ${MAXIMUM_IMAGES}, not ${describe(request.count)}`;
      const vector = checkVector(request.z, 'z');
      if (vector) return vector;
      if (request.labels === undefined) return undefined;
      if (!Array.isArray(request.labels) || request.labels.length !== request.count) return `labels must be a list of ${request.count} class numbers (one per vector), not ${describe(request.labels)}`;
      const bad = request.labels.findIndex((label) => !isIndex(label));
      return bad >= 0 ? `labels[${bad}] must be a class number ≥ 0, not ${describe(request.labels[bad])}` : undefined;
    }
    case 'interpolate':
      if (request.method !== 'lerp' && request.method !== 'slerp') return `method must be "lerp" or "slerp", not ${describe(request.method)}`;
      if (!isCount(request.steps, 2, MAXIMUM_IMAGES)) return `steps must be a whole number from 2 to ${MAXIMUM_IMAGES}, not ${describe(request.steps)}`;
      return checkPoint(request.from, 'from') ?? checkPoint(request.to, 'to') ?? checkLabel(request.label, 'label');
    case 'traverse':
      if (!isIndex(request.dimension)) return `dimension must be a whole number ≥ 0, not ${describe(request.dimension)}`;
      if (!isFiniteNumber(request.low) || !isFiniteNumber(request.high)) return `low and high must be finite numbers, not ${describe(request.low)} and ${describe(request.high)}`;
      if (!isCount(request.steps, 1, MAXIMUM_IMAGES)) return `steps must be a whole number from 1 to ${MAXIMUM_IMAGES}, not ${describe(request.steps)}`;
      return checkPoint(request.origin, 'origin') ?? checkLabel(request.label, 'label');
    default:
      return `unknown request type ${describe(type)}`;
  }
}

function isSerializedError(value: unknown): value is SerializedError {
  return isRecord(value) && typeof value.name === 'string' && typeof value.message === 'string' && (value.stack === undefined || typeof value.stack === 'string');
}

/** A message from the worker, checked before the client acts on it. */
export function parseOutbound(message: unknown): Checked<WorkerOutbound> {
  if (!isRecord(message)) return `a worker message must be an object, not ${describe(message)}`;
  switch (message.type) {
    case 'ready':
      return (message.backend === 'wasm' || message.backend === 'cpu') && typeof message.device === 'string' ? (message as unknown as WorkerOutbound) : 'ready needs a backend and a device';
    case 'failed':
      return isSerializedError(message.error) ? (message as unknown as WorkerOutbound) : 'failed needs an error {name, message}';
    case 'progress':
      return isIndex(message.id) && isIndex(message.done) && isIndex(message.total) ? (message as unknown as WorkerOutbound) : 'progress needs an id, done and total';
    case 'result':
      return isIndex(message.id) && isRecord(message.result) && isFiniteNumber(message.milliseconds) ? (message as unknown as WorkerOutbound) : 'result needs an id, a result object and milliseconds';
    case 'error':
      return isIndex(message.id) && isSerializedError(message.error) ? (message as unknown as WorkerOutbound) : 'error needs an id and an error {name, message}';
    default:
      return `unknown worker message type ${describe(message.type)}`;
  }
}

/** A latent point's vector after a request passed the checks above (the split form is resolved by the session). */
export function isVectorPoint(point: LatentPoint): point is { z: Float32Array } {
  return 'z' in point;
}
