/**
 * The IWAE bound against an independent float64 computation: the tiny model's networks evaluated
 * by hand from its weights, the importance weights written from the densities of p(x|z), p(z) and
 * q(z|x), on the very ε the bound drew (injected). Then k = 1 against the model's own sampled ELBO,
 * and the bound rising with k on a briefly trained model.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import type { ExampleSource, NoiseSource } from '../../runtime/analysis/iwae';
import { IwaeRefusedError, iwaeBound, iwaeRefusal, splitSource } from '../../runtime/analysis/iwae';
import { evaluateSplit } from '../../runtime/analysis/evaluate';
import { selectBackend } from '../../runtime/backends/select';
import { generateSprites } from '../../runtime/data/sprites';
import { parseLayer } from '../../runtime/format/layers';
import type { LayerSpec } from '../../runtime/format/layers';
import type { DataConfig, ModelConfig } from '../../runtime/format/schema';
import { withDefaults } from '../../runtime/format/validate';
import type { Autoencoder } from '../../runtime/model/build';
import { allWeights, buildAutoencoder, disposeAutoencoder, trainableVariables } from '../../runtime/model/build';
import { forward, gaussianKlPerExample, reconstructionPerExample } from '../../runtime/model/losses';
import { batchInputs } from '../../runtime/train/batches';
import { Optimizer } from '../../runtime/train/optimizers';
import { trainingStep } from '../../runtime/train/step';
import { Random, permutation } from '../../runtime/util/random';

const SHAPE: [number, number, number] = [3, 3, 1];
const PIXELS = 9;
const LATENT = 2;
const HIDDEN = 6;

function tinyModel(config: Partial<ModelConfig>, seed: number): Autoencoder {
  const model = buildAutoencoder(withDefaults('model', { latent: LATENT, encoder: [`dense ${HIDDEN} tanh`], ...config } as Partial<ModelConfig>), { encoder: [parseLayer(`dense ${HIDDEN} tanh`) as LayerSpec], decoder: 'mirror' }, SHAPE, seed, { classes: 2 });
  // Weights of either sign and non-zero biases, so that every term of the bound matters.
  const random = new Random(seed);
  for (const handle of allWeights(model)) {
    const size = handle.shape.reduce((product, dimension) => product * dimension, 1);
    const value = tf.tensor(Float32Array.from({ length: size }, () => 1.6 * random.next() - 0.8), handle.shape);
    handle.write(value);
    value.dispose();
  }
  return model;
}

function normals(count: number, seed: number): Float32Array {
  const random = new Random(seed);
  const out = new Float32Array(count);
  for (let index = 0; index < count; index++) {
    const radius = Math.sqrt(-2 * Math.log(1 - random.next()));
    out[index] = radius * Math.cos(2 * Math.PI * random.next());
  }
  return out;
}

/** ε[example][sample][dimension], handed out pass by pass as [samples, examples, latent]. */
function injected(epsilon: Float32Array, k: number): NoiseSource {
  return ({ firstExample, examples, firstSample, samples, latent }) => {
    const out = new Float32Array(samples * examples * latent);
    for (let sample = 0; sample < samples; sample++) {
      for (let example = 0; example < examples; example++) {
        const from = ((firstExample + example) * k + firstSample + sample) * latent;
        out.set(epsilon.subarray(from, from + latent), (sample * examples + example) * latent);
      }
    }
    return tf.tensor3d(out, [samples, examples, latent]);
  };
}

/** Example i has class i mod 2, for a cvae. */
function oneHot(example: number): number[] {
  return example % 2 === 0 ? [1, 0] : [0, 1];
}

function arraySource(pixels: Float32Array, binary: boolean, classes = 0): ExampleSource {
  return {
    count: pixels.length / PIXELS,
    binary,
    inputs: (start, end) => ({
      x: tf.tensor4d(pixels.slice(start * PIXELS, end * PIXELS), [end - start, ...SHAPE]),
      ...(classes > 0 ? { labels: tf.tensor2d(Array.from({ length: end - start }, (_, row) => oneHot(start + row))) } : {}),
    }),
  };
}

