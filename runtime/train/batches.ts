/** uint8 examples → float32 batches in [0, 1], optionally binarized. */
import * as tf from '@tensorflow/tfjs-core';
import type { Split } from '../data/dataset';
import { Random } from '../data/dataset';

export type Binarize = 'none' | 'static' | 'dynamic';

/** v / 255 for every byte, as a float32: the same values as dividing, for a lookup per pixel. */
const UNIT_LEVELS = Float32Array.from({ length: 256 }, (_, level) => level / 255);

export function batchPixels(split: Split, indices: ArrayLike<number>, exampleSize: number, binarize: Binarize, seed: number): Float32Array {
  const out = new Float32Array(indices.length * exampleSize);
  const random = binarize === 'dynamic' ? new Random(seed) : undefined;
  for (let row = 0; row < indices.length; row++) {
    const source = split.images.subarray(indices[row] * exampleSize, (indices[row] + 1) * exampleSize);
    const base = row * exampleSize;
    if (binarize === 'none') for (let index = 0; index < exampleSize; index++) out[base + index] = UNIT_LEVELS[source[index]];
    else if (binarize === 'static') for (let index = 0; index < exampleSize; index++) out[base + index] = source[index] > 127 ? 1 : 0;
    else for (let index = 0; index < exampleSize; index++) out[base + index] = random!.next() * 255 < source[index] ? 1 : 0;
  }
  return out;
}

export function batchTensor(split: Split, indices: ArrayLike<number>, shape: [number, number, number], binarize: Binarize, seed: number): tf.Tensor4D {
  const size = shape[0] * shape[1] * shape[2];
  return tf.tensor4d(batchPixels(split, indices, size, binarize, seed), [indices.length, ...shape]);
}

export function range(start: number, end: number): Uint32Array {
  const out = new Uint32Array(Math.max(0, end - start));
  for (let index = 0; index < out.length; index++) out[index] = start + index;
  return out;
}

/**
 * masked-ae: for each example, exactly round(ratio · patches) patches chosen at random are masked
 * (1) and the rest visible (0), as in He et al.; [n, h, w, 1].
 */
export function patchMask(count: number, height: number, width: number, patch: number, ratio: number, seed: number): Float32Array {
  const rows = height / patch;
  const columns = width / patch;
  const patches = rows * columns;
  const masked = Math.max(1, Math.min(patches - 1, Math.round(ratio * patches)));
  const out = new Float32Array(count * height * width);
  const random = new Random(seed);
  const order = new Uint32Array(patches);
  for (let example = 0; example < count; example++) {
    for (let index = 0; index < patches; index++) order[index] = index;
    // A partial Fisher–Yates shuffle: the first `masked` entries are a uniform random subset.
    for (let index = 0; index < masked; index++) {
      const other = index + random.int(patches - index);
      const swap = order[index];
      order[index] = order[other];
      order[other] = swap;
    }
    for (let index = 0; index < masked; index++) {
      const top = Math.floor(order[index] / columns) * patch;
      const left = (order[index] % columns) * patch;
      for (let y = 0; y < patch; y++) out.fill(1, example * height * width + (top + y) * width + left, example * height * width + (top + y) * width + left + patch);
    }
  }
  return out;
}

export interface BatchNeeds {
  /** cvae: number of classes for one-hot labels; 0 for none. */
  classes: number;
  /** masked-ae: patch size and ratio. */
  mask?: { patch: number; ratio: number };
}

/** The tensors one step needs: images, and the labels or masks its model kind uses. */
export function batchInputs(split: Split, indices: ArrayLike<number>, shape: [number, number, number], binarize: Binarize, seed: number, needs: BatchNeeds): { x: tf.Tensor4D; labels?: tf.Tensor2D; mask?: tf.Tensor4D } {
  const x = batchTensor(split, indices, shape, binarize, seed);
  const labels = needs.classes > 0 ? tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(Array.from(indices, (index) => split.labels[index]), 'int32'), needs.classes), 'float32') as tf.Tensor2D) : undefined;
  const mask = needs.mask ? tf.tensor4d(patchMask(indices.length, shape[0], shape[1], needs.mask.patch, needs.mask.ratio, (seed ^ 0x6d2b79f5) >>> 0), [indices.length, shape[0], shape[1], 1]) : undefined;
  return { x, labels, mask };
}
