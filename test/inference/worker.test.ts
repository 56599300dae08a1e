/**
 * The inference worker on real run folders: it decodes on wasm in its own thread while the main
 * thread trains, matching a direct decode on `cpu`; cancels and replaces requests; refuses bad
 * run folders and undecodable models with one clear error; and leaks no tensors.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../runtime/backends/select';
import { loadRunModel, runExperiment } from '../../runtime/engine';
import { disposeAutoencoder } from '../../runtime/model/build';
import { decode, toPixels } from '../../runtime/model/losses';
import { InferenceClient } from '../../runtime/inference/client';
import { CancelledError } from '../../runtime/inference/errors';
import { tinyExperiment } from '../helpers/experiments';
import { temporaryDirectory } from '../helpers/temp';

const directory = temporaryDirectory('aexp-inference-');
let runDir: string;
let client: InferenceClient;

/** Latent vectors of the tiny VAE (4-d), fixed so that every decode of them must give the same pixels. */
const Z = Float32Array.from({ length: 6 * 4 }, (_, index) => Math.sin(index * 1.7) * 2);

before(async () => {
  // The worker starts (loads TF.js) while the main thread trains the run it will open.
  client = new InferenceClient();
  const result = await runExperiment({ file: tinyExperiment(directory, { epochs: 1, name: 'source' }), outDir: path.join(directory, 'runs') });
  assert.equal(result.status, 'completed');
  runDir = result.runDir;
  await client.open({ runDir, checkpoint: 'last' });
});

after(async () => {
  await client.close();
});

async function cpuDecode(): Promise<Float32Array> {
  await selectBackend('cpu');
  const { model } = await loadRunModel(runDir, 'last');
  const pixels = tf.tidy(() => toPixels(model, decode(model, tf.tensor2d(Z, [6, 4]), { training: false })));
  const values = (await pixels.data()) as Float32Array;
  pixels.dispose();
  disposeAutoencoder(model);
  return values;
}

/** The worker's tensors and their bytes: its heap figures move with every message. */
async function tensors(inference: InferenceClient): Promise<{ tensors: number; bytes: number }> {
  const { tensors: count, bytes } = await inference.memory();
  return { tensors: count, bytes };
}

function largestDifference(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let largest = 0;
  for (let index = 0; index < a.length; index++) largest = Math.max(largest, Math.abs(a[index] - b[index]));
  return largest;
}

test('the worker decodes on wasm while the main thread trains, and its pixels equal a direct decode on cpu', async () => {
  const reference = await cpuDecode();
  const info = await client.ready;
  assert.equal(info.backend, 'wasm');

  let steps = 0;
  let training = true;
  const run = runExperiment({
    file: tinyExperiment(directory, { epochs: 2, name: 'concurrent', count: 600 }),
    outDir: path.join(directory, 'runs'),
    backend: 'auto',
    onEvent: (event) => {
      if (event.type === 'progress') steps++;
    },
  }).finally(() => {
    training = false;
  });
  // The training step count each time a decode was answered while the run was training.
  const stepsAtAnswers: number[] = [];
  while (training) {
    const decoded = await client.decode({ z: Z, count: 6 });
    assert.ok(largestDifference(decoded.pixels, reference) < 1e-5, `decoded pixels differ from cpu's by ${largestDifference(decoded.pixels, reference)}`);
    if (training && steps > 0) stepsAtAnswers.push(steps);
  }
  const result = await run;
  assert.equal(result.status, 'completed');
  const epochRecords = readFileSync(path.join(result.runDir, 'metrics.jsonl'), 'utf8').split('\n').filter((line) => line.includes('"kind":"epoch"')).length;
  assert.equal(epochRecords, 2, 'both epochs trained');
  assert.ok(stepsAtAnswers.length >= 3, `decodes answered during training: ${stepsAtAnswers.length}`);
  // Training went on between the decodes: both made progress at once.
  assert.ok(new Set(stepsAtAnswers).size >= 2, `the step count at each answer: ${stepsAtAnswers.join(', ')}`);
});

