/**
 * Each model kind, trained briefly on real (MNIST from ../shared/data) or procedural data,
 * with a check that its own loss terms do what the kind is for.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../runtime/backends/select';
import type { Split } from '../../runtime/data/dataset';
import { loadDataset } from '../../runtime/data/index';
import { loadRunModel, runExperiment, sampleImages } from '../../runtime/engine';
import type { DataConfig } from '../../runtime/format/schema';
import { withDefaults } from '../../runtime/format/validate';
import { disposeAutoencoder } from '../../runtime/model/build';
import { corrupt, regularizerSchedule } from '../../runtime/model/losses';
import { patchMask } from '../../runtime/train/batches';
import { sharedData, skipMessage } from '../helpers/shared';
import { temporaryDirectory } from '../helpers/temp';

const mnist = sharedData('mnist');
const dataDir = mnist ? path.dirname(mnist) : '';
const skipMnist = !mnist && skipMessage('mnist');

function experiment(data: string, model: string, train: string): string {
  return `---\nseed: 5\n---\n\`\`\`data\n${data}\n\`\`\`\n\`\`\`model\n${model}\n\`\`\`\n\`\`\`train\n${train}\nlog_every: 1000\n\`\`\`\n`;
}

async function train(name: string, text: string) {
  const directory = temporaryDirectory();
  return runExperiment({ file: path.join(directory, `${name}.aexp`), text, dataDir, outDir: path.join(directory, 'runs') });
}

const MNIST_SMALL = 'dataset: mnist\nbatch: 64\ntrain_limit: 6000\ntest_limit: 1000';

test('sparse-ae: the fraction of near-zero code values (relative to the code\'s scale) rises with the L1 weight', { skip: skipMnist }, async () => {
  const sparsity: number[] = [];
  for (const weight of [0, 30]) {
    const result = await train('sparse', experiment(MNIST_SMALL, `kind: sparse-ae\nlatent: 64\nencoder: [dense 256 relu]\ncode_activation: relu\nsparsity: ${weight}`, 'epochs: 2\noptimizer: adamw\nweight_decay: 0.01\nlr: 2e-3'));
    assert.equal(result.status, 'completed');
    sparsity.push(result.summary.test!.sparsity!);
    process.stdout.write(`# sparse-ae λ ${weight}: ${(100 * result.summary.test!.sparsity!).toFixed(1)}% near zero, mean |z| ${result.summary.test!.l1!.toFixed(4)}, reconstruction ${result.summary.test!.reconstruction.toFixed(1)}\n`);
  }
  assert.ok(sparsity[1] > sparsity[0] + 0.2, `near-zero fraction ${sparsity[0].toFixed(3)} at λ 0 vs ${sparsity[1].toFixed(3)} at λ 30`);
});

test('denoising-ae: reconstructs the clean input better than the corrupted input is', { skip: skipMnist }, async () => {
  for (const [corruption, noise] of [['gaussian', 0.4], ['salt-and-pepper', 0.2]] as const) {
    const result = await train('denoising', experiment(MNIST_SMALL, `kind: denoising-ae\nlatent: 32\nencoder: [dense 256 relu]\ncorruption: ${corruption}\nnoise: ${noise}`, 'epochs: 2\nlr: 2e-3'));
    const { mse, noisyMse } = result.summary.test!;
    process.stdout.write(`# denoising-ae ${corruption} ${noise}: output MSE ${mse!.toFixed(4)} vs corrupted input ${noisyMse!.toFixed(4)}\n`);
    assert.ok(mse! < 0.5 * noisyMse!, `${corruption}: output MSE ${mse} vs corrupted ${noisyMse}`);
  }
});

test('denoising corruptions have the documented statistics', async () => {
  await selectBackend('cpu');
  const x = tf.fill([4, 28, 28, 1], 0.5);
  const config = withDefaults('model', { kind: 'denoising-ae', latent: 2, encoder: ['dense 4'] });
  const fraction = (corruption: 'salt-and-pepper' | 'mask', value: number) => tf.tidy(() => tf.mean(tf.cast(tf.equal(corrupt(x, { ...config, corruption, noise: 0.3 }, 9), value), 'float32')).dataSync()[0]);
  assert.ok(Math.abs(fraction('salt-and-pepper', 1) - 0.15) < 0.03, 'salt: p/2');
  assert.ok(Math.abs(fraction('salt-and-pepper', 0) - 0.15) < 0.03, 'pepper: p/2');
  assert.ok(Math.abs(fraction('mask', 0) - 0.3) < 0.03, 'mask: p');
  const gaussian = tf.tidy(() => tf.moments(tf.sub(corrupt(x, { ...config, corruption: 'gaussian', noise: 0.1 }, 9), x)).variance.dataSync()[0]);
  assert.ok(Math.abs(Math.sqrt(gaussian) - 0.1) < 0.01, `gaussian σ ${Math.sqrt(gaussian)}`);
  x.dispose();
});

test('masked-ae: masks exactly round(ratio · patches) patches and learns to fill them in', { skip: skipMnist }, async () => {
  const mask = patchMask(3, 28, 28, 4, 0.75, 1);
  for (let example = 0; example < 3; example++) {
    const masked = mask.subarray(example * 784, (example + 1) * 784).reduce((sum, value) => sum + value, 0);
    assert.equal(masked, Math.round(0.75 * 49) * 16);
  }
  const result = await train('masked', experiment(MNIST_SMALL, 'kind: masked-ae\nlatent: 32\nencoder: [dense 400 relu]\nmask_ratio: 0.5\npatch: 4', 'epochs: 3\nlr: 2e-3'));
  const dataset = await loadDataset({ ...withDefaults('data', { dataset: 'mnist' }), test_limit: 1000 } as DataConfig, { dataDir, baseDir: '.', seed: 5 });
  const baseline = meanImageMse(dataset.train, dataset.test, 784);
  process.stdout.write(`# masked-ae: masked-pixel MSE ${result.summary.test!.maskedMse!.toFixed(4)}, mean-image predictor ${baseline.toFixed(4)}\n`);
  assert.ok(result.summary.test!.maskedMse! < 0.8 * baseline, `masked MSE ${result.summary.test!.maskedMse} vs the mean image's ${baseline}`);
});

test('beta-vae: a larger β buys a smaller KL; warm-up and capacity follow their schedules', async () => {
  const config = withDefaults('model', { kind: 'beta-vae', latent: 4, encoder: ['dense 8'], beta: 4, kl_warmup: 2 });
  assert.equal(regularizerSchedule(config, 0, 10).klWeight, 4 * (1 / 20));
  assert.equal(regularizerSchedule(config, 9, 10).klWeight, 2);
  assert.equal(regularizerSchedule(config, 500, 10).klWeight, 4);
  const annealed = withDefaults('model', { kind: 'beta-vae', latent: 4, encoder: ['dense 8'], capacity: { max: 20, epochs: 4, gamma: 100 } });
  assert.equal(regularizerSchedule(annealed, 19, 10).capacity, 10);
  assert.equal(regularizerSchedule(annealed, 1000, 10).capacity, 20);

  const sprites = 'dataset: sprites\nsize: 28\ncount: 3000\nbatch: 64';
  const kl: number[] = [];
  for (const beta of [1, 8]) {
    const result = await train('beta', experiment(sprites, `kind: beta-vae\nlatent: 6\nencoder: [dense 256 relu]\nbeta: ${beta}`, 'epochs: 3\nlr: 2e-3'));
    kl.push(result.summary.test!.kl!);
    process.stdout.write(`# beta-vae β ${beta}: KL ${result.summary.test!.kl!.toFixed(2)} nats, reconstruction ${result.summary.test!.reconstruction.toFixed(2)}\n`);
  }
  assert.ok(kl[1] < 0.7 * kl[0], `KL ${kl[0]} at β 1 vs ${kl[1]} at β 8`);
});

test('cvae: per-class samples are classified as their class by a nearest-centroid probe far more often than chance', { skip: skipMnist }, async () => {
  const result = await train('cvae', experiment('dataset: mnist\nbatch: 64\ntrain_limit: 12000\ntest_limit: 1000', 'kind: cvae\nlatent: 8\nencoder: [dense 400 relu]', 'epochs: 3\nlr: 2e-3'));
  assert.equal(result.status, 'completed');
  const { model, config } = await loadRunModel(result.runDir);
  const dataset = await loadDataset(config.data, { dataDir, baseDir: '.', seed: config.seed });
  // The probe: one mean image per class from the training split.
  const centroids = Array.from({ length: 10 }, () => new Float64Array(784));
  const counts = new Array<number>(10).fill(0);
  for (let index = 0; index < dataset.train.count; index++) {
    const label = dataset.train.labels[index];
    counts[label]++;
    for (let pixel = 0; pixel < 784; pixel++) centroids[label][pixel] += dataset.train.images[index * 784 + pixel] / 255;
  }
  centroids.forEach((centroid, label) => centroid.forEach((value, pixel) => (centroid[pixel] = value / counts[label])));
  const { images, columns } = await sampleImages(model, 200, 1, 123);
  assert.equal(columns, 20, 'one row of 20 samples per class');
  let correct = 0;
  for (let sample = 0; sample < images.count; sample++) {
    const pixels = images.pixels.subarray(sample * 784, (sample + 1) * 784);
    let best = -1;
    let bestDistance = Infinity;
    centroids.forEach((centroid, label) => {
      let distance = 0;
      for (let pixel = 0; pixel < 784; pixel++) distance += (pixels[pixel] - centroid[pixel]) ** 2;
      if (distance < bestDistance) {
        bestDistance = distance;
        best = label;
      }
    });
    if (best === Math.floor(sample / columns)) correct++;
  }
  disposeAutoencoder(model);
  const accuracy = correct / images.count;
  process.stdout.write(`# cvae: ${(100 * accuracy).toFixed(1)}% of per-class samples classified as their class (chance 10%)\n`);
  assert.ok(accuracy > 0.5, `probe accuracy ${accuracy}`);
});

test('ae: U-Net skips reach a lower reconstruction error than the same network without them', { skip: skipMnist }, async () => {
  const mse: number[] = [];
  for (const skips of [false, true]) {
    const result = await train('unet', experiment('dataset: mnist\nbatch: 32\ntrain_limit: 3000\ntest_limit: 500', `kind: ae\nlatent: 2\nencoder: [conv 16 k3 s2 relu, conv 32 k3 s2 relu]\nupsample: bilinear\nskips: ${skips}`, 'epochs: 1\nlr: 2e-3'));
    mse.push(result.summary.test!.mse!);
  }
  process.stdout.write(`# ae 2-d code: MSE ${mse[0].toFixed(4)} without skips, ${mse[1].toFixed(4)} with U-Net skips\n`);
  assert.ok(mse[1] < 0.6 * mse[0], `MSE ${mse[1]} with skips vs ${mse[0]} without`);
});

function meanImageMse(train: Split, test: Split, size: number): number {
  const mean = new Float64Array(size);
  for (let index = 0; index < train.count * size; index++) mean[index % size] += train.images[index] / 255 / train.count;
  let total = 0;
  for (let index = 0; index < test.count * size; index++) total += (test.images[index] / 255 - mean[index % size]) ** 2;
  return total / (test.count * size);
}
