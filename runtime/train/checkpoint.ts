/**
 * Checkpoints: one file holding weights, optimizer slots, step and RNG state, written atomically
 * (see util/atomic-file), so a kill at any moment leaves either the previous checkpoint or the new
 * one. A file damaged afterwards (a bad disk, a copy cut short, an edit) is refused with the reason,
 * never trained on.
 *
 * Layout: `AEXPCKPT`, the header's length (uint32 LE), the header (JSON, padded with spaces so the
 * data starts 4-byte aligned), the float32 data the header points into, and, from version 2 on, the
 * SHA-256 of everything before it (32 bytes). Version 1 files (no checksum) are still read.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic-file';
import type { OptimizerState } from './optimizers';

// Other modules still import the atomic write from here.
export { writeFileAtomic };

const MAGIC = Buffer.from('AEXPCKPT');
const PREFIX = MAGIC.length + 4;
const CHECKSUM_BYTES = 32;
const VERSION = 2;

export interface TrainingPosition {
  /** Completed epochs. */
  epoch: number;
  /** Batches done in the epoch in progress (0 at an epoch boundary). */
  batch: number;
  globalStep: number;
  seed: number;
  bestLoss: number | null;
  bestEpoch: number | null;
  epochsWithoutImprovement: number;
  /** Sums of the epoch in progress, so a resumed epoch reports the same means. */
  partial: { loss: number; reconstruction: number; kl: number; examples: number };
}

export interface Checkpoint {
  position: TrainingPosition;
  weights: { shape: number[]; values: Float32Array }[];
  optimizer: OptimizerState;
  configHash: string;
}

interface Region {
  shape: number[];
  offset: number;
  length: number;
}

interface Header {
  format: 'aexp-checkpoint';
  version: 1 | 2;
  /** Version 2 on: how the trailing checksum is computed. */
  checksum?: 'sha256';
  position: TrainingPosition;
  configHash: string;
  optimizer: { name: string; step: number; slots: ({ variable: number; slot: string } & Region)[] };
  weights: Region[];
}

/** A checkpoint that cannot be used; `message` is one line naming the file and what is wrong. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
  constructor(
    readonly file: string,
    /** What is wrong, without the file name. */
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

export function saveCheckpoint(file: string, checkpoint: Checkpoint): void {
  const blobs: Float32Array[] = [];
  let offset = 0;
  const place = (values: Float32Array) => {
    blobs.push(values);
    const at = offset;
    offset += values.length;
    return { offset: at, length: values.length };
  };
  const header: Header = {
    format: 'aexp-checkpoint',
    version: VERSION,
    checksum: 'sha256',
    position: checkpoint.position,
    configHash: checkpoint.configHash,
    weights: checkpoint.weights.map((weight) => ({ shape: weight.shape, ...place(weight.values) })),
    optimizer: {
      name: checkpoint.optimizer.name,
      step: checkpoint.optimizer.step,
      slots: checkpoint.optimizer.slots.map((slot) => ({ variable: slot.variable, slot: slot.slot, shape: slot.shape, ...place(slot.values) })),
    },
  };
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const padding = (4 - ((PREFIX + json.length) % 4)) % 4;
  json = Buffer.concat([json, Buffer.from(' '.repeat(padding))]);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.length);
  const chunks: Uint8Array[] = [MAGIC, length, json, ...blobs.map((blob) => new Uint8Array(blob.buffer, blob.byteOffset, blob.byteLength))];
  const hash = createHash('sha256');
  for (const chunk of chunks) hash.update(chunk);
  writeFileAtomic(file, [...chunks, hash.digest()]);
}

/**
 * Reads and checks a checkpoint. Throws `CheckpointError` (one line: the file and what is wrong)
 * for a missing, truncated, damaged or malformed file; never returns data that failed a check.
 */
export function loadCheckpoint(file: string): Checkpoint {
  let buffer: Buffer;
  try {
    buffer = readFileSync(file);
  } catch (error) {
    throw unreadable(file, error);
  }
  return decode(file, buffer).checkpoint;
}

export type CheckpointVerdict = { ok: true; version: 1 | 2; position: TrainingPosition } | { ok: false; reason: string };