test('a newer decode replaces a waiting one, and cancelling stops a waiting request or a running encode', async () => {
  const before = await tensors(client);
  const progress: number[] = [];
  const controller = new AbortController();
  const encoding = client.encode({ split: 'train', batch: 8 }, {
    signal: controller.signal,
    onProgress: (done) => {
      progress.push(done);
      controller.abort();
    },
  });
  // These wait behind the encode: the first decode is replaced by the second, the example is cancelled before it starts.
  const first = client.decode({ z: Z.subarray(0, 4), count: 1 });
  const second = client.decode({ z: Z.subarray(4, 8), count: 1 });
  const exampleController = new AbortController();
  const example = client.example({ split: 'test', index: 0 }, { signal: exampleController.signal });
  exampleController.abort();

  let encodeError: Error | undefined;
  const outcomes = [
    assert.rejects(encoding, (error: Error) => error instanceof CancelledError && error.reason === 'cancelled' && Boolean(encodeError = error)),
    assert.rejects(first, (error: Error) => error instanceof CancelledError && error.reason === 'replaced'),
    assert.rejects(example, (error: Error) => error instanceof CancelledError && error.reason === 'cancelled'),
  ];
  await Promise.all(outcomes);
  // The worker stopped the encode between its batches, well before the end of the 1080 train examples.
  const stoppedAt = /^cancelled after (\d+) of 1080$/.exec(encodeError!.message);
  assert.ok(stoppedAt && Number(stoppedAt[1]) < 1080, `the worker's answer: ${encodeError!.message}`);
  assert.deepEqual(progress, [8]);
  const decoded = await second;
  assert.equal(decoded.count, 1);
  // A decode on another channel is not replaced by one on the default channel.
  const [left, right] = await Promise.all([client.decode({ z: Z.subarray(0, 4), count: 1 }, { channel: 'left' }), client.decode({ z: Z.subarray(4, 8), count: 1 })]);
  assert.equal(left.count + right.count, 2);
  assert.deepEqual(await tensors(client), before, 'a cancelled encode leaves no tensor behind');
});

test('the worker\'s tensor count is unchanged after a warm-up round of every request', async () => {
  const round = async () => {
    await client.encode({ split: 'test', limit: 40, batch: 16 });
    await client.example({ split: 'all', index: 1100 });
    await client.decode({ z: Z, count: 6 });
    await client.interpolate({ from: { split: 'test', index: 0 }, to: { z: Z.subarray(0, 4) }, steps: 5, method: 'slerp' });
    await client.traverse({ origin: { split: 'train', index: 3 }, dimension: 1, low: -2, high: 2, steps: 5 });
    await assert.rejects(client.decode({ z: Z, count: 5 }), /5 latent vectors of 4 values need 20 numbers, not 24/);
  };
  await round();
  const warm = await tensors(client);
  await round();
  await round();
  assert.deepEqual(await tensors(client), warm);
  const memory = await client.memory();
  assert.equal(memory.thread, 'worker');
  assert.ok(memory.wasmBytes >= 16 * 1024 * 1024, `the worker's wasm memory: ${memory.wasmBytes} bytes`);
});

