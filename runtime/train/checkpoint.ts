/**
 * Checkpoints: one file holding weights, optimizer slots, step and RNG state. Written to a
 * temporary file, flushed to disk, then renamed over the old one, so a kill at any moment leaves
 * either the previous checkpoint or the new one, never a partial file.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { OptimizerState } from './optimizers';

const MAGIC = Buffer.from('AEXPCKPT');

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

interface Header {
  format: 'aexp-checkpoint';
  version: 1;
  position: TrainingPosition;
  configHash: string;
  optimizer: { name: string; step: number; slots: { variable: number; slot: string; shape: number[]; offset: number; length: number }[] };
  weights: { shape: number[]; offset: number; length: number }[];
}

export function writeFileAtomic(target: string, chunks: (Buffer | Uint8Array)[]): void {
  const temporary = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.tmp`);
  const descriptor = openSync(temporary, 'w');
  try {
    for (const chunk of chunks) writeSync(descriptor, chunk);
    fsyncSync(descriptor);
  } catch (error) {
    closeSync(descriptor);
    rmSync(temporary, { force: true });
    throw error;
  }
  closeSync(descriptor);
  renameSync(temporary, target);
  try {
    const directory = openSync(path.dirname(target), 'r');
    fsyncSync(directory);
    closeSync(directory);
  } catch {
    // Some file systems cannot fsync a directory; the rename is still atomic there.
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
    version: 1,
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
  // Pad the header so the float data starts 4-byte aligned.
  const padding = (4 - ((MAGIC.length + 4 + json.length) % 4)) % 4;
  json = Buffer.concat([json, Buffer.from(' '.repeat(padding))]);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.length);
  writeFileAtomic(file, [MAGIC, length, json, ...blobs.map((blob) => new Uint8Array(blob.buffer, blob.byteOffset, blob.byteLength))]);
}

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

export function loadCheckpoint(file: string): Checkpoint {
  let buffer: Buffer;
  try {
    buffer = readFileSync(file);
  } catch {
    throw new CheckpointError(`no checkpoint at ${file}`);
  }
  if (buffer.length < 12 || !buffer.subarray(0, 8).equals(MAGIC)) throw new CheckpointError(`${file} is not a Latent Lab checkpoint`);
  const headerLength = buffer.readUInt32LE(8);
  let header: Header;
  try {
    header = JSON.parse(buffer.subarray(12, 12 + headerLength).toString('utf8')) as Header;
  } catch {
    throw new CheckpointError(`${file}: the checkpoint header is damaged`);
  }
  const start = 12 + headerLength;
  const data = new Float32Array(buffer.buffer.slice(buffer.byteOffset + start, buffer.byteOffset + buffer.length));
  const take = (offset: number, length: number) => {
    if (offset + length > data.length) throw new CheckpointError(`${file} is truncated`);
    return data.slice(offset, offset + length);
  };
  return {
    position: header.position,
    configHash: header.configHash,
    weights: header.weights.map((weight) => ({ shape: weight.shape, values: take(weight.offset, weight.length) })),
    optimizer: {
      name: header.optimizer.name,
      step: header.optimizer.step,
      slots: header.optimizer.slots.map((slot) => ({ variable: slot.variable, slot: slot.slot, shape: slot.shape, values: take(slot.offset, slot.length) })),
    },
  };
}
