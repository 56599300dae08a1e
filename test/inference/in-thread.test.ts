/**
 * Inference on the thread that asks (the Latent Explorer's own runtime, where nothing trains), on
 * real run folders: the pixels a worker decodes, requests replaced and cancelled as the worker's
 * client replaces and cancels them, no tensor left behind, a model disposed on close; and what a
 * session holds: a test-split request reads the test split's files only, a large split is held
 * deflated, and `all` encodes each split as that split alone.
 */
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { encodeSplit } from '../../runtime/analysis/latent-codes';
import { runExperiment } from '../../runtime/engine';
import { openRun } from '../../runtime/run/open-run';
import { InferenceClient } from '../../runtime/inference/client';
import { CancelledError } from '../../runtime/inference/errors';
import { InThreadInference } from '../../runtime/inference/in-thread';
import { tinyExperiment } from '../helpers/experiments';
import { sharedData, skipMessage } from '../helpers/shared';
import { temporaryDirectory } from '../helpers/temp';

const directory = temporaryDirectory('aexp-in-thread-');
let runDir: string;
let inference: InThreadInference;

/** Latent vectors of the tiny VAE (4-d). */
const Z = Float32Array.from({ length: 6 * 4 }, (_, index) => Math.sin(index * 1.7) * 2);

before(async () => {
  const result = await runExperiment({ file: tinyExperiment(directory, { epochs: 1, name: 'source' }), outDir: path.join(directory, 'runs') });
  assert.equal(result.status, 'completed');
  runDir = result.runDir;
  inference = new InThreadInference();
  await inference.open({ runDir, checkpoint: 'last' });
});

after(async () => {
  await inference.close();
});

async function tensors(from: InThreadInference): Promise<{ tensors: number; bytes: number }> {
  const { tensors: count, bytes } = await from.memory();
  return { tensors: count, bytes };
}

test('it decodes on the asking thread, on wasm, the pixels a worker decodes', async () => {
  const worker = new InferenceClient();
  try {
    await worker.open({ runDir, checkpoint: 'last' });
    const [here, there] = [await inference.decode({ z: Z, count: 6 }), await worker.decode({ z: Z, count: 6 })];
    assert.deepEqual([...here.pixels], [...there.pixels]);
    const memory = await inference.memory();
    assert.equal(memory.thread, 'main');
    assert.equal(tf.getBackend(), 'wasm');
    assert.ok(memory.wasmBytes >= 16 * 1024 * 1024, `the wasm memory: ${memory.wasmBytes} bytes`);
    assert.equal((await worker.memory()).thread, 'worker');
  } finally {
    await worker.close();
  }
});

test('a newer decode replaces a waiting one, and cancelling stops a waiting request or a running encode, leaving no tensor', async () => {
  const start = await tensors(inference);
  const progress: number[] = [];
  const controller = new AbortController();
  const encoding = inference.encode({ split: 'train', batch: 8 }, {
    signal: controller.signal,
    onProgress: (done) => {
      progress.push(done);
      controller.abort();
    },
  });
  const first = inference.decode({ z: Z.subarray(0, 4), count: 1 });
  const second = inference.decode({ z: Z.subarray(4, 8), count: 1 });
  const exampleController = new AbortController();
  const example = inference.example({ split: 'test', index: 0 }, { signal: exampleController.signal });
  exampleController.abort();
  await Promise.all([
    assert.rejects(encoding, (error: Error) => error instanceof CancelledError && error.reason === 'cancelled'),
    assert.rejects(first, (error: Error) => error instanceof CancelledError && error.reason === 'replaced'),
    assert.rejects(example, (error: Error) => error instanceof CancelledError && error.reason === 'cancelled'),
  ]);
  assert.deepEqual(progress, [8]);
  assert.equal((await second).count, 1);
  const [left, right] = await Promise.all([inference.decode({ z: Z.subarray(0, 4), count: 1 }, { channel: 'left' }), inference.decode({ z: Z.subarray(4, 8), count: 1 })]);
  assert.equal(left.count + right.count, 2);
  assert.deepEqual(await tensors(inference), start, 'a cancelled encode leaves no tensor behind');
});

test('its tensor count is unchanged after a warm-up round of every request', async () => {
  const round = async () => {
    await inference.encode({ split: 'all', limit: 1100, batch: 64 });
    await inference.example({ split: 'all', index: 1100 });
    await inference.decode({ z: Z, count: 6 });
    await inference.interpolate({ from: { split: 'test', index: 0 }, to: { z: Z.subarray(0, 4) }, steps: 5, method: 'slerp' });
    await inference.traverse({ origin: { split: 'train', index: 3 }, dimension: 1, low: -2, high: 2, steps: 5 });
    await assert.rejects(inference.decode({ z: Z, count: 5 }), /5 latent vectors of 4 values need 20 numbers, not 24/);
  };
  await round();
  const warm = await tensors(inference);
  await round();
  await round();
  assert.deepEqual(await tensors(inference), warm);
});