test('encode, example, interpolate and traverse answer what the model computes', async () => {
  const encoded = await client.encode({ split: 'test' });
  assert.equal(encoded.count, 120);
  assert.equal(encoded.means.length, 120 * 4);
  assert.equal(encoded.logVariances?.length, 120 * 4);
  assert.equal(encoded.losses.length, 120);
  assert.ok(encoded.losses.every((loss) => Number.isFinite(loss) && loss > 0));
  const example = await client.example({ split: 'test', index: 7 });
  assert.deepEqual([...example.mean], [...encoded.means.subarray(7 * 4, 8 * 4)]);
  assert.equal(example.loss, encoded.losses[7]);
  assert.equal(example.label, encoded.labels[7]);
  assert.deepEqual(example.shape, [16, 16, 1]);
  assert.equal(example.input.length, 256);
  assert.equal(example.reconstruction.length, 256);

  // The strip's ends are the endpoints' own decodings.
  const strip = await client.interpolate({ from: { split: 'test', index: 7 }, to: { z: Z.subarray(0, 4) }, steps: 4, method: 'lerp' });
  assert.deepEqual([...strip.z.subarray(0, 4)], [...example.mean]);
  const ends = await client.decode({ z: Float32Array.from([...example.mean, ...Z.subarray(0, 4)]), count: 2 });
  assert.ok(largestDifference(strip.pixels.subarray(0, 256), ends.pixels.subarray(0, 256)) < 1e-6);
  assert.ok(largestDifference(strip.pixels.subarray(3 * 256), ends.pixels.subarray(256)) < 1e-6);

  const traversal = await client.traverse({ origin: { z: Z.subarray(0, 4) }, dimension: 3, low: -3, high: 3, steps: 3 });
  assert.deepEqual([...traversal.values], [-3, 0, 3]);
  assert.deepEqual([...traversal.z.subarray(4, 8)], [Z[0], Z[1], Z[2], 0]);
  await assert.rejects(client.traverse({ origin: { z: Z.subarray(0, 4) }, dimension: 4, low: -1, high: 1, steps: 3 }), /dimension 4 is past the 4-d code \(dimensions 0–3\)/);
  await assert.rejects(client.example({ split: 'test', index: 120 }), /index 120 is past the test split's 120 examples/);
  await assert.rejects(client.decode({ z: Z.subarray(0, 4), count: 1, labels: [0] }), { name: 'InferenceRequestError', message: 'labels are for a cvae; this model is a vae' });
});

test('a bad run folder, a missing epoch and a damaged checkpoint each give one clear error, and the open run stays open', async () => {
  const empty = path.join(directory, 'not-a-run');
  mkdirSync(empty, { recursive: true });
  await assert.rejects(client.open({ runDir: empty, checkpoint: 'last' }), { message: `${empty} is not a run folder (no config.json)` });
  await assert.rejects(client.open({ runDir, checkpoint: 'epoch-7' }), (error: Error) => error.name === 'CheckpointChoiceError' && error.message.startsWith(`${runDir}: no epoch-7 checkpoint; it keeps best, last`) && !error.message.includes('\n'));
  await assert.rejects(client.open({ runDir, checkpoint: 'newest' }), { name: 'CheckpointChoiceError', message: '--checkpoint "newest": expected last, best or epoch-N' });
  const damaged = path.join(directory, 'damaged');
  mkdirSync(path.join(damaged, 'checkpoints'), { recursive: true });
  for (const file of ['config.json', 'experiment.aexp']) writeFileSync(path.join(damaged, file), readFileSync(path.join(runDir, file)));
  const bytes = readFileSync(path.join(runDir, 'checkpoints', 'last.ckpt'));
  writeFileSync(path.join(damaged, 'checkpoints', 'last.ckpt'), bytes.subarray(0, bytes.length - 100));
  await assert.rejects(client.open({ runDir: damaged, checkpoint: 'last' }), (error: Error) => error.name === 'CheckpointError' && error.message.startsWith(path.join(damaged, 'checkpoints', 'last.ckpt')) && !error.message.includes('\n'));
  await assert.rejects(client.decode({ z: Z, count: 6, labels: [0, 0, 0, 0, 0, -1] }), { name: 'ProtocolError', message: 'labels[5] must be a class number ≥ 0, not -1' });
  // The run opened before answers still; an earlier epoch opens by its number.
  assert.equal((await client.decode({ z: Z, count: 6 })).count, 6);
  const epoch = await client.open({ runDir, checkpoint: 'epoch-1' });
  assert.deepEqual([epoch.checkpoint, epoch.epoch], ['epoch-0001', 1]);
  await client.open({ runDir, checkpoint: 'last' });
});

test('a U-Net autoencoder opens but refuses to decode a free latent point, saying why', async () => {
  const file = path.join(directory, 'unet.aexp');
  writeFileSync(file, [
    '```data', 'dataset: sprites', 'size: 16', 'count: 200', 'batch: 50', '```', '',
    '```model', 'kind: ae', 'latent: 4', 'encoder: [conv 4 k3 s2 relu, conv 8 k3 s2 relu]', 'skips: true', '```', '',
    '```train', 'epochs: 1', '```', '',
  ].join('\n'));
  const result = await runExperiment({ file, outDir: path.join(directory, 'runs') });
  // A cancelled open changes nothing: the VAE stays open and decodes.
  const controller = new AbortController();
  const cancelled = client.open({ runDir: result.runDir, checkpoint: 'last' }, { signal: controller.signal });
  controller.abort();
  await assert.rejects(cancelled, { name: 'CancelledError' });
  assert.equal((await client.decode({ z: Z.subarray(0, 4), count: 1 })).count, 1);
  try {
    const info = await client.open({ runDir: result.runDir, checkpoint: 'last' });
    assert.equal(info.decodes, false);
    assert.match(info.reason!, /U-Net skips: its decoder needs the encoder's features of an input image/);
    await assert.rejects(client.decode({ z: Z.subarray(0, 4), count: 1 }), { name: 'CannotDecodeError', message: info.reason });
    await assert.rejects(client.traverse({ origin: { split: 'test', index: 0 }, dimension: 0, low: -1, high: 1, steps: 3 }), { name: 'CannotDecodeError' });
    // An example's reconstruction goes through its own encoder features, so it is answered.
    const example = await client.example({ split: 'test', index: 0 });
    assert.equal(example.reconstruction.length, 256);
  } finally {
    await client.open({ runDir, checkpoint: 'last' });
  }
});

test('a cvae decodes each vector with its class, and a strip with one class', async () => {
  const result = await runExperiment({ file: tinyExperiment(directory, { epochs: 1, name: 'conditional', kind: 'cvae', count: 300 }), outDir: path.join(directory, 'runs') });
  try {
    const info = await client.open({ runDir: result.runDir, checkpoint: 'last' });
    assert.deepEqual([info.kind, info.classes, info.decodes], ['cvae', 3, true]);
    const z = Float32Array.from([...Z.subarray(0, 4), ...Z.subarray(0, 4), ...Z.subarray(0, 4)]);
    await assert.rejects(client.decode({ z, count: 3 }), { name: 'InferenceRequestError', message: 'this cvae decodes each vector with a class: give labels (0–2), one per vector' });
    await assert.rejects(client.decode({ z, count: 3, labels: [0, 1, 3] }), /label 3 of vector 3: this cvae has classes 0–2/);
    // One code, three classes: the class alone changes the picture.
    const decoded = await client.decode({ z, count: 3, labels: [0, 1, 2] });
    assert.ok(largestDifference(decoded.pixels.subarray(0, 256), decoded.pixels.subarray(256, 512)) > 0.01);
    assert.ok(largestDifference(decoded.pixels.subarray(256, 512), decoded.pixels.subarray(512)) > 0.01);
    await assert.rejects(client.interpolate({ from: { split: 'test', index: 0 }, to: { split: 'test', index: 1 }, steps: 3, method: 'lerp' }), { message: 'this cvae decodes with a class: give label (0–2)' });
    const strip = await client.interpolate({ from: { split: 'test', index: 0 }, to: { split: 'test', index: 1 }, steps: 3, method: 'lerp', label: 2 });
    const ends = await client.decode({ z: strip.z, count: 3, labels: [2, 2, 2] });
    assert.deepEqual([...strip.pixels], [...ends.pixels]);
  } finally {
    await client.open({ runDir, checkpoint: 'last' });
  }
});

test('closing a client ends its worker: what was waiting rejects, and so does every later request', async () => {
  const closing = new InferenceClient();
  const waiting = closing.memory();
  const outcome = assert.rejects(waiting, (error: Error) => error instanceof CancelledError && error.reason === 'closed');
  await closing.close();
  await outcome;
  await assert.rejects(closing.decode({ z: Z, count: 6 }), { name: 'CancelledError', message: 'the inference worker was closed' });
  await assert.rejects(closing.ready, { name: 'CancelledError' });
});
