import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../runtime/backends/select';
import type { LayerSpec } from '../../runtime/format/layers';
import { parseLayer } from '../../runtime/format/layers';
import type { ModelConfig } from '../../runtime/format/schema';
import type { Autoencoder, Shape } from '../../runtime/model/build';
import { ModelError, allWeights, buildAutoencoder, disposeAutoencoder, formatSummary, parameterCount, trainableVariables } from '../../runtime/model/build';
import { setWeights } from '../../runtime/run/load-run';
import { lossTerms } from '../../runtime/model/losses';
import { withDefaults } from '../../runtime/format/validate';

const layers = (...texts: string[]) => texts.map((text) => parseLayer(text) as LayerSpec);
const config = (overrides: Partial<ModelConfig>): ModelConfig => withDefaults('model', { kind: 'vae', latent: 2, encoder: [], ...overrides });

test('the PyTorch-example VAE has 784-400-(20,20)-400-784 and 652,824 parameters', async () => {
  await selectBackend('cpu');
  const model = buildAutoencoder(config({ latent: 20, init: 'pytorch' }), { encoder: layers('dense 400 relu'), decoder: 'mirror' }, [28, 28, 1], 1);
  assert.equal(parameterCount(model), 784 * 400 + 400 + 400 * 40 + 40 + 20 * 400 + 400 + 400 * 784 + 784);
  assert.deepEqual(model.decoder.outputs[0].shape, [null, 28, 28, 1]);
  const summary = formatSummary(model);
  assert.match(summary, /Dense 400 relu/);
  assert.match(summary, /652,824 parameters/);
  // PyTorch's init: |w| ≤ 1/√784 in the first layer, biases too.
  const [kernel, bias] = model.encoder.layers.find((layer) => layer.getClassName() === 'Dense')!.getWeights();
  assert.ok(tf.max(tf.abs(kernel)).dataSync()[0] <= 1 / 28 + 1e-7);
  assert.ok(tf.max(tf.abs(bias)).dataSync()[0] > 0.01);
  disposeAutoencoder(model);
});

test('a conv encoder mirrors into transposed convolutions back to the input shape', async () => {
  await selectBackend('cpu');
  const model = buildAutoencoder(config({ latent: 16 }), { encoder: layers('conv 32 k4 s2 relu', 'conv 64 k4 s2 relu'), decoder: 'mirror' }, [32, 32, 3], 1);
  const summary = formatSummary(model);
  assert.match(summary, /Conv2DTranspose 32 k4 s2 relu/);
  assert.deepEqual(model.decoder.outputs[0].shape, [null, 32, 32, 3]);
  disposeAutoencoder(model);
});

test('a decoder that does not end at the input shape is an error before training', async () => {
  await selectBackend('cpu');
  assert.throws(
    () => buildAutoencoder(config({}), { encoder: layers('conv 8 k3 s2 relu', 'conv 8 k3 s2 relu', 'conv 8 k3 s2 relu'), decoder: 'mirror' }, [28, 28, 1], 1),
    (error: ModelError) => error instanceof ModelError && /produces 32×32×1 but the input is 28×28×1/.test(error.message),
  );
  assert.throws(
    () => buildAutoencoder(config({}), { encoder: layers('dense 8 relu'), decoder: layers('dense 8 relu', 'reshape 2x2x2', 'deconv 4 k3 s2 relu') }, [28, 28, 1], 1),
    /produces 4×4×1 but the input is 28×28×1/,
  );
});

/** An independent float64 forward pass of the tiny tanh MLP VAE below, from its weights. */
function float64Loss(weights: Float64Array[], shapes: number[][], x: number[][], noise: number[][], likelihood: 'bernoulli' | 'gaussian', sigma: number): number {
  const dense = (input: number[], kernel: Float64Array, bias: Float64Array, shape: number[], activation: (v: number) => number) => {
    const [rows, columns] = shape;
    const out: number[] = [];
    for (let j = 0; j < columns; j++) {
      let sum = bias[j];
      for (let i = 0; i < rows; i++) sum += input[i] * kernel[i * columns + j];
      out.push(activation(sum));
    }
    return out;
  };
  const identity = (v: number) => v;
  let total = 0;
  for (let b = 0; b < x.length; b++) {
    const hidden = dense(x[b], weights[0], weights[1], shapes[0], Math.tanh);
    const code = dense(hidden, weights[2], weights[3], shapes[2], identity);
    const latent = code.length / 2;
    const mean = code.slice(0, latent);
    const logVariance = code.slice(latent);
    const z = mean.map((m, j) => m + Math.exp(0.5 * logVariance[j]) * noise[b][j]);
    const decoded = dense(z, weights[4], weights[5], shapes[4], Math.tanh);
    const output = dense(decoded, weights[6], weights[7], shapes[6], identity);
    let reconstruction = 0;
    for (let i = 0; i < output.length; i++) {
      const l = output[i];
      reconstruction += likelihood === 'bernoulli'
        ? Math.max(l, 0) - l * x[b][i] + Math.log1p(Math.exp(-Math.abs(l)))
        : (x[b][i] - l) ** 2 / (2 * sigma * sigma) + Math.log(sigma) + 0.5 * Math.log(2 * Math.PI);
    }
    let kl = 0;
    for (let j = 0; j < latent; j++) kl += -0.5 * (1 + logVariance[j] - mean[j] ** 2 - Math.exp(logVariance[j]));
    total += reconstruction + kl;
  }
  return total / x.length;
}