test('closing it disposes its model: what was waiting rejects, and so does every later request', async () => {
  const empty = tf.memory().numTensors;
  const closing = new InThreadInference();
  await closing.open({ runDir, checkpoint: 'last' });
  assert.ok(tf.memory().numTensors > empty, 'the model\'s weights are tensors');
  const running = closing.encode({ split: 'train', batch: 8 });
  const waiting = closing.decode({ z: Z, count: 6 });
  const outcomes = [running, waiting].map((request) => assert.rejects(request, (error: Error) => error instanceof CancelledError && error.reason === 'closed'));
  await closing.close();
  await Promise.all(outcomes);
  await assert.rejects(closing.decode({ z: Z, count: 6 }), { name: 'CancelledError' });
  assert.equal(closing.closed, true);
  assert.equal(tf.memory().numTensors, empty, 'the running encode stopped and the model went with it');
});

test('all is encoded split by split: a test example has the same code under test and under all (a denoising autoencoder\'s corruption drawn per split)', async () => {
  const denoising = await runExperiment({ file: tinyExperiment(directory, { epochs: 1, kind: 'denoising-ae', name: 'denoising' }), outDir: path.join(directory, 'runs') });
  assert.equal(denoising.status, 'completed');
  const session = new InThreadInference();
  try {
    await session.open({ runDir: denoising.runDir, checkpoint: 'last' });
    const testSplit = await session.encode({ split: 'test', batch: 50 });
    const trainSplit = await session.encode({ split: 'train', batch: 50 });
    const all = await session.encode({ split: 'all', batch: 50 });
    assert.equal(all.count, trainSplit.count + testSplit.count);
    assert.deepEqual([...all.means.subarray(0, trainSplit.means.length)], [...trainSplit.means]);
    assert.deepEqual([...all.means.subarray(trainSplit.means.length)], [...testSplit.means]);
    assert.deepEqual([...all.labels], [...trainSplit.labels, ...testSplit.labels]);
    assert.deepEqual([...all.losses.subarray(trainSplit.count)], [...testSplit.losses]);
    const limited = await session.encode({ split: 'all', limit: trainSplit.count + 7, batch: 50 });
    assert.equal(limited.count, trainSplit.count + 7);
    assert.deepEqual([...limited.means.subarray(trainSplit.means.length)], [...testSplit.means.subarray(0, 7 * 4)]);
    const memory = await session.memory();
    assert.equal(memory.datasetBytes, (trainSplit.count + testSplit.count) * (16 * 16 + 1), 'both splits\' images and labels, once');
  } finally {
    await session.close();
  }
});

const mnist = sharedData('mnist');
test('a test-split request reads the test split\'s files only (MNIST\'s train files are never opened for it), and holds its images deflated, encoding and showing them as they are', { skip: mnist ? false : skipMessage('mnist') }, async () => {
  const file = path.join(directory, 'mnist.aexp');
  writeFileSync(file, '---\ntitle: mnist\nseed: 3\n---\n```data\ndataset: mnist\nbatch: 64\ntrain_limit: 256\ntest_limit: 6000\n```\n\n```model\nkind: vae\nlatent: 2\nencoder: [dense 16 relu]\n```\n\n```train\nepochs: 1\n```\n');
  const trained = await runExperiment({ file, outDir: path.join(directory, 'runs'), dataDir: path.dirname(mnist!), cells: ['data', 'model', 'train'] });
  assert.equal(trained.status, 'completed');
  // A data folder whose test files are MNIST's and whose train files are not gzip at all.
  const dataDir = path.join(directory, 'data');
  mkdirSync(path.join(dataDir, 'mnist'), { recursive: true });
  for (const name of ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']) symlinkSync(path.join(mnist!, name), path.join(dataDir, 'mnist', name));
  for (const name of ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz']) writeFileSync(path.join(dataDir, 'mnist', name), 'not the train split');
  const session = new InThreadInference();
  try {
    await session.open({ runDir: trained.runDir, checkpoint: 'last', dataDir });
    const encoded = await session.encode({ split: 'test' });
    assert.equal(encoded.count, 6000);
    const { datasetBytes } = await session.memory();
    assert.ok(datasetBytes > 6000 && datasetBytes < (6000 * 28 * 28) / 2, `6000 test images (4.7 MB as bytes) held in ${datasetBytes} bytes`);
    // The same codes and images as the run's model and dataset give directly.
    const reference = await openRun(trained.runDir, { dataDir: path.dirname(mnist!), data: true, backend: 'wasm' });
    try {
      const direct = await encodeSplit(reference.model, reference.dataset!, reference.config.data, { split: 'test', seed: reference.config.seed });
      assert.deepEqual([...encoded.labels], [...direct.labels]);
      assert.ok(encoded.means.every((value, index) => Math.abs(value - direct.means[index]) < 1e-5), 'the codes of the packed split are the split\'s');
      const example = await session.example({ split: 'test', index: 4500 });
      assert.equal(example.label, reference.dataset!.test.labels[4500]);
      assert.deepEqual([...example.input].map((value) => Math.round(value * 255)), [...reference.dataset!.test.images.subarray(4500 * 784, 4501 * 784)]);
    } finally {
      reference.dispose();
    }
    // The train split is read when asked for, and its damaged file is named.
    await assert.rejects(session.encode({ split: 'train' }), /train-images-idx3-ubyte\.gz is not a readable gzip file/);
  } finally {
    await session.close();
  }
});
