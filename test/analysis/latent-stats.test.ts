/**
 * Per-dimension KL, active units and the collapse warning against a direct float64 computation
 * (two passes over fixed encoder outputs, written from the formulas), and against the model's own
 * KL term as the evaluate cell reports it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { evaluateSplit } from '../../runtime/analysis/evaluate';
import { splitSource } from '../../runtime/analysis/iwae';
import { ACTIVE_THRESHOLD, LatentAccumulator, latentStatistics, latentStatisticsOf } from '../../runtime/analysis/latent-stats';
import { selectBackend } from '../../runtime/backends/select';
import type { Dataset } from '../../runtime/data/dataset';
import { parseLayer } from '../../runtime/format/layers';
import type { LayerSpec } from '../../runtime/format/layers';
import type { DataConfig, ModelConfig } from '../../runtime/format/schema';
import { withDefaults } from '../../runtime/format/validate';
import { buildAutoencoder, disposeAutoencoder } from '../../runtime/model/build';
import { encode, gaussianKlPerExample } from '../../runtime/model/losses';
import { Random } from '../../runtime/util/random';

/** KL per dimension and the variance of μ over examples, two passes in float64. */
function reference(means: ArrayLike<number>, logVariances: ArrayLike<number>, latent: number): { kl: number[]; variance: number[] } {
  const count = means.length / latent;
  const kl: number[] = [];
  const variance: number[] = [];
  for (let j = 0; j < latent; j++) {
    let mean = 0;
    let divergence = 0;
    for (let row = 0; row < count; row++) {
      const mu = means[row * latent + j];
      const logVariance = logVariances[row * latent + j];
      mean += mu / count;
      // KL(N(μ, σ²) ‖ N(0, 1)) = log(1/σ) + (σ² + μ²)/2 − 1/2.
      divergence += (-0.5 * logVariance + (Math.exp(logVariance) + mu * mu) / 2 - 0.5) / count;
    }
    let squares = 0;
    for (let row = 0; row < count; row++) squares += (means[row * latent + j] - mean) ** 2;
    kl.push(divergence);
    variance.push(squares / count);
  }
  return { kl, variance };
}