/**
 * Whether `file` is a whole, undamaged checkpoint, without throwing: what to ask before calling a
 * file "the last good checkpoint", or before a resume writes anything. `reason` is the one-line
 * message `loadCheckpoint` would throw (it names the file).
 */
export function verifyCheckpoint(file: string): CheckpointVerdict {
  try {
    const { checkpoint, version } = decode(file, readFileSync(file));
    return { ok: true, version, position: checkpoint.position };
  } catch (error) {
    if (error instanceof CheckpointError) return { ok: false, reason: error.message };
    return { ok: false, reason: unreadable(file, error).message };
  }
}

function unreadable(file: string, error: unknown): CheckpointError {
  const code = (error as NodeJS.ErrnoException).code;
  return new CheckpointError(file, code === 'ENOENT' ? 'no checkpoint there' : `cannot be read (${code ?? String(error)})`);
}

function decode(file: string, buffer: Buffer): { checkpoint: Checkpoint; version: 1 | 2 } {
  const refuse = (reason: string) => new CheckpointError(file, reason);
  if (buffer.length < PREFIX || !buffer.subarray(0, MAGIC.length).equals(MAGIC)) throw refuse('not a Latent Lab checkpoint');
  const headerLength = buffer.readUInt32LE(MAGIC.length);
  const start = PREFIX + headerLength;
  if (start > buffer.length) throw refuse(`truncated: ${buffer.length} bytes, shorter than its ${headerLength}-byte header`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(buffer.subarray(PREFIX, start).toString('utf8'));
  } catch {
    parsed = undefined;
  }
  // Before any other check, so that damage is reported as damage whichever field it hit.
  if (isRecord(parsed) && parsed.version === 2 && !checksumMatches(buffer)) {
    const expected = expectedBytes(parsed, start);
    if (expected !== undefined && buffer.length < expected) throw refuse(`truncated: ${buffer.length} of ${expected} bytes (the file was cut short)`);
    throw refuse('checksum mismatch (the file is damaged)');
  }
  if (parsed === undefined) throw refuse('the header is damaged (not JSON)');
  const header = checkHeader(parsed, refuse);
  const dataEnd = buffer.length - (header.version === 2 ? CHECKSUM_BYTES : 0);
  const dataBytes = dataEnd - start;
  if (dataBytes < 0 || dataBytes % 4 !== 0) throw refuse(`its data is ${dataBytes} bytes, not a whole number of float32 values (the file was cut short or damaged)`);
  const floats = dataBytes / 4;
  const regions = [...header.weights, ...header.optimizer.slots];
  const needed = regions.reduce((sum, region) => sum + region.length, 0);
  if (floats < needed) throw refuse(`truncated: its data holds ${floats} values, the header describes ${needed}`);
  if (floats > needed) throw refuse(`its data holds ${floats} values, the header describes only ${needed} (the file is damaged)`);
  for (const [index, region] of regions.entries()) {
    if (region.offset + region.length > floats) {
      const name = index < header.weights.length ? `weights[${index}]` : `optimizer.slots[${index - header.weights.length}]`;
      throw refuse(`${name} points past the end of the data`);
    }
  }
  let data: Float32Array;
  if ((buffer.byteOffset + start) % 4 === 0) data = new Float32Array(buffer.buffer, buffer.byteOffset + start, floats);
  else {
    data = new Float32Array(floats);
    new Uint8Array(data.buffer).set(buffer.subarray(start, dataEnd));
  }
  const take = (region: Region) => data.slice(region.offset, region.offset + region.length);
  const checkpoint: Checkpoint = {
    position: header.position,
    configHash: header.configHash,
    weights: header.weights.map((weight) => ({ shape: weight.shape, values: take(weight) })),
    optimizer: {
      name: header.optimizer.name,
      step: header.optimizer.step,
      slots: header.optimizer.slots.map((slot) => ({ variable: slot.variable, slot: slot.slot, shape: slot.shape, values: take(slot) })),
    },
  };
  return { checkpoint, version: header.version };
}

function checksumMatches(buffer: Buffer): boolean {
  if (buffer.length < PREFIX + CHECKSUM_BYTES) return false;
  const end = buffer.length - CHECKSUM_BYTES;
  return createHash('sha256').update(buffer.subarray(0, end)).digest().equals(buffer.subarray(end));
}