interface Dense { kernel: Float64Array; bias: Float64Array; inputs: number; outputs: number; activation: 'tanh' | 'linear' }

/** A network's dense layers in float64, read from its weights (kernel [in, out], bias [out]). */
function denseLayers(network: Autoencoder['encoder'], activations: Dense['activation'][]): Dense[] {
  const weights = network.weights;
  assert.equal(weights.length, 2 * activations.length, `${network.name}: expected ${activations.length} dense layers`);
  return activations.map((activation, index) => {
    const kernel = weights[2 * index].read();
    const bias = weights[2 * index + 1].read();
    return { kernel: Float64Array.from(kernel.dataSync()), bias: Float64Array.from(bias.dataSync()), inputs: kernel.shape[0]!, outputs: kernel.shape[1]!, activation };
  });
}

function apply(layers: Dense[], input: ArrayLike<number>): number[] {
  let h = Array.from(input);
  for (const layer of layers) {
    const out = Array.from(layer.bias);
    for (let i = 0; i < layer.inputs; i++) for (let j = 0; j < layer.outputs; j++) out[j] += h[i] * layer.kernel[i * layer.outputs + j];
    h = layer.activation === 'tanh' ? out.map(Math.tanh) : out;
  }
  return h;
}

function logLikelihood(config: ModelConfig, x: ArrayLike<number>, output: number[]): number {
  let total = 0;
  output.forEach((value, index) => {
    const target = x[index];
    if (config.likelihood === 'bernoulli') {
      // log σ(l) = −log(1 + e^−l), log(1 − σ(l)) = −log(1 + e^l).
      total += target === 1 ? -Math.log1p(Math.exp(-value)) : -Math.log1p(Math.exp(value));
    } else if (config.likelihood === 'gaussian') {
      total += -((target - value) ** 2) / (2 * config.sigma ** 2) - Math.log(config.sigma * Math.sqrt(2 * Math.PI));
    } else {
      total += -Math.abs(target - value) / config.sigma - Math.log(2 * config.sigma);
    }
  });
  return total;
}

function logNormal(value: number, mean: number, variance: number): number {
  return -0.5 * (Math.log(2 * Math.PI * variance) + (value - mean) ** 2 / variance);
}

/** log (1/k) Σ_s p(x, z_s) / q(z_s | x) for each example, by hand in float64. */
function referenceBound(model: Autoencoder, pixels: Float32Array, epsilon: Float32Array, k: number): number[] {
  const encoder = denseLayers(model.encoder, ['tanh', 'linear']);
  const decoder = denseLayers(model.decoder, ['tanh', 'linear']);
  const count = pixels.length / PIXELS;
  return Array.from({ length: count }, (_, example) => {
    const x = pixels.subarray(example * PIXELS, (example + 1) * PIXELS);
    // A cvae sees its label beside the pixels and beside z (concatenated after them).
    const label = model.classes > 0 ? oneHot(example) : [];
    const code = apply(encoder, [...x, ...label]);
    const mean = code.slice(0, LATENT);
    const logVariance = code.slice(LATENT);
    const logWeights = Array.from({ length: k }, (__, sample) => {
      const noise = epsilon.subarray((example * k + sample) * LATENT, (example * k + sample + 1) * LATENT);
      const z = mean.map((mu, j) => mu + Math.exp(0.5 * logVariance[j]) * noise[j]);
      let logPrior = 0;
      let logPosterior = 0;
      z.forEach((value, j) => {
        logPrior += logNormal(value, 0, 1);
        logPosterior += logNormal(value, mean[j], Math.exp(logVariance[j]));
      });
      return logLikelihood(model.config, x, apply(decoder, [...z, ...label])) + logPrior - logPosterior;
    });
    const maximum = Math.max(...logWeights);
    return maximum + Math.log(logWeights.reduce((sum, value) => sum + Math.exp(value - maximum), 0) / k);
  });
}

