/**
 * A trained model's codes: encode a split into posterior means (and log-variances, labels and each
 * example's loss terms), and decode latent vectors back to pixels. What the CLI's `encode` and
 * `decode`, the explore cell, the metrics that read latents, and the inference worker all start
 * from, so each reads the model the same way.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Dataset, Split } from '../data/dataset';
import type { DataConfig } from '../format/schema';
import type { Autoencoder } from '../model/build';
import { decode, finalSchedule, forward, gaussianKlPerExample, l1PerExample, objective, reconstructionPerExample, toPixels } from '../model/losses';
import { range } from '../train/batches';
import { disposeInputs, exampleInputs, exampleNeeds } from './example-inputs';

export type SplitName = 'train' | 'test' | 'all';

export interface EncodedSplit {
  split: SplitName;
  count: number;
  latent: number;
  /** [count, latent]: the posterior means (the code itself for deterministic kinds). */
  means: Float32Array;
  /** Variational kinds: [count, latent]. */
  logVariances?: Float32Array;
  labels: Uint8Array;
  /** Each example's objective, reconstruction term and (variational kinds) KL, in the run's units. */
  loss: Float32Array;
  reconstruction: Float32Array;
  kl?: Float32Array;
}

export interface EncodeOptions {
  split: SplitName;
  /** The first example encoded (default 0). */
  first?: number;
  /** At most this many examples (from `first` on; `all` is train then test). */
  limit?: number;
  seed: number;
  batchSize?: number;
  signal?: AbortSignal;
  /** Examples done so far, of `total`. */
  onProgress?: (done: number, total: number) => void;
}

const DEFAULT_BATCH = 500;

/** The examples of a split name, in order: `all` is the train split followed by the test split. */
export function splitOf(dataset: Dataset, name: SplitName): Split {
  if (name === 'train') return dataset.train;
  if (name === 'test') return dataset.test;
  const images = new Uint8Array(dataset.train.images.length + dataset.test.images.length);
  images.set(dataset.train.images);
  images.set(dataset.test.images, dataset.train.images.length);
  const labels = new Uint8Array(dataset.train.count + dataset.test.count);
  labels.set(dataset.train.labels);
  labels.set(dataset.test.labels, dataset.train.count);
  return { images, labels, count: labels.length };
}

/**
 * Encodes a split batch by batch. The corruption or mask a denoising or masked model sees is drawn
 * per example from the seed (example-inputs.ts), as evaluation draws it; means are of the
 * encoder's posterior (no sample).
 */
export async function encodeSplit(model: Autoencoder, dataset: Dataset, data: DataConfig, options: EncodeOptions): Promise<EncodedSplit> {
  const split = splitOf(dataset, options.split);
  const first = options.first ?? 0;
  const count = Math.max(0, Math.min(split.count - first, options.limit ?? split.count));
  const latent = model.latent;
  const batchSize = options.batchSize ?? DEFAULT_BATCH;
  const result: EncodedSplit = {
    split: options.split,
    count,
    latent,
    means: new Float32Array(count * latent),
    ...(model.variational ? { logVariances: new Float32Array(count * latent), kl: new Float32Array(count) } : {}),
    labels: split.labels.slice(first, first + count),
    loss: new Float32Array(count),
    reconstruction: new Float32Array(count),
  };
  const needs = exampleNeeds(model);
  for (let start = 0; start < count; start += batchSize) {
    if (options.signal?.aborted) throw Object.assign(new Error('encoding stopped'), { name: 'AbortError' });
    const indices = range(first + start, first + Math.min(count, start + batchSize));
    const inputs = exampleInputs(split, indices, dataset.shape, data.binarize, options.seed, needs);
    const outputs = tf.tidy(() => {
      const { encoded, output } = forward(model, inputs, { training: false, sample: false });
      const reconstruction = reconstructionPerExample(model.config, inputs.x, output, model.kind === 'masked-ae' ? inputs.mask : undefined);
      const kl = encoded.logVariance ? gaussianKlPerExample(encoded.mean, encoded.logVariance) : (tf.zeros([indices.length]) as tf.Tensor1D);
      const l1 = model.kind === 'sparse-ae' ? l1PerExample(encoded.z) : (tf.zeros([indices.length]) as tf.Tensor1D);
      const loss = objective(model.config, reconstruction, kl, l1, finalSchedule(model.config));
      return [encoded.mean, encoded.logVariance ?? tf.zeros([0]), loss, reconstruction, kl];
    });
    disposeInputs(inputs);
    const [means, logVariances, loss, reconstruction, kl] = await Promise.all(outputs.map((tensor) => tensor.data() as Promise<Float32Array>));
    tf.dispose(outputs);
    result.means.set(means, start * latent);
    result.logVariances?.set(logVariances, start * latent);
    result.loss.set(loss, start);
    result.reconstruction.set(reconstruction, start);
    result.kl?.set(kl, start);
    options.onProgress?.(start + indices.length, count);
  }
  return result;
}

/** Why a model cannot decode a free latent point, or undefined when it can. */
export function decodeRefusal(model: Autoencoder): string | undefined {
  if (model.skipCount > 0) return `this ${model.kind} has U-Net skips: its decoder needs the encoder's features of an input image, so a free latent point cannot be decoded`;
  return undefined;
}

/**
 * Decodes rows of latent vectors ([rows, latent], row-major) to pixels in [0, 1] ([rows, h, w, c]).
 * A cvae needs one class per row.
 */
export async function decodeLatents(model: Autoencoder, z: Float32Array, rows: number, labels?: ArrayLike<number>): Promise<Float32Array> {
  const refusal = decodeRefusal(model);
  if (refusal) throw new Error(refusal);
  if (z.length !== rows * model.latent) throw new Error(`${rows} latent vectors of ${model.latent} values need ${rows * model.latent} numbers, not ${z.length}`);
  if (model.classes > 0) {
    if (!labels || labels.length !== rows) throw new Error(`this cvae decodes a class with each latent vector: give one label (0–${model.classes - 1}) per vector`);
    for (let index = 0; index < rows; index++) {
      const label = labels[index];
      if (!Number.isInteger(label) || label < 0 || label >= model.classes) throw new Error(`label ${label} of vector ${index + 1}: this cvae has classes 0–${model.classes - 1}`);
    }
  }
  const pixels = tf.tidy(() => {
    const codes = tf.tensor2d(z, [rows, model.latent]);
    const oneHot = model.classes > 0 ? (tf.cast(tf.oneHot(tf.tensor1d(Array.from(labels!), 'int32'), model.classes), 'float32') as tf.Tensor2D) : undefined;
    return toPixels(model, decode(model, codes, { training: false, labels: oneHot }));
  });
  const values = (await pixels.data()) as Float32Array;
  pixels.dispose();
  return values;
}