for (const likelihood of ['bernoulli', 'gaussian'] as const) {
  for (const backend of ['cpu', 'wasm'] as const) {
    test(`VAE loss and gradients (${likelihood}, ${backend}) match an independent float64 computation to 1e-5`, async () => {
      await selectBackend(backend);
      const shape: Shape = [2, 3, 1];
      const model: Autoencoder = buildAutoencoder(config({ latent: 2, likelihood, sigma: 0.5 }), { encoder: layers('dense 5 tanh'), decoder: 'mirror' }, shape, 3);
      const batch = 4;
      const xValues = Array.from({ length: batch }, (_, b) => Array.from({ length: 6 }, (_, i) => ((b * 7 + i * 3) % 10) / 9));
      const noiseValues = Array.from({ length: batch }, (_, b) => [Math.sin(b + 1), Math.cos(3 * b)]);
      const x = tf.tensor4d(xValues.flat(), [batch, ...shape]);
      const noise = tf.tensor2d(noiseValues);
      const variables = trainableVariables(model);
      const { value, grads } = tf.variableGrads(() => lossTerms(model, { x }, { training: true, noise }).loss, variables);

      const weights = variables.map((variable) => Float64Array.from(variable.dataSync()));
      const shapes = variables.map((variable) => variable.shape);
      const reference = float64Loss(weights, shapes, xValues, noiseValues, likelihood, 0.5);
      const ours = value.dataSync()[0];
      assert.ok(Math.abs(ours - reference) / Math.abs(reference) < 1e-5, `loss ${ours} vs float64 ${reference}`);

      variables.forEach((variable, index) => {
        const gradient = grads[variable.name].dataSync();
        let difference = 0;
        let norm = 0;
        for (let element = 0; element < weights[index].length; element++) {
          const step = 1e-6;
          const saved = weights[index][element];
          weights[index][element] = saved + step;
          const up = float64Loss(weights, shapes, xValues, noiseValues, likelihood, 0.5);
          weights[index][element] = saved - step;
          const down = float64Loss(weights, shapes, xValues, noiseValues, likelihood, 0.5);
          weights[index][element] = saved;
          const expected = (up - down) / (2 * step);
          difference += (gradient[element] - expected) ** 2;
          norm += expected ** 2;
        }
        const relative = Math.sqrt(difference) / Math.sqrt(norm);
        assert.ok(relative < 1e-5, `${variable.name} ${JSON.stringify(variable.shape)}: gradient relative error ${relative.toExponential(2)}`);
      });
      tf.dispose([x, noise, value, ...Object.values(grads)]);
      disposeAutoencoder(model);
    });
  }
}

test('a checkpoint whose last weight does not fit is refused before any weight is written', async () => {
  await selectBackend('cpu');
  const model = buildAutoencoder(config({ latent: 2 }), { encoder: layers('dense 8 relu'), decoder: 'mirror' }, [4, 4, 1], 1);
  const weights = allWeights(model);
  const before = weights.map((weight) => Array.from(weight.read().dataSync()));
  const checkpoint = weights.map((weight, index) => ({ shape: index === weights.length - 1 ? [weight.shape[0] + 1] : [...weight.shape], values: new Float32Array(weight.read().size + (index === weights.length - 1 ? 1 : 0)).fill(7) }));
  assert.throws(() => setWeights(model, checkpoint), /model expects/);
  assert.deepEqual(weights.map((weight) => Array.from(weight.read().dataSync())), before, 'the model is as it was');
  disposeAutoencoder(model);
});
