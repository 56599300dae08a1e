import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../runtime/backends/select';
import { CONV_CASES } from '../helpers/conv-cases';

function randomTensor(shape: number[], seed: number): tf.Tensor {
  return tf.randomUniform(shape, -1, 1, 'float32', seed);
}


/**
 * Runs both gradients of conv2d (the filter gradient is the Conv2DBackpropFilter kernel, the
 * input gradient and conv2dTranspose are Conv2DBackpropInput) on cpu and on wasm.
 */
test('the wasm convolution gradient kernels match the cpu backend (strides, padding, odd sizes, transposed conv)', async () => {
  for (const [index, { x: xShape, filter, stride, pad }] of CONV_CASES.entries()) {
    const compute = () => tf.tidy(() => {
      const x = randomTensor(xShape, index);
      const weights = randomTensor(filter, index + 200);
      const probe = tf.conv2d(x as tf.Tensor4D, weights as tf.Tensor4D, stride, pad);
      const dy = randomTensor(probe.shape, index + 100);
      const [inputGradient, filterGradient] = tf.grads((input: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(input as tf.Tensor4D, w as tf.Tensor4D, stride, pad), dy)))([x, weights]);
      const parts = [inputGradient, filterGradient];
      // conv2dTranspose takes 'same' or 'valid' only.
      if (typeof pad === 'string') parts.push(tf.conv2dTranspose(dy as tf.Tensor4D, weights as tf.Tensor4D, xShape, stride, pad));
      return parts.map((part) => part.dataSync().slice());
    });
    await selectBackend('cpu');
    const expected = compute();
    await selectBackend('wasm');
    compute();
    const tensors = tf.memory().numTensors;
    const buffers = tf.engine().backend.numDataIds();
    const actual = compute();
    assert.equal(tf.memory().numTensors, tensors, 'no tensor leaks');
    assert.equal(tf.engine().backend.numDataIds(), buffers, 'the kernels free their intermediate buffers');
    for (const [part, values] of expected.entries()) {
      let worst = 0;
      const scale = Math.max(...Array.from(values, Math.abs));
      for (let i = 0; i < values.length; i++) worst = Math.max(worst, Math.abs(actual[part][i] - values[i]) / scale);
      assert.ok(worst < 1e-5, `case ${index} (${JSON.stringify(CONV_CASES[index])}), ${['input gradient', 'filter gradient', 'conv2dTranspose'][part]}: relative error ${worst}`);
    }
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

test('auto leaves no Dawn lines on stderr when it does not choose webgpu', () => {
  const select = path.resolve(__dirname, '..', '..', 'runtime', 'backends', 'select.ts');
  const script = `require(${JSON.stringify(select)}).selectBackend('auto').then((info) => process.stdout.write(JSON.stringify(info)))`;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  const chosen = JSON.parse(child.stdout) as { backend: string; skipped: string[] };
  if (chosen.backend === 'webgpu') return;
  // Dawn writes from C++ while it looks for an adapter: "Couldn't load Vulkan", "…artificially reduced…".
  assert.doesNotMatch(child.stderr, /vulkan|dawn|artificially reduced|maxDynamicUniformBuffers/i, `chose ${chosen.backend}, yet stderr holds:\n${child.stderr}`);
  assert.ok(chosen.skipped.some((reason) => reason.startsWith('webgpu: ')) || !chosen.skipped.length, 'webgpu was passed over with a reason');
});