function close(actual: number, expected: number, relative: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= relative * Math.max(1e-12, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
}

/** Fixed encoder outputs whose μ spreads are chosen per dimension: around, above and below the threshold. */
const SPREADS = [1, 0.3, 0.09, 0.11, 0, 0.05];
const COUNT = 2000;

function fixedOutputs(): { means: Float32Array; logVariances: Float32Array } {
  const random = new Random(21);
  const latent = SPREADS.length;
  const means = new Float32Array(COUNT * latent);
  const logVariances = new Float32Array(COUNT * latent);
  for (let row = 0; row < COUNT; row++) {
    SPREADS.forEach((spread, j) => {
      // ±spread on alternate rows, jittered: the variance lands near spread².
      means[row * latent + j] = 0.4 * j - 1 + spread * (row % 2 === 0 ? 1 : -1) * (1 + 0.02 * (random.next() - 0.5));
      logVariances[row * latent + j] = -3 + 3 * random.next();
    });
  }
  return { means, logVariances };
}

test('per-dimension KL and Cov_x(E_q[z|x]) of fixed encoder outputs match float64, in one batch or many, and the KLs add up to the model\'s KL term', async () => {
  await selectBackend('cpu');
  const latent = SPREADS.length;
  const { means, logVariances } = fixedOutputs();
  const expected = reference(means, logVariances, latent);
  const whole = latentStatisticsOf(means, logVariances, latent);
  const pieces = new LatentAccumulator(latent);
  for (const [start, end] of [[0, 1], [1, 8], [8, 1500], [1500, COUNT]]) pieces.add(means.subarray(start * latent, end * latent), logVariances.subarray(start * latent, end * latent));
  for (const statistics of [whole, pieces.result()]) {
    assert.equal(statistics.examples, COUNT);
    for (let j = 0; j < latent; j++) {
      close(statistics.klPerDimension[j], expected.kl[j], 1e-12, `KL of dimension ${j}`);
      if (expected.variance[j] === 0) assert.ok(statistics.meanVariance[j] < 1e-20, `dimension ${j} is constant: ${statistics.meanVariance[j]}`);
      else close(statistics.meanVariance[j], expected.variance[j], 1e-9, `Var(μ) of dimension ${j}`);
    }
    assert.deepEqual(statistics.active, expected.variance.map((variance) => variance > ACTIVE_THRESHOLD));
    // Spreads 1, 0.3 and 0.11 are above √0.01; 0.09, 0 and 0.05 are below.
    assert.deepEqual(statistics.active, [true, true, false, true, false, false]);
    assert.equal(statistics.activeUnits, 3);
    assert.equal(statistics.collapse, undefined, 'half the dimensions active: no collapse');
    close(statistics.kl, expected.kl.reduce((sum, value) => sum + value, 0), 1e-12, 'the KLs add up');
  }
  const modelTerm = tf.tidy(() => tf.mean(gaussianKlPerExample(tf.tensor2d(means, [COUNT, latent]), tf.tensor2d(logVariances, [COUNT, latent]))).dataSync()[0]);
  close(whole.kl, modelTerm, 1e-5, 'the sum of the per-dimension KLs vs the model\'s KL term (float32)');
});

test('the collapse warning comes when most dimensions are inactive, and only then', () => {
  const latent = 4;
  const codes = (activeDimensions: number) => {
    const means = new Float32Array(100 * latent);
    for (let row = 0; row < 100; row++) for (let j = 0; j < activeDimensions; j++) means[row * latent + j] = row % 2 === 0 ? 1 : -1;
    return latentStatisticsOf(means, new Float32Array(100 * latent), latent);
  };
  const collapsed = codes(1);
  assert.equal(collapsed.activeUnits, 1);
  assert.match(collapsed.collapse!, /posterior collapse: 3 of 4 latent dimensions are inactive/);
  assert.equal(codes(2).collapse, undefined, '2 of 4 inactive is not most');
  assert.match(codes(0).collapse!, /4 of 4/);
});

function smallDataset(count: number, seed: number): Dataset {
  const random = new Random(seed);
  const images = Uint8Array.from({ length: count * 9 }, () => Math.floor(random.next() * 256));
  const labels = Uint8Array.from({ length: count }, () => random.int(2));
  const split = { images, labels, count };
  return { name: 'fixed', shape: [3, 3, 1], classes: ['a', 'b'], train: split, test: split, description: 'fixed test examples' };
}

for (const kind of ['vae', 'cvae'] as const) {
  test(`latent statistics of a ${kind}: the streamed batches match float64 over its encoder outputs, the KL is the evaluate cell's, nothing leaks`, async () => {
    await selectBackend('cpu');
    const latent = 3;
    const dataset = smallDataset(301, 5);
    const data = withDefaults('data', { dataset: 'mnist' } as Partial<DataConfig>);
    const model = buildAutoencoder(withDefaults('model', { kind, latent, encoder: ['dense 8 tanh'] } as Partial<ModelConfig>), { encoder: [parseLayer('dense 8 tanh') as LayerSpec], decoder: 'mirror' }, [3, 3, 1], 4, { classes: 2 });
    const source = splitSource(model, dataset.test, data, 1);
    const [means, logVariances] = tf.tidy(() => {
      const inputs = source.inputs(0, source.count);
      const encoded = encode(model, inputs.x, { training: false, sample: false, labels: inputs.labels });
      return [encoded.mean.dataSync(), encoded.logVariance!.dataSync()];
    });
    const expected = reference(means, logVariances, latent);
    await latentStatistics(model, source, { batchSize: 64 });
    const warm = tf.memory().numTensors;
    for (const batchSize of [7, 500]) {
      const progress: number[] = [];
      const statistics = await latentStatistics(model, source, { batchSize, onProgress: (examples) => progress.push(examples) });
      assert.equal(tf.memory().numTensors, warm, `batch ${batchSize}: no tensor outlives the call`);
      assert.equal(progress[progress.length - 1], 301);
      for (let j = 0; j < latent; j++) {
        close(statistics.klPerDimension[j], expected.kl[j], 1e-9, `batch ${batchSize}, KL of dimension ${j}`);
        close(statistics.meanVariance[j], expected.variance[j], 1e-9, `batch ${batchSize}, Var(μ) of dimension ${j}`);
      }
      const evaluation = await evaluateSplit(model, dataset, data, 1);
      close(statistics.kl, evaluation.kl!, 1e-5, 'the per-dimension KLs add up to the evaluate cell\'s KL');
    }
    const controller = new AbortController();
    let passes = 0;
    await assert.rejects(latentStatistics(model, source, { batchSize: 10, signal: controller.signal, onProgress: () => { passes++; controller.abort(); } }), { name: 'AbortError' });
    assert.equal(passes, 1, 'the pass after the signal does not run');
    assert.equal(tf.memory().numTensors, warm, 'a stopped call leaves no tensor behind');
    disposeAutoencoder(model);
  });
}

test('latent statistics refuse a kind without a posterior, naming it', async () => {
  await selectBackend('cpu');
  const model = buildAutoencoder(withDefaults('model', { kind: 'ae', latent: 2, encoder: ['dense 4 relu'] }), { encoder: [parseLayer('dense 4 relu') as LayerSpec], decoder: 'mirror' }, [3, 3, 1], 1);
  const source = splitSource(model, smallDataset(4, 1).test, { dataset: 'mnist', binarize: 'none' }, 1);
  await assert.rejects(latentStatistics(model, source), /need a variational model .*the ae kind has no posterior/);
  disposeAutoencoder(model);
});
