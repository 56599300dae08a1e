import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../runtime/backend';

function randomTensor(shape: number[], seed: number): tf.Tensor {
  return tf.randomUniform(shape, -1, 1, 'float32', seed);
}

test('the wasm Conv2DBackpropFilter kernel matches the cpu backend (strides, padding, odd sizes)', async () => {
  const cases: { x: [number, number, number, number]; filter: [number, number, number, number]; stride: number; pad: 'same' | 'valid' }[] = [
    { x: [3, 28, 28, 1], filter: [4, 4, 1, 8], stride: 2, pad: 'same' },
    { x: [2, 14, 14, 8], filter: [3, 3, 8, 5], stride: 2, pad: 'same' },
    { x: [2, 9, 7, 3], filter: [3, 2, 3, 4], stride: 1, pad: 'valid' },
    { x: [1, 11, 13, 2], filter: [5, 3, 2, 3], stride: 3, pad: 'same' },
    { x: [4, 8, 8, 4], filter: [1, 1, 4, 6], stride: 1, pad: 'same' },
  ];
  for (const [index, { x: xShape, filter, stride, pad }] of cases.entries()) {
    const compute = () => tf.tidy(() => {
      const x = randomTensor(xShape, index);
      const probe = tf.conv2d(x as tf.Tensor4D, tf.zeros(filter) as tf.Tensor4D, stride, pad);
      const dy = randomTensor(probe.shape, index + 100);
      // The filter gradient of conv2d is what runs the Conv2DBackpropFilter kernel.
      const weights = randomTensor(filter, index + 200);
      const gradient = tf.grad((w: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, stride, pad), dy)))(weights);
      return gradient.dataSync().slice();
    });
    await selectBackend('cpu');
    const expected = compute();
    await selectBackend('wasm');
    const tensors = tf.memory().numTensors;
    const buffers = tf.engine().backend.numDataIds();
    const actual = compute();
    assert.equal(tf.memory().numTensors, tensors, 'no tensor leaks');
    assert.equal(tf.engine().backend.numDataIds(), buffers, 'the kernel frees its intermediate buffers');
    let worst = 0;
    const scale = Math.max(...Array.from(expected, Math.abs));
    for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / scale);
    assert.ok(worst < 1e-5, `case ${index}: relative error ${worst}`);
  }
});

test('selectBackend names the backend and the device, and refuses unknown ones', async () => {
  const info = await selectBackend('wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.match(info.device, /cores/);
  await assert.rejects(selectBackend('webgl' as never), /unknown backend "webgl"/);
});

test('wasm matmul with transposed operands (explicit transpose first) matches cpu, batched and fused', async () => {
  const shapes: [number[], number[], boolean, boolean][] = [
    [[7, 5], [7, 3], true, false],
    [[4, 6], [3, 6], false, true],
    [[6, 4], [3, 6], true, true],
    [[2, 5, 3], [2, 5, 4], true, false],
    [[3, 4, 5], [3, 6, 5], false, true],
  ];
  for (const [index, [aShape, bShape, transposeA, transposeB]] of shapes.entries()) {
    const compute = () => tf.tidy(() => {
      const a = randomTensor(aShape, index);
      const b = randomTensor(bShape, index + 50);
      const plain = tf.matMul(a, b, transposeA, transposeB);
      const fused = aShape.length === 2 ? tf.fused.matMul({ a, b, transposeA, transposeB, bias: randomTensor([plain.shape[1] as number], 7), activation: 'relu' }) : plain;
      return [...plain.dataSync(), ...fused.dataSync()];
    });
    await selectBackend('cpu');
    const expected = compute();
    await selectBackend('wasm');
    const buffers = tf.engine().backend.numDataIds();
    const actual = compute();
    assert.equal(tf.engine().backend.numDataIds(), buffers, 'no leaked transposes');
    actual.forEach((value, element) => assert.ok(Math.abs(value - expected[element]) < 1e-5, `case ${index}: ${value} vs ${expected[element]}`));
  }
});
