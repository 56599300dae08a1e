/** The image grids' pixels: test reconstructions, and decoded samples from the prior. */
import * as tf from '@tensorflow/tfjs-core';
import type { Dataset } from '../data/dataset';
import type { DataConfig } from '../format/schema';
import type { Autoencoder } from '../model/build';
import { decode, forward, toPixels } from '../model/losses';
import { batchInputs, range } from '../train/batches';
import type { ImageBatch } from '../train/images';
import { batchNeeds } from '../train/step';
import { mixSeed } from '../util/random';

/** Rows of test images for the reconstruction grid: input (corrupted or masked, where the kind has one) and output. */
export async function reconstructionImages(model: Autoencoder, dataset: Dataset, data: DataConfig, count: number, seed: number): Promise<ImageBatch[]> {
  const n = Math.min(count, dataset.test.count);
  const [height, width, channels] = dataset.shape;
  const batch = (pixels: Float32Array): ImageBatch => ({ pixels, count: n, height, width, channels });
  const inputs = batchInputs(dataset.test, range(0, n), dataset.shape, data.binarize, mixSeed(seed, 91), batchNeeds(model));
  const tensors = tf.tidy(() => {
    const { input, output } = forward(model, inputs, { training: false, sample: false, seed: mixSeed(seed, 92) });
    const result: tf.Tensor[] = [tf.clone(inputs.x)];
    if (model.kind === 'denoising-ae') result.push(input);
    // Masked patches are shown mid-grey, whatever value the learned token has.
    if (model.kind === 'masked-ae') result.push(tf.add(tf.mul(inputs.x, tf.sub(1, inputs.mask!)), tf.mul(inputs.mask!, 0.5)));
    result.push(toPixels(model, output));
    return result;
  });
  tf.dispose([inputs.x, inputs.labels, inputs.mask].filter((tensor) => tensor !== undefined));
  return Promise.all(tensors.map(async (tensor) => {
    const pixels = (await tensor.data()) as Float32Array;
    tensor.dispose();
    return batch(pixels);
  }));
}

/** Decodes z ~ N(0, T²I). A cvae gets one row per class: `columns` samples of each label. */
export async function sampleImages(model: Autoencoder, count: number, temperature: number, seed: number, columns = 8): Promise<{ images: ImageBatch; columns: number }> {
  const [height, width, channels] = model.inputShape;
  const perClass = model.classes > 0 ? Math.max(1, Math.floor(count / model.classes)) : 0;
  const total = model.classes > 0 ? perClass * model.classes : count;
  const decoded = tf.tidy(() => {
    const z = tf.mul(tf.randomNormal([total, model.latent], 0, 1, 'float32', seed), temperature) as tf.Tensor2D;
    const labels = model.classes > 0 ? (tf.cast(tf.oneHot(tf.tensor1d(Array.from({ length: total }, (_, index) => Math.floor(index / perClass)), 'int32'), model.classes), 'float32') as tf.Tensor2D) : undefined;
    return toPixels(model, decode(model, z, { training: false, labels }));
  });
  const pixels = (await decoded.data()) as Float32Array;
  decoded.dispose();
  return { images: { pixels, count: total, height, width, channels }, columns: model.classes > 0 ? perClass : columns };
}
