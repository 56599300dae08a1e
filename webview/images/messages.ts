/**
 * What the image-view renderer accepts from the host. A notebook file can carry any JSON in an
 * output and a message can come from an older or newer host, so every field is checked (pixel
 * counts against the view's shape included) and the pixels are decoded once, here; anything that
 * does not check out is refused with a reason naming the field.
 */
import type { ImageViewMode, ViewFrame, WireError } from '../../extension/images-protocol';
import type { LossUnits } from '../../runtime/protocol';

/** More bytes than any run keeps for one view is a damaged or hostile output: refused rather than decoded. */
const BYTE_LIMIT = 256 * 1024 * 1024;
/** An image side longer than this is not one an autoencoder here was trained on. */
const SIDE_LIMIT = 4096;
const COUNT_LIMIT = 100_000;
const EPOCH_LIMIT = 1_000_000;
const ID_LIMIT = 200;

/** One epoch's images, decoded: the views draw from these. */
export interface Frame {
  epoch: number;
  reconstructions?: Uint8Array;
  loss?: number[];
  reconstruction?: number[];
  kl?: number[];
  samples?: Uint8Array;
  /** How many sample images `samples` holds. */
  sampleCount: number;
  sampleColumns?: number;
  /** Bytes held, for the cache's bound. */
  bytes: number;
}

/** A view's fixed part, decoded: what every frame is checked against. */
export interface Snapshot {
  viewId: string;
  mode: ImageViewMode;
  modelKind: string;
  units: LossUnits;
  height: number;
  width: number;
  channels: number;
  count: number;
  inputs?: Uint8Array;
  corrupted?: Uint8Array;
  mask?: Uint8Array;
  epochs: number[];
  frame: Frame;
  sampleCaption?: string;
  live: boolean;
}

/** What a frame must agree with. */
export interface Layout {
  height: number;
  width: number;
  channels: number;
  count: number;
}

export type HostMessage =
  | { type: 'epochs'; viewId: string; epochs: number[]; frame?: unknown; live: boolean }
  | { type: 'frame'; viewId: string; requestId: number; frame: unknown }
  | { type: 'frame-error'; viewId: string; requestId: number; error: WireError };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isCount(value: unknown, limit: number, least = 0): value is number {
  return Number.isInteger(value) && (value as number) >= least && (value as number) <= limit;
}

export function isViewId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= ID_LIMIT;
}

function isMode(value: unknown): value is ImageViewMode {
  return value === 'history' || value === 'reconstruct' || value === 'sample';
}

/** Epochs strictly ascending, whole and not negative: the slider's stops. */
export function parseEpochs(value: unknown): number[] | string {
  if (!Array.isArray(value) || value.length > EPOCH_LIMIT) return 'epochs must be a list of epoch numbers';
  for (let index = 0; index < value.length; index++) {
    const epoch: unknown = value[index];
    if (!isCount(epoch, Number.MAX_SAFE_INTEGER)) return `epochs[${index}] must be a whole number ≥ 0`;
    if (index > 0 && epoch <= value[index - 1]) return `epochs[${index}] must be greater than the one before it`;
  }
  return value as number[];
}

/** base64 of exactly `bytes` bytes (or of a whole number of `unit`-byte images when `bytes` is absent). */
function decodePixels(value: unknown, field: string, bytes: number | undefined, unit: number): Uint8Array | string {
  if (typeof value !== 'string') return `${field} must be base64 text`;
  // base64 is 4 characters per 3 bytes: the length says the size before anything is decoded.
  const expected = bytes === undefined ? undefined : Math.ceil(bytes / 3) * 4;
  if (expected !== undefined && value.length !== expected) return `${field} must hold ${bytes} bytes (${expected} base64 characters), not ${value.length} characters`;
  if (value.length > (BYTE_LIMIT / 3) * 4) return `${field} is larger than ${BYTE_LIMIT} bytes`;
  let text: string;
  try {
    text = atob(value);
  } catch {
    return `${field} is not valid base64`;
  }
  if (bytes !== undefined ? text.length !== bytes : text.length % unit !== 0) return `${field} must hold ${bytes ?? `a multiple of ${unit}`} bytes, not ${text.length}`;
  const decoded = new Uint8Array(text.length);
  for (let index = 0; index < text.length; index++) decoded[index] = text.charCodeAt(index);
  return decoded;
}

function numbers(value: unknown, field: string, length: number): number[] | string {
  if (!Array.isArray(value) || value.length !== length) return `${field} must be a list of ${length} numbers`;
  const bad = value.findIndex((item) => !isNumber(item));
  return bad >= 0 ? `${field}[${bad}] must be a finite number` : (value as number[]);
}

