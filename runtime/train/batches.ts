/** uint8 examples → float32 batches in [0, 1], optionally binarized. */
import * as tf from '@tensorflow/tfjs-core';
import type { Split } from '../data/dataset';
import { Random } from '../data/dataset';

export type Binarize = 'none' | 'static' | 'dynamic';

export function batchPixels(split: Split, indices: ArrayLike<number>, exampleSize: number, binarize: Binarize, seed: number): Float32Array {
  const out = new Float32Array(indices.length * exampleSize);
  const random = binarize === 'dynamic' ? new Random(seed) : undefined;
  for (let row = 0; row < indices.length; row++) {
    const source = split.images.subarray(indices[row] * exampleSize, (indices[row] + 1) * exampleSize);
    const base = row * exampleSize;
    if (binarize === 'none') for (let index = 0; index < exampleSize; index++) out[base + index] = source[index] / 255;
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
