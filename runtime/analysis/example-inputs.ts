/**
 * The inputs evaluation feeds a model, drawn per example: example i's dynamic binarization, patch
 * mask and denoising corruption come from seeds of its own index in its split, so they are the same
 * whichever batch it falls in, whatever the batch size, and when it is encoded alone. The loss
 * metrics, SSIM, the codes the explorer scatters and the example it shows on hover therefore all
 * see the same input for the same example. (Training draws per step: it wants new draws.)
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Split } from '../data/dataset';
import type { BatchNeeds, Binarize } from '../train/batches';
import { batchPixels, patchMask } from '../train/batches';
import { batchNeeds } from '../train/step';
import type { Autoencoder } from '../model/build';
import type { ModelConfig } from '../format/schema';
import type { ForwardInputs } from '../model/losses';
import { Random, mixSeed } from '../util/random';

/** What a model kind draws for an example besides its pixels. */
export interface ExampleNeeds extends BatchNeeds {
  /** denoising-ae: its corruption, drawn here rather than by the forward pass. */
  corruption?: Pick<ModelConfig, 'corruption' | 'noise'>;
}

export function exampleNeeds(model: Autoencoder): ExampleNeeds {
  return { ...batchNeeds(model), ...(model.kind === 'denoising-ae' ? { corruption: model.config } : {}) };
}

export function exampleSeeds(seed: number, index: number): { binarize: number; mask: number; corruption: number } {
  return { binarize: mixSeed(seed, 79, index), mask: mixSeed(seed, 81, index), corruption: mixSeed(seed, 80, index) };
}

/** One example's corrupted pixels: the same rule as the training corruption (losses.ts `corrupt`), from its own draws. */
export function corruptExample(clean: Float32Array, config: Pick<ModelConfig, 'corruption' | 'noise'>, seed: number): Float32Array {
  const random = new Random(seed);
  const out = new Float32Array(clean.length);
  for (let index = 0; index < clean.length; index++) {
    if (config.corruption === 'gaussian') {
      // Box–Muller: a standard normal from two uniforms (1 − u keeps the logarithm finite).
      const normal = Math.sqrt(-2 * Math.log(1 - random.next())) * Math.cos(2 * Math.PI * random.next());
      out[index] = Math.min(1, Math.max(0, clean[index] + config.noise * normal));
    } else {
      const uniform = random.next();
      if (config.corruption === 'mask') out[index] = uniform >= config.noise ? clean[index] : 0;
      else out[index] = uniform < config.noise / 2 ? 0 : uniform >= 1 - config.noise / 2 ? 1 : clean[index];
    }
  }
  return out;
}

/** Examples `indices` of a split as a model's inputs, each drawn from its own index. The caller disposes them (disposeInputs). */
export function exampleInputs(split: Split, indices: ArrayLike<number>, shape: [number, number, number], binarize: Binarize, seed: number, needs: ExampleNeeds): ForwardInputs {
  const [height, width] = shape;
  const size = shape[0] * shape[1] * shape[2];
  const pixels = new Float32Array(indices.length * size);
  const masks = needs.mask ? new Float32Array(indices.length * height * width) : undefined;
  const corrupted = needs.corruption ? new Float32Array(indices.length * size) : undefined;
  for (let row = 0; row < indices.length; row++) {
    const seeds = exampleSeeds(seed, indices[row]);
    const clean = batchPixels(split, [indices[row]], size, binarize, seeds.binarize);
    pixels.set(clean, row * size);
    if (masks && needs.mask) masks.set(patchMask(1, height, width, needs.mask.patch, needs.mask.ratio, seeds.mask), row * height * width);
    if (corrupted && needs.corruption) corrupted.set(corruptExample(clean, needs.corruption, seeds.corruption), row * size);
  }
  const labels = needs.classes > 0 ? tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(Array.from(indices, (index) => split.labels[index]), 'int32'), needs.classes), 'float32') as tf.Tensor2D) : undefined;
  return {
    x: tf.tensor4d(pixels, [indices.length, ...shape]),
    ...(labels ? { labels } : {}),
    ...(masks ? { mask: tf.tensor4d(masks, [indices.length, height, width, 1]) } : {}),
    ...(corrupted ? { corrupted: tf.tensor4d(corrupted, [indices.length, ...shape]) } : {}),
  };
}

export function disposeInputs(inputs: ForwardInputs): void {
  tf.dispose([inputs.x, inputs.labels, inputs.mask, inputs.corrupted].filter((tensor) => tensor !== undefined));
}
