import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Checkpoint } from '../../runtime/train/checkpoint';
import { CheckpointError, loadCheckpoint, saveCheckpoint, verifyCheckpoint } from '../../runtime/train/checkpoint';
import { temporaryDirectory } from '../helpers/temp';

const directory = temporaryDirectory();

function sample(): Checkpoint {
  return {
    position: { epoch: 3, batch: 2, globalStep: 14, seed: 7, bestLoss: 0.25, bestEpoch: 2, epochsWithoutImprovement: 1, partial: { loss: 1.5, reconstruction: 1.25, kl: 0.25, examples: 8 } },
    weights: [
      { shape: [3, 2], values: Float32Array.from([1, 2, 3, 4, 5, 6]) },
      { shape: [2], values: Float32Array.from([-1, 0.5]) },
    ],
    optimizer: {
      name: 'adam',
      step: 14,
      slots: [
        { variable: 0, slot: 'm', shape: [3, 2], values: Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]) },
        { variable: 1, slot: 'm', shape: [2], values: Float32Array.from([7, 8]) },
      ],
    },
    configHash: 'c0ffee',
  };
}

/** Version 1, as written before checksums: no trailer, no checksum field. */
function versionOneBytes(checkpoint: Checkpoint, edit: (header: Record<string, unknown>) => void = () => {}): Buffer {
  const blobs: Float32Array[] = [];
  let offset = 0;
  const place = (values: Float32Array) => {
    blobs.push(values);
    offset += values.length;
    return { offset: offset - values.length, length: values.length };
  };
  const header: Record<string, unknown> = {
    format: 'aexp-checkpoint',
    version: 1,
    position: checkpoint.position,
    configHash: checkpoint.configHash,
    weights: checkpoint.weights.map((weight) => ({ shape: weight.shape, ...place(weight.values) })),
    optimizer: { name: checkpoint.optimizer.name, step: checkpoint.optimizer.step, slots: checkpoint.optimizer.slots.map((slot) => ({ variable: slot.variable, slot: slot.slot, shape: slot.shape, ...place(slot.values) })) },
  };
  edit(header);
  let json = Buffer.from(JSON.stringify(header));
  json = Buffer.concat([json, Buffer.from(' '.repeat((4 - ((12 + json.length) % 4)) % 4))]);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.length);
  return Buffer.concat([Buffer.from('AEXPCKPT'), length, json, ...blobs.map((blob) => Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength))]);
}

function written(name: string, bytes: Buffer): string {
  const file = path.join(directory, name);
  writeFileSync(file, bytes);
  return file;
}

/** Loading is refused with one line that names the file and matches `reason`; verify agrees. */
function assertRefused(file: string, reason: RegExp): void {
  assert.throws(
    () => loadCheckpoint(file),
    (error: unknown) => {
      assert.ok(error instanceof CheckpointError, `a CheckpointError, not ${String(error)}`);
      assert.ok(error.message.startsWith(`${file}: `), error.message);
      assert.match(error.message, reason);
      assert.ok(!error.message.includes('\n'), `one line: ${error.message}`);
      return true;
    },
  );
  const verdict = verifyCheckpoint(file);
  assert.equal(verdict.ok, false);
  assert.match((verdict as { reason: string }).reason, reason);
}

test('a checkpoint round-trips as version 2 and verifies', () => {
  const file = path.join(directory, 'round-trip.ckpt');
  saveCheckpoint(file, sample());
  const header = JSON.parse(readFileSync(file).subarray(12, 12 + readFileSync(file).readUInt32LE(8)).toString());
  assert.equal(header.version, 2);
  assert.equal(header.checksum, 'sha256');
  const loaded = loadCheckpoint(file);
  assert.deepEqual(loaded, sample());
  assert.deepEqual(verifyCheckpoint(file), { ok: true, version: 2, position: sample().position });
});

test('a version 1 checkpoint (no checksum) is still read', () => {
  const file = written('version-1.ckpt', versionOneBytes(sample()));
  assert.deepEqual(loadCheckpoint(file), sample());
  assert.deepEqual(verifyCheckpoint(file), { ok: true, version: 1, position: sample().position });
});