function data(count: number, seed: number, binary: boolean): Float32Array {
  const random = new Random(seed);
  return Float32Array.from({ length: count * PIXELS }, () => (binary ? (random.next() < 0.4 ? 1 : 0) : random.next()));
}

const cases: { name: string; config: Partial<ModelConfig>; binary: boolean }[] = [
  { name: 'vae, Bernoulli on binary data', config: { kind: 'vae', likelihood: 'bernoulli' }, binary: true },
  { name: 'beta-vae β 4, Gaussian σ 0.3 on grey levels', config: { kind: 'beta-vae', beta: 4, likelihood: 'gaussian', sigma: 0.3 }, binary: false },
  { name: 'vae, Laplace b 0.2 on grey levels', config: { kind: 'vae', likelihood: 'laplace', sigma: 0.2 }, binary: false },
  { name: 'cvae, Bernoulli on binary data, log p(x | y)', config: { kind: 'cvae', likelihood: 'bernoulli' }, binary: true },
];

for (const testCase of cases) {
  test(`IWAE (${testCase.name}): every example's bound matches float64 importance weights on the same ε, however the passes are cut`, async () => {
    await selectBackend('cpu');
    const model = tinyModel(testCase.config, 3);
    const k = 13;
    const pixels = data(7, 5, testCase.binary);
    const epsilon = normals(7 * k * LATENT, 6);
    const expected = referenceBound(model, pixels, epsilon, k);
    // One row a pass; a part of one example's samples a pass (10 + 3); three examples' samples a pass.
    for (const batchSize of [1, 10, 40]) {
      const progress: number[] = [];
      const result = await iwaeBound(model, arraySource(pixels, testCase.binary, model.classes), { k, batchSize, noise: injected(epsilon, k), onProgress: (step) => progress.push(step.samples) });
      result.perExample.forEach((value, example) => {
        assert.ok(Math.abs(value - expected[example]) < 1e-4 * Math.max(1, Math.abs(expected[example])), `batch ${batchSize}, example ${example}: ${value} vs float64 ${expected[example]}`);
      });
      const mean = expected.reduce((sum, value) => sum + value, 0) / expected.length;
      assert.ok(Math.abs(result.bound - mean) < 1e-4 * Math.max(1, Math.abs(mean)), `batch ${batchSize}: mean ${result.bound} vs ${mean}`);
      assert.ok(progress.every((value, index) => index === 0 || value > progress[index - 1]), `progress rises: ${progress}`);
      assert.equal(progress[progress.length - 1], 7 * k, 'progress ends at k samples for every example');
    }
    disposeAutoencoder(model);
  });
}