/** The file size the header describes, when it can tell. */
function expectedBytes(header: Record<string, unknown>, start: number): number | undefined {
  const optimizer = header.optimizer;
  const regions = [header.weights, isRecord(optimizer) ? optimizer.slots : undefined];
  let floats = 0;
  for (const list of regions) {
    if (!Array.isArray(list)) return undefined;
    for (const region of list) {
      if (!isRecord(region) || !isCount(region.length)) return undefined;
      floats += region.length;
    }
  }
  return start + floats * 4 + CHECKSUM_BYTES;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Checks every field the loader uses, so a malformed header is refused by name, not by a TypeError later. */
function checkHeader(value: unknown, refuse: (reason: string) => CheckpointError): Header {
  const fail = (field: string, expected: string): never => {
    throw refuse(`header field ${field} ${expected}`);
  };
  const record = (field: string, candidate: unknown): Record<string, unknown> => (isRecord(candidate) ? candidate : fail(field, 'is missing or not an object'));
  const count = (field: string, candidate: unknown) => {
    if (!isCount(candidate)) fail(field, 'is missing or not a whole number ≥ 0');
  };
  const number = (field: string, candidate: unknown, nullable = false) => {
    if (!(typeof candidate === 'number' && Number.isFinite(candidate)) && !(nullable && candidate === null)) fail(field, `is missing or not a number${nullable ? ' or null' : ''}`);
  };
  const string = (field: string, candidate: unknown) => {
    if (typeof candidate !== 'string') fail(field, 'is missing or not a string');
  };
  const region = (field: string, candidate: unknown) => {
    const item = record(field, candidate);
    if (!Array.isArray(item.shape)) fail(`${field}.shape`, 'is missing or not a list');
    const shape = item.shape as unknown[];
    shape.forEach((size, index) => count(`${field}.shape[${index}]`, size));
    count(`${field}.offset`, item.offset);
    count(`${field}.length`, item.length);
    const size = (shape as number[]).reduce((product, dimension) => product * dimension, 1);
    if (size !== item.length) fail(`${field}.length`, `is ${item.length as number}, but its shape [${shape.join(', ')}] holds ${size} values`);
    return item;
  };
  const list = (field: string, candidate: unknown): unknown[] => (Array.isArray(candidate) ? candidate : fail(field, 'is missing or not a list'));

  const header = record('(the header)', value);
  if (header.format !== 'aexp-checkpoint') fail('format', `is ${JSON.stringify(header.format) ?? 'missing'}, not "aexp-checkpoint"`);
  if (header.version !== 1 && header.version !== 2) fail('version', `is ${JSON.stringify(header.version) ?? 'missing'}; this version of Latent Lab reads versions 1 and 2`);
  if (header.version === 2 && header.checksum !== 'sha256') fail('checksum', `is ${JSON.stringify(header.checksum) ?? 'missing'}, not "sha256"`);
  const position = record('position', header.position);
  for (const key of ['epoch', 'batch', 'globalStep', 'epochsWithoutImprovement'] as const) count(`position.${key}`, position[key]);
  number('position.seed', position.seed);
  number('position.bestLoss', position.bestLoss, true);
  if (position.bestEpoch !== null) count('position.bestEpoch', position.bestEpoch);
  const partial = record('position.partial', position.partial);
  for (const key of ['loss', 'reconstruction', 'kl', 'examples'] as const) number(`position.partial.${key}`, partial[key]);
  string('configHash', header.configHash);
  list('weights', header.weights).forEach((weight, index) => region(`weights[${index}]`, weight));
  const optimizer = record('optimizer', header.optimizer);
  string('optimizer.name', optimizer.name);
  count('optimizer.step', optimizer.step);
  list('optimizer.slots', optimizer.slots).forEach((candidate, index) => {
    const slot = region(`optimizer.slots[${index}]`, candidate);
    count(`optimizer.slots[${index}].variable`, slot.variable);
    string(`optimizer.slots[${index}].slot`, slot.slot);
  });
  return header as unknown as Header;
}
