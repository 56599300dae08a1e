/** The image grids' pixels: test reconstructions, and decoded samples from the prior. */
import * as tf from '@tensorflow/tfjs-core';
import type { Dataset } from '../data/dataset';
import type { DataConfig } from '../format/schema';
import type { Autoencoder } from '../model/build';
import { decode, finalSchedule, forward, gaussianKlPerExample, l1PerExample, objective, reconstructionPerExample, toPixels } from '../model/losses';
import { batchInputs, range } from '../train/batches';
import type { ImageBatch } from '../train/images';
import { batchNeeds } from '../train/step';
import { mixSeed } from '../util/random';

/** Each image's loss terms, float32, in the run's units. */
export interface ExampleLosses {
  /** The objective with the regularizer's final weights (what the test loss reports). */
  loss: Float32Array;
  /** The reconstruction term (masked pixels only, for masked-ae). */
  reconstruction: Float32Array;
  /** Variational kinds: the KL. */
  kl?: Float32Array;
}

/** Rows of test images for the reconstruction grid: input (corrupted or masked, where the kind has one) and output. */
export async function reconstructionImages(model: Autoencoder, dataset: Dataset, data: DataConfig, count: number, seed: number): Promise<ImageBatch[]> {
  return (await reconstructionViews(model, dataset, data, count, seed)).rows;
}

/**
 * The grid's rows, the mask (masked-ae, [n, h, w, 1]) and each image's loss terms from the same
 * forward pass. The inputs, corruptions and masks are drawn from `seed` alone, so every epoch
 * shows the same ones; variational kinds decode μ (no posterior sample), as the grid shows.
 */
export async function reconstructionViews(model: Autoencoder, dataset: Dataset, data: DataConfig, count: number, seed: number): Promise<{ rows: ImageBatch[]; mask?: Float32Array; losses: ExampleLosses }> {
  const n = Math.min(count, dataset.test.count);
  const [height, width, channels] = dataset.shape;
  const batch = (pixels: Float32Array): ImageBatch => ({ pixels, count: n, height, width, channels });
  const inputs = batchInputs(dataset.test, range(0, n), dataset.shape, data.binarize, mixSeed(seed, 91), batchNeeds(model));
  const { rows, losses } = tf.tidy(() => {
    const { input, encoded, output } = forward(model, inputs, { training: false, sample: false, seed: mixSeed(seed, 92) });
    const result: tf.Tensor[] = [tf.clone(inputs.x)];
    if (model.kind === 'denoising-ae') result.push(input);
    // Masked patches are shown mid-grey, whatever value the learned token has.
    if (model.kind === 'masked-ae') result.push(tf.add(tf.mul(inputs.x, tf.sub(1, inputs.mask!)), tf.mul(inputs.mask!, 0.5)));
    result.push(toPixels(model, output));
    // The model's own per-example terms, combined as the test loss combines their means.
    const reconstruction = reconstructionPerExample(model.config, inputs.x, output, model.kind === 'masked-ae' ? inputs.mask : undefined);
    const kl = encoded.logVariance ? gaussianKlPerExample(encoded.mean, encoded.logVariance) : (tf.zeros([n]) as tf.Tensor1D);
    const l1 = model.kind === 'sparse-ae' ? l1PerExample(encoded.z) : (tf.zeros([n]) as tf.Tensor1D);
    const loss = objective(model.config, reconstruction, kl, l1, finalSchedule(model.config));
    return { rows: result, losses: [loss, reconstruction, kl] };
  });
  const mask = inputs.mask ? ((await inputs.mask.data()) as Float32Array) : undefined;
  tf.dispose([inputs.x, inputs.labels, inputs.mask].filter((tensor) => tensor !== undefined));
  const read = async (tensor: tf.Tensor): Promise<Float32Array> => {
    const values = (await tensor.data()) as Float32Array;
    tensor.dispose();
    return values;
  };
  const pixels = await Promise.all(rows.map(read));
  const [loss, reconstruction, kl] = await Promise.all(losses.map(read));
  return { rows: pixels.map(batch), ...(mask ? { mask } : {}), losses: { loss, reconstruction, ...(model.variational ? { kl } : {}) } };
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
