/**
 * Evaluation draws each example's binarization, patch mask and corruption from its own index: the
 * same example gets the same input in any batch, at any batch size, and alone (as the explorer
 * encodes the example it shows on hover), and the corruption follows the kind's rule in
 * distribution, checked by counting.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { evaluateSplit } from '../../runtime/analysis/evaluate';
import { corruptExample, disposeInputs, exampleInputs, exampleNeeds } from '../../runtime/analysis/example-inputs';
import { encodeSplit } from '../../runtime/analysis/latent-codes';
import { selectBackend } from '../../runtime/backends/select';
import type { Dataset } from '../../runtime/data/dataset';
import { parseLayer } from '../../runtime/format/layers';
import type { LayerSpec } from '../../runtime/format/layers';
import type { DataConfig, ModelConfig } from '../../runtime/format/schema';
import { withDefaults } from '../../runtime/format/validate';
import { buildAutoencoder, disposeAutoencoder } from '../../runtime/model/build';
import { range } from '../../runtime/train/batches';
import { Random } from '../../runtime/util/random';

const SHAPE: [number, number, number] = [4, 4, 1];

function smallDataset(count: number, seed: number): Dataset {
  const random = new Random(seed);
  const images = Uint8Array.from({ length: count * 16 }, () => Math.floor(random.next() * 256));
  const labels = Uint8Array.from({ length: count }, () => random.int(2));
  const split = { images, labels, count };
  return { name: 'fixed', shape: SHAPE, classes: ['a', 'b'], train: split, test: split, description: 'fixed test examples' };
}

function model(config: Partial<ModelConfig>) {
  return buildAutoencoder(withDefaults('model', { latent: 2, encoder: ['dense 8 tanh'], ...config } as Partial<ModelConfig>), { encoder: [parseLayer('dense 8 tanh') as LayerSpec], decoder: 'mirror' }, SHAPE, 4, { classes: 2 });
}

const CASES: { name: string; model: Partial<ModelConfig>; binarize: DataConfig['binarize'] }[] = [
  { name: 'a denoising-ae (gaussian corruption)', model: { kind: 'denoising-ae', corruption: 'gaussian', noise: 0.3 }, binarize: 'none' },
  { name: 'a denoising-ae (salt-and-pepper)', model: { kind: 'denoising-ae', corruption: 'salt-and-pepper', noise: 0.3 }, binarize: 'none' },
  { name: 'a masked-ae', model: { kind: 'masked-ae', patch: 2, mask_ratio: 0.5 }, binarize: 'none' },
  { name: 'a vae on dynamically binarized data', model: { kind: 'vae' }, binarize: 'dynamic' },
];

for (const entry of CASES) {
  test(`${entry.name}: every example's input is its own, in any batch and alone; its codes and losses do not depend on the batch size`, async () => {
    await selectBackend('cpu');
    const dataset = smallDataset(23, 3);
    const autoencoder = model(entry.model);
    const data = withDefaults('data', { dataset: 'mnist', binarize: entry.binarize } as Partial<DataConfig>);
    const needs = exampleNeeds(autoencoder);
    const together = exampleInputs(dataset.test, range(0, 23), SHAPE, entry.binarize, 5, needs);
    const size = 16;
    for (const index of [0, 7, 22]) {
      const alone = exampleInputs(dataset.test, [index], SHAPE, entry.binarize, 5, needs);
      for (const field of ['x', 'mask', 'corrupted'] as const) {
        if (!together[field]) continue;
        const rowSize = field === 'mask' ? 16 : size;
        assert.deepEqual(Array.from(alone[field]!.dataSync()), Array.from(together[field]!.dataSync().subarray(index * rowSize, (index + 1) * rowSize)), `example ${index}'s ${field}`);
      }
      disposeInputs(alone);
    }
    if (entry.model.kind === 'denoising-ae') assert.notDeepEqual(Array.from(together.corrupted!.dataSync()), Array.from(together.x.dataSync()), 'the corruption changed pixels');
    disposeInputs(together);

    const whole = await encodeSplit(autoencoder, dataset, data, { split: 'test', seed: 5, batchSize: 500 });
    const small = await encodeSplit(autoencoder, dataset, data, { split: 'test', seed: 5, batchSize: 4 });
    assert.deepEqual(Array.from(small.means), Array.from(whole.means), 'the codes do not depend on the batch size');
    assert.deepEqual(Array.from(small.loss), Array.from(whole.loss), 'nor the losses');
    for (const index of [0, 9, 22]) {
      const one = await encodeSplit(autoencoder, dataset, data, { split: 'test', seed: 5, first: index, limit: 1 });
      assert.deepEqual(Array.from(one.means), Array.from(whole.means.subarray(index * 2, index * 2 + 2)), `example ${index} encoded alone is its row of the split`);
      assert.equal(one.loss[0], whole.loss[index], `example ${index}'s loss alone is its row's`);
      assert.equal(one.labels[0], dataset.test.labels[index]);
    }
    const warm = tf.memory().numTensors;
    const evaluation = await evaluateSplit(autoencoder, dataset, data, 5);
    assert.equal(tf.memory().numTensors, warm, 'evaluation leaves no tensor behind');
    if (!autoencoder.variational) {
      // Without a sampled code the evaluation's reconstruction term is the mean of the encoded rows' terms.
      const mean = Array.from(whole.reconstruction).reduce((sum, value) => sum + value, 0) / whole.count;
      assert.ok(Math.abs(evaluation.reconstruction - mean) <= 1e-4 * Math.abs(mean), `evaluation ${evaluation.reconstruction} vs the encoded rows ${mean}`);
    }
    disposeAutoencoder(autoencoder);
  });
}

test('each corruption follows its rule in distribution (counted over 200,000 pixels)', () => {
  const count = 200_000;
  const grey = new Float32Array(count).fill(0.5);
  const gaussian = corruptExample(grey, { corruption: 'gaussian', noise: 0.1 }, 11);
  let sum = 0;
  let squares = 0;
  for (const value of gaussian) {
    sum += value - 0.5;
    squares += (value - 0.5) ** 2;
  }
  // σ = 0.1 around 0.5: clipping at 0 and 1 is five σ away and changes nothing measurable.
  assert.ok(Math.abs(sum / count) < 0.002, `gaussian noise has mean 0: ${sum / count}`);
  assert.ok(Math.abs(Math.sqrt(squares / count) - 0.1) < 0.002, `and standard deviation σ: ${Math.sqrt(squares / count)}`);
  const fraction = (pixels: Float32Array, value: number) => pixels.filter((pixel) => pixel === value).length / count;
  const saltAndPepper = corruptExample(grey, { corruption: 'salt-and-pepper', noise: 0.3 }, 12);
  assert.ok(Math.abs(fraction(saltAndPepper, 0) - 0.15) < 0.005 && Math.abs(fraction(saltAndPepper, 1) - 0.15) < 0.005, 'salt and pepper: each with probability noise / 2');
  const masked = corruptExample(grey, { corruption: 'mask', noise: 0.3 }, 13);
  assert.ok(Math.abs(fraction(masked, 0) - 0.3) < 0.005 && Math.abs(fraction(masked, 0.5) - 0.7) < 0.005, 'mask: zeroed with probability noise, else kept');
});