test('IWAE with k = 1 is the sampled ELBO on the same draws, up to the sampled KL, and equals it in expectation', async () => {
  await selectBackend('cpu');
  const model = tinyModel({ kind: 'vae', likelihood: 'bernoulli' }, 8);
  const count = 3000;
  const pixels = data(count, 9, true);
  const epsilon = normals(count * LATENT, 10);
  const result = await iwaeBound(model, arraySource(pixels, true), { k: 1, batchSize: 500, noise: injected(epsilon, 1) });
  // The model's own sampled ELBO (as training computes it): −rec(x, decode(μ + σ ε)) − KL(q ‖ p), analytic KL.
  const [reconstruction, divergence, mean, logVariance] = tf.tidy(() => {
    const x = tf.tensor4d(pixels, [count, ...SHAPE]);
    const { encoded, output } = forward(model, { x }, { training: false, noise: tf.tensor2d(epsilon, [count, LATENT]) });
    return [reconstructionPerExample(model.config, x, output), gaussianKlPerExample(encoded.mean, encoded.logVariance!), encoded.mean, encoded.logVariance!].map((tensor) => tensor.dataSync());
  });
  const differences: number[] = [];
  for (let example = 0; example < count; example++) {
    const elbo = -reconstruction[example] - divergence[example];
    // log p(z) − log q(z | x) on this draw: the KL's one-sample estimate, with sign.
    let sampled = 0;
    for (let j = 0; j < LATENT; j++) {
      const index = example * LATENT + j;
      const z = mean[index] + Math.exp(0.5 * logVariance[index]) * epsilon[index];
      sampled += logNormal(z, 0, 1) - logNormal(z, mean[index], Math.exp(logVariance[index]));
    }
    const bound = result.perExample[example];
    assert.ok(Math.abs(bound - (-reconstruction[example] + sampled)) < 1e-4 * Math.max(1, Math.abs(bound)), `example ${example}: the same reconstruction term on the same draw`);
    differences.push(bound - elbo);
  }
  const average = differences.reduce((sum, value) => sum + value, 0) / count;
  const spread = Math.sqrt(differences.reduce((sum, value) => sum + (value - average) ** 2, 0) / (count - 1));
  assert.ok(spread > 0.1, `the sampled and analytic KL differ draw by draw (spread ${spread})`);
  assert.ok(Math.abs(average) < 4 * spread / Math.sqrt(count), `mean of L_1 − ELBO ${average.toFixed(4)} is within 4 standard errors (${(spread / Math.sqrt(count)).toFixed(4)}) of 0`);
  disposeAutoencoder(model);
});

test('IWAE on a briefly trained VAE: the bound rises with k (1 < 5 < 50), and L_1 agrees with the evaluate cell\'s ELBO', async () => {
  await selectBackend('wasm');

  const dataset = await generateSprites({ size: 12, count: 1500, seed: 4, testFraction: 0.2 });
  const dataConfig = withDefaults('data', { dataset: 'sprites', size: 12 } as Partial<DataConfig>);
  const model = buildAutoencoder(withDefaults('model', { kind: 'vae', latent: 4, encoder: ['dense 64 relu'] }), { encoder: [parseLayer('dense 64 relu') as LayerSpec], decoder: 'mirror' }, [12, 12, 1], 2);
  const variables = trainableVariables(model);
  const train = withDefaults('train', {});
  const optimizer = new Optimizer(train, variables);
  for (let step = 0; step < 120; step++) {
    const order = permutation(dataset.train.count, 100 + Math.floor(step / 37));
    const indices = order.subarray((step % 37) * 32, (step % 37) * 32 + 32);
    const inputs = batchInputs(dataset.train, indices, dataset.shape, 'none', step, { classes: 0 });
    // Seeds from 1: TF.js draws unseeded noise for seed 0.
    await trainingStep(model, variables, optimizer, inputs, { seed: step + 1, train, lr: 3e-3 });
    inputs.x.dispose();
  }
  optimizer.dispose();
  const source = splitSource(model, dataset.test, dataConfig, 7);
  const bounds = new Map<number, Float64Array>();
  for (const k of [1, 5, 50]) bounds.set(k, (await iwaeBound(model, source, { k, seed: 11 })).perExample);
  const gain = (from: number, to: number) => {
    const differences = Array.from(bounds.get(to)!, (value, example) => value - bounds.get(from)![example]);
    const mean = differences.reduce((sum, value) => sum + value, 0) / differences.length;
    const error = Math.sqrt(differences.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (differences.length - 1) / differences.length);
    return { mean, error };
  };
  for (const [from, to] of [[1, 5], [5, 50]]) {
    const { mean, error } = gain(from, to);
    assert.ok(mean > 4 * error, `L_${to} − L_${from} = ${mean.toFixed(3)} nats, standard error ${error.toFixed(3)}: the bound tightens`);
  }
  const l1 = Array.from(bounds.get(1)!);
  const l1Mean = l1.reduce((sum, value) => sum + value, 0) / l1.length;
  const l1Error = Math.sqrt(l1.reduce((sum, value) => sum + (value - l1Mean) ** 2, 0) / (l1.length - 1) / l1.length);
  const evaluation = await evaluateSplit(model, dataset, dataConfig, 7);
  assert.ok(Math.abs(l1Mean - evaluation.elbo!) < 4 * l1Error, `L_1 ${l1Mean.toFixed(2)} vs evaluate's ELBO ${evaluation.elbo!.toFixed(2)} (standard error ${l1Error.toFixed(3)})`);
  process.stdout.write(`# sprites 12×12, ${dataset.test.count} test images: ELBO ${evaluation.elbo!.toFixed(2)}, L_1 ${l1Mean.toFixed(2)}, L_5 ${mean(bounds.get(5)!).toFixed(2)}, L_50 ${mean(bounds.get(50)!).toFixed(2)} nats\n`);
  disposeAutoencoder(model);
});