/** One epoch's images for a view of this layout, or a reason naming the field that is wrong. */
export function parseFrame(value: unknown, layout: Layout, field = 'frame'): Frame | string {
  if (!isObject(value)) return `${field} must be an object`;
  const { epoch } = value as Partial<ViewFrame>;
  if (!isCount(epoch, Number.MAX_SAFE_INTEGER)) return `${field}.epoch must be a whole number ≥ 0`;
  const image = layout.height * layout.width * layout.channels;
  const frame: Frame = { epoch, sampleCount: 0, bytes: 0 };
  if (value.reconstructions !== undefined) {
    const pixels = decodePixels(value.reconstructions, `${field}.reconstructions`, layout.count * image, image);
    if (typeof pixels === 'string') return pixels;
    frame.reconstructions = pixels;
    frame.bytes += pixels.length;
  }
  for (const name of ['loss', 'reconstruction', 'kl'] as const) {
    if (value[name] === undefined) continue;
    const list = numbers(value[name], `${field}.${name}`, layout.count);
    if (typeof list === 'string') return list;
    frame[name] = list;
  }
  if (value.samples !== undefined) {
    const pixels = decodePixels(value.samples, `${field}.samples`, undefined, image);
    if (typeof pixels === 'string') return pixels;
    frame.samples = pixels;
    frame.sampleCount = pixels.length / image;
    frame.bytes += pixels.length;
  }
  if (value.sampleColumns !== undefined) {
    if (!isCount(value.sampleColumns, COUNT_LIMIT, 1)) return `${field}.sampleColumns must be a whole number ≥ 1`;
    frame.sampleColumns = value.sampleColumns;
  }
  return frame;
}

/** The output item, decoded, or a reason it cannot be drawn. */
export function parseSnapshot(value: unknown): Snapshot | string {
  if (!isObject(value) || value.version !== 1) return 'expected an image view of version 1';
  if (!isViewId(value.viewId)) return 'viewId must be a short string';
  if (!isMode(value.mode)) return 'mode must be history, reconstruct or sample';
  if (typeof value.modelKind !== 'string' || value.modelKind.length > ID_LIMIT) return 'modelKind must be a short string';
  if (value.units !== 'nats' && value.units !== 'loss') return 'units must be nats or loss';
  const shape = value.shape;
  if (!Array.isArray(shape) || shape.length !== 3 || !isCount(shape[0], SIDE_LIMIT, 1) || !isCount(shape[1], SIDE_LIMIT, 1) || !(shape[2] === 1 || shape[2] === 3)) return 'shape must be [height, width, channels] with 1 or 3 channels';
  if (!isCount(value.count, COUNT_LIMIT)) return 'count must be a whole number ≥ 0';
  const layout: Layout = { height: shape[0], width: shape[1], channels: shape[2], count: value.count };
  const image = layout.height * layout.width * layout.channels;
  const snapshot: Partial<Snapshot> = { viewId: value.viewId, mode: value.mode, modelKind: value.modelKind, units: value.units, ...layout, live: value.live === true };
  for (const name of ['inputs', 'corrupted'] as const) {
    if (value[name] === undefined) continue;
    const pixels = decodePixels(value[name], name, layout.count * image, image);
    if (typeof pixels === 'string') return pixels;
    snapshot[name] = pixels;
  }
  if (value.mask !== undefined) {
    const pixels = decodePixels(value.mask, 'mask', layout.count * layout.height * layout.width, layout.height * layout.width);
    if (typeof pixels === 'string') return pixels;
    snapshot.mask = pixels;
  }
  if (value.mode !== 'sample' && layout.count > 0 && !snapshot.inputs) return 'inputs are missing: a reconstruction view needs its inputs';
  const epochs = parseEpochs(value.epochs);
  if (typeof epochs === 'string') return epochs;
  const frame = parseFrame(value.frame, layout);
  if (typeof frame === 'string') return frame;
  if (!epochs.includes(frame.epoch)) return `frame.epoch ${frame.epoch} is not among epochs`;
  if (value.sampleCaption !== undefined) {
    if (typeof value.sampleCaption !== 'string' || value.sampleCaption.length > 1000) return 'sampleCaption must be a line of text';
    snapshot.sampleCaption = value.sampleCaption;
  }
  return { ...snapshot, epochs, frame } as Snapshot;
}

/**
 * A message from the host, its envelope checked (the frame inside is checked by the view, which
 * knows its shape); undefined for anything that is not addressed to a view, a reason otherwise.
 */
export function parseHostMessage(value: unknown): { message: HostMessage } | { viewId: string; problem: string } | undefined {
  if (!isObject(value) || !isViewId(value.viewId)) return undefined;
  const viewId = value.viewId;
  const problem = (text: string) => ({ viewId, problem: `${String(value.type)} message: ${text}` });
  switch (value.type) {
    case 'epochs': {
      const epochs = parseEpochs(value.epochs);
      if (typeof epochs === 'string') return problem(epochs);
      if (typeof value.live !== 'boolean') return problem('live must be true or false');
      return { message: { type: 'epochs', viewId, epochs, live: value.live, ...(value.frame === undefined ? {} : { frame: value.frame }) } };
    }
    case 'frame':
      if (!isCount(value.requestId, Number.MAX_SAFE_INTEGER)) return problem('requestId must be a whole number');
      return { message: { type: 'frame', viewId, requestId: value.requestId, frame: value.frame } };
    case 'frame-error': {
      if (!isCount(value.requestId, Number.MAX_SAFE_INTEGER)) return problem('requestId must be a whole number');
      const error = value.error;
      if (!isObject(error) || typeof error.name !== 'string' || typeof error.message !== 'string') return problem('error must be {name, message}');
      return { message: { type: 'frame-error', viewId, requestId: value.requestId, error: { name: error.name.slice(0, ID_LIMIT), message: error.message.slice(0, 1000) } } };
    }
    default:
      return problem('unknown type');
  }
}
