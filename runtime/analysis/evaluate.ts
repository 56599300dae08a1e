/** Test-split metrics of a model, and the evaluate cell's table of them. */
import * as tf from '@tensorflow/tfjs-core';
import type { Dataset } from '../data/dataset';
import { exampleSize } from '../data/dataset';
import type { DataConfig, EvaluateConfig, ModelConfig } from '../format/schema';
import type { Autoencoder } from '../model/build';
import { finalSchedule, forward, gaussianKlPerExample, l1PerExample, objective, reconstructionPerExample, toPixels } from '../model/losses';
import type { Evaluation, LossUnits } from '../protocol';
import { range } from '../train/batches';
import { mixSeed } from '../util/random';
import { disposeInputs, exampleInputs, exampleNeeds } from './example-inputs';

export type { Evaluation };

const EVALUATION_BATCH = 500;

/** The metrics one pass of evaluateSplit gives. */
export const LOSS_FAMILY = ['loss', 'reconstruction', 'kl', 'elbo', 'mse', 'psnr'] as const;
export type LossMetric = (typeof LOSS_FAMILY)[number];

export function dataIsBinary(data: DataConfig): boolean {
  return data.binarize !== 'none' || data.dataset === 'sprites';
}

/** Units of the loss: nats where the objective is a true negative log-likelihood (README, `model`: units). */
export function lossUnits(data: DataConfig, model: ModelConfig): LossUnits {
  // A weighted regularizer (sparsity, β ≠ 1, capacity) makes the objective a loss, not an NLL.
  if (model.kind === 'sparse-ae' || (model.kind === 'beta-vae' && (model.beta !== 1 || model.capacity))) return 'loss';
  if (model.likelihood === 'smooth-l1') return 'loss';
  return model.likelihood === 'gaussian' || model.likelihood === 'laplace' || dataIsBinary(data) ? 'nats' : 'loss';
}

/** The fraction of code values within 10% of the code's root-mean-square: sparsity that the scale of z cannot fake. */
export function nearZeroFraction(codes: Float32Array): number {
  let squares = 0;
  for (const value of codes) squares += value * value;
  const threshold = 0.1 * Math.sqrt(squares / Math.max(1, codes.length));
  let near = 0;
  for (const value of codes) if (Math.abs(value) <= threshold) near++;
  return near / Math.max(1, codes.length);
}

