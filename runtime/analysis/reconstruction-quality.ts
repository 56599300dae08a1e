/**
 * SSIM of a model's reconstructions of a split: each test image against the decoding of its
 * posterior mean (a denoising model's of its corrupted input, against the clean one), in [0, 1]
 * pixels, by ssim.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Dataset } from '../data/dataset';
import type { DataConfig } from '../format/schema';
import type { Autoencoder } from '../model/build';
import { forward, toPixels } from '../model/losses';
import { range } from '../train/batches';
import { disposeInputs, exampleInputs, exampleNeeds } from './example-inputs';
import { SSIM_DEFAULTS, ssimPerImage } from './ssim';

export interface SsimOfSplit {
  mean: number;
  /** Standard deviation over the images. */
  std: number;
  examples: number;
}

export async function ssimOfSplit(model: Autoencoder, dataset: Dataset, data: DataConfig, seed: number, options: { batchSize?: number; signal?: AbortSignal } = {}): Promise<SsimOfSplit> {
  const split = dataset.test;
  const [height, width, channels] = dataset.shape;
  const batchSize = options.batchSize ?? 500;
  const needs = exampleNeeds(model);
  let sum = 0;
  let squares = 0;
  for (let start = 0; start < split.count; start += batchSize) {
    if (options.signal?.aborted) throw Object.assign(new Error('SSIM stopped'), { name: 'AbortError' });
    const indices = range(start, Math.min(split.count, start + batchSize));
    // The same inputs, corruptions and masks as the loss metrics draw (evaluate.ts): each example's own.
    const inputs = exampleInputs(split, indices, dataset.shape, data.binarize, seed, needs);
    const pixels = tf.tidy(() => toPixels(model, forward(model, inputs, { training: false, sample: false }).output));
    const [clean, reconstructed] = await Promise.all([inputs.x.data(), pixels.data()]);
    pixels.dispose();
    disposeInputs(inputs);
    for (const value of ssimPerImage(clean, reconstructed, { height, width, channels }, SSIM_DEFAULTS)) {
      sum += value;
      squares += value * value;
    }
  }
  const mean = sum / split.count;
  return { mean, std: Math.sqrt(Math.max(0, squares / split.count - mean * mean)), examples: split.count };
}