test('a flipped byte in the data or in the header is refused as a checksum mismatch', () => {
  const original = path.join(directory, 'original.ckpt');
  saveCheckpoint(original, sample());
  const bytes = readFileSync(original);
  const inData = Buffer.from(bytes);
  inData[bytes.length - 40] ^= 0x01;
  assertRefused(written('data-flipped.ckpt', inData), /checksum mismatch \(the file is damaged\)$/);
  // A digit of the epoch: the header still parses and is well formed, only the checksum can tell.
  const inHeader = Buffer.from(bytes);
  const at = bytes.indexOf('"epoch":3');
  inHeader[at + '"epoch":'.length] = '4'.charCodeAt(0);
  assertRefused(written('header-flipped.ckpt', inHeader), /checksum mismatch/);
});

test('a truncated checkpoint is refused as cut short', () => {
  const original = path.join(directory, 'whole.ckpt');
  saveCheckpoint(original, sample());
  const bytes = readFileSync(original);
  assertRefused(written('truncated.ckpt', bytes.subarray(0, bytes.length - 10)), /truncated: \d+ of \d+ bytes/);
  assertRefused(written('header-only.ckpt', bytes.subarray(0, 20)), /truncated/);
  assertRefused(written('version-1-truncated.ckpt', versionOneBytes(sample()).subarray(0, -8)), /truncated: its data holds 14 values, the header describes 16/);
});

test('a version 1 checkpoint whose data is not whole float32 values is refused, not a RangeError', () => {
  const bytes = versionOneBytes(sample());
  assertRefused(written('odd-length.ckpt', bytes.subarray(0, bytes.length - 3)), /not a whole number of float32 values/);
});

test('a header without its fields, or with fields of the wrong type, is refused by field name', () => {
  const cases: [string, (header: Record<string, unknown>) => void, RegExp][] = [
    ['no-position', (header) => delete header.position, /header field position is missing or not an object/],
    ['no-weights', (header) => delete header.weights, /header field weights is missing or not a list/],
    ['weights-number', (header) => (header.weights = 3), /header field weights is missing or not a list/],
    ['no-optimizer', (header) => delete header.optimizer, /header field optimizer is missing/],
    ['epoch-string', (header) => ((header.position as Record<string, unknown>).epoch = '3'), /header field position\.epoch is missing or not a whole number/],
    ['config-hash', (header) => (header.configHash = 5), /header field configHash is missing or not a string/],
    ['slot-name', (header) => delete ((header.optimizer as { slots: Record<string, unknown>[] }).slots[1].slot), /header field optimizer\.slots\[1\]\.slot/],
    ['shape-length', (header) => ((header.weights as Record<string, unknown>[])[0].shape = [4, 2]), /header field weights\[0\]\.length is 6, but its shape \[4, 2\] holds 8 values/],
    ['past-end', (header) => ((header.weights as Record<string, unknown>[])[1].offset = 15), /weights\[1\] points past the end of the data/],
    ['version', (header) => (header.version = 9), /header field version is 9/],
    ['format', (header) => (header.format = 'other'), /header field format is "other"/],
  ];
  for (const [name, edit, reason] of cases) assertRefused(written(`${name}.ckpt`, versionOneBytes(sample(), edit)), reason);
  const array = versionOneBytes(sample());
  const json = Buffer.from('[1,2]   ');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.length);
  assertRefused(written('array-header.ckpt', Buffer.concat([array.subarray(0, 8), length, json])), /header field \(the header\) is missing or not an object/);
});

test('a missing file, a file of another kind and a header that is not JSON are refused with the reason', () => {
  assertRefused(path.join(directory, 'absent.ckpt'), /no checkpoint there/);
  assertRefused(written('other.ckpt', Buffer.from('not a checkpoint at all')), /not a Latent Lab checkpoint/);
  const bytes = versionOneBytes(sample());
  bytes[13] = '#'.charCodeAt(0);
  assertRefused(written('bad-json.ckpt', bytes), /the header is damaged \(not JSON\)/);
});