/** Test-split metrics, per example; codes are drawn with fixed seeds, corruptions and masks per example (example-inputs.ts), so epochs compare. */
export async function evaluateSplit(model: Autoencoder, dataset: Dataset, data: DataConfig, seed: number): Promise<Evaluation> {
  const split = dataset.test;
  const size = exampleSize(dataset);
  const needs = exampleNeeds(model);
  let reconstruction = 0;
  let kl = 0;
  let l1 = 0;
  let squared = 0;
  let noisySquared = 0;
  let maskedSquared = 0;
  let maskedCount = 0;
  const codes = model.kind === 'sparse-ae' ? new Float32Array(split.count * model.latent) : undefined;
  for (let start = 0; start < split.count; start += EVALUATION_BATCH) {
    const indices = range(start, Math.min(split.count, start + EVALUATION_BATCH));
    const inputs = exampleInputs(split, indices, dataset.shape, data.binarize, seed, needs);
    const [stacked, code] = tf.tidy(() => {
      const { x, mask } = inputs;
      const { input, encoded, output } = forward(model, inputs, { training: false, seed: mixSeed(seed, 78, start) });
      const pixels = toPixels(model, output);
      const rec = tf.sum(reconstructionPerExample(model.config, x, output, model.kind === 'masked-ae' ? mask : undefined));
      const divergence = encoded.logVariance ? tf.sum(gaussianKlPerExample(encoded.mean, encoded.logVariance)) : tf.scalar(0);
      const absolute = model.kind === 'sparse-ae' ? tf.sum(l1PerExample(encoded.z)) : tf.scalar(0);
      const error = tf.sum(tf.squaredDifference(pixels, x));
      const noisy = model.kind === 'denoising-ae' ? tf.sum(tf.squaredDifference(input, x)) : tf.scalar(0);
      const masked = mask ? tf.sum(tf.mul(tf.squaredDifference(pixels, x), mask)) : tf.scalar(0);
      const maskedElements = mask ? tf.mul(tf.sum(mask), x.shape[3]!) : tf.scalar(0);
      return [tf.stack([rec, divergence, absolute, error, noisy, masked, maskedElements]), codes ? encoded.z : undefined] as const;
    });
    const values = await stacked.data();
    if (codes && code) codes.set(await code.data(), start * model.latent);
    tf.dispose([stacked, code].filter((tensor) => tensor !== undefined));
    disposeInputs(inputs);
    reconstruction += values[0];
    kl += values[1];
    l1 += values[2];
    squared += values[3];
    noisySquared += values[4];
    maskedSquared += values[5];
    maskedCount += values[6];
  }
  const count = split.count;
  const mse = squared / (count * size);
  const lossTensor = tf.tidy(() => objective(model.config, tf.scalar(reconstruction / count), tf.scalar(kl / count), tf.scalar(l1 / count), finalSchedule(model.config)));
  const loss = (await lossTensor.data())[0];
  lossTensor.dispose();
  const evaluation: Evaluation = { loss, reconstruction: reconstruction / count, mse, psnr: 10 * Math.log10(1 / Math.max(mse, 1e-12)) };
  // A plain autoencoder has no KL term and no bound on the likelihood: neither is reported as a number.
  if (model.variational) {
    evaluation.kl = kl / count;
    evaluation.elbo = -(reconstruction + kl) / count;
  }
  if (codes) {
    evaluation.l1 = l1 / count;
    evaluation.sparsity = nearZeroFraction(codes);
  }
  if (model.kind === 'denoising-ae') evaluation.noisyMse = noisySquared / (count * size);
  if (model.kind === 'masked-ae') evaluation.maskedMse = maskedSquared / Math.max(1, maskedCount);
  return evaluation;
}

/** The evaluate cell's text: the chosen metrics, one a line, and what the model kind adds. */
export function evaluationTable(evaluation: Evaluation, metrics: EvaluateConfig['metrics'], units: LossUnits, examples: number): string {
  // kl and elbo exist for variational kinds only; asked of another kind, they are left out. The metrics of other rooms are not this table's.
  const lossFamily = metrics.filter((metric): metric is LossMetric => (LOSS_FAMILY as readonly string[]).includes(metric));
  const table = lossFamily.filter((metric) => evaluation[metric] !== undefined).map((metric) => {
    const value = evaluation[metric]!;
    // A KL divergence is in nats whatever the likelihood; the other terms are nats only where the objective is a log-likelihood.
    const unit = metric === 'mse' ? '' : metric === 'psnr' ? ' dB' : metric === 'kl' || units === 'nats' ? ' nats' : '';
    return `${metric.padEnd(15)}${value.toFixed(metric === 'mse' ? 5 : 3)}${unit}`;
  });
  const extras = [
    ...(evaluation.sparsity !== undefined ? [`${'sparsity'.padEnd(15)}${(100 * evaluation.sparsity).toFixed(1)}% of code values within 10% of the code's RMS (mean |z| ${evaluation.l1!.toFixed(4)})`] : []),
    ...(evaluation.noisyMse !== undefined ? [`${'denoising'.padEnd(15)}MSE ${evaluation.mse.toFixed(5)} against the clean input; the corrupted input had ${evaluation.noisyMse.toFixed(5)}`] : []),
    ...(evaluation.maskedMse !== undefined ? [`${'masked mse'.padEnd(15)}${evaluation.maskedMse.toFixed(5)} over the masked pixels only`] : []),
  ];
  const heading = `test split, ${examples} examples, per example${units === 'loss' && table.length > 0 ? ' (the loss is not a log-likelihood here: no nats)' : ''}:`;
  return [heading, ...table, ...extras].join('\n');
}