function mean(values: Float64Array): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

test('IWAE allocates nothing that outlives it, stops when its signal fires, and says why it refuses', async () => {
  await selectBackend('cpu');
  const model = tinyModel({ kind: 'vae', likelihood: 'bernoulli' }, 12);
  const source = arraySource(data(20, 13, true), true);
  await iwaeBound(model, source, { k: 30, batchSize: 64, seed: 1 });
  const warm = tf.memory().numTensors;
  const again = await iwaeBound(model, source, { k: 30, batchSize: 64, seed: 1 });
  assert.equal(tf.memory().numTensors, warm, 'no tensor outlives a call');
  assert.ok(Number.isFinite(again.bound) && again.standardError > 0);

  // Memory is bounded by the rows of one pass, not by k: 5000 samples an example cost what 1000 do.
  const pair = arraySource(data(2, 17, true), true);
  const peak = async (k: number) => (await tf.profile(async () => { await iwaeBound(model, pair, { k, batchSize: 1000, seed: 2 }); })).peakBytes;
  const [thousand, fiveThousand] = [await peak(1000), await peak(5000)];
  assert.ok(fiveThousand <= thousand, `peak bytes with k = 5000: ${fiveThousand}; with k = 1000: ${thousand}`);
  assert.equal(tf.memory().numTensors, warm);

  const controller = new AbortController();
  let passes = 0;
  await assert.rejects(iwaeBound(model, source, { k: 30, batchSize: 64, signal: controller.signal, onProgress: () => { passes++; controller.abort(); } }), { name: 'AbortError', message: /IWAE/ });
  assert.equal(passes, 1, 'the pass after the signal does not run');
  assert.equal(tf.memory().numTensors, warm, 'a stopped call leaves no tensor behind');

  await assert.rejects(iwaeBound(model, source, { k: 0 }), /k must be a whole number/);
  assert.match(iwaeRefusal(model, { binary: false })!, /grey-level images is an unnormalized loss .*binarize/);
  await assert.rejects(iwaeBound(model, { ...source, binary: false }, { k: 2 }), IwaeRefusedError);
  disposeAutoencoder(model);

  const plain = tinyModel({ kind: 'ae' }, 14);
  assert.match(iwaeRefusal(plain, { binary: true })!, /needs a variational model .*the ae kind has no posterior/);
  disposeAutoencoder(plain);
  const smooth = tinyModel({ kind: 'vae', likelihood: 'smooth-l1' }, 15);
  assert.match(iwaeRefusal(smooth, { binary: true })!, /smooth-l1 is a loss, not a log-density/);
  disposeAutoencoder(smooth);
  const gaussian = tinyModel({ kind: 'vae', likelihood: 'gaussian' }, 16);
  assert.equal(iwaeRefusal(gaussian, { binary: false }), undefined, 'a Gaussian likelihood is a density in nats on any data');
  disposeAutoencoder(gaussian);
});
