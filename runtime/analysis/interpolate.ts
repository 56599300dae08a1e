/**
 * The interpolate cell's strips: decodings along a path between two codes, either two test
 * images' posterior means or, for a cvae, two classes' mean codes with the class condition blended
 * from one class to the other (the decoder of a cvae reads the condition as a vector, so a blend is
 * a point it can decode). Every endpoint is a code the model itself produced.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Dataset, Split } from '../data/dataset';
import type { DataConfig, InterpolateConfig } from '../format/schema';
import { interpolationPath } from '../inference/latent-paths';
import type { Autoencoder } from '../model/build';
import { decode, toPixels } from '../model/losses';
import { batchPixels } from '../train/batches';
import type { ImageBatch } from '../train/images';
import type { EncodedSplit } from './latent-codes';
import { decodeLatents, decodeRefusal, encodeSplit } from './latent-codes';

/** A picture for a cell, or the reason the model cannot make it. */
export type CellPicture = { refusal: string } | { images: ImageBatch; columns: number; rows: string[]; note: string };

/** A problem with the cell's configuration against the loaded data, at a key path of the cell. */
export interface CellProblem {
  path: (string | number)[];
  message: string;
}

export function interpolationMode(config: InterpolateConfig, model: Pick<Autoencoder, 'classes'>): 'images' | 'classes' {
  return config.between ?? (model.classes > 0 ? 'classes' : 'images');
}

/** The pairs a strip is drawn for: test image indices, or class numbers. */
export function interpolationPairs(config: InterpolateConfig, mode: 'images' | 'classes', testCount: number, classCount: number): [number, number][] {
  if (Array.isArray(config.pairs)) return config.pairs;
  if (mode === 'classes') {
    const count = Math.min(config.pairs, classCount);
    return Array.from({ length: count }, (_, index) => [index, (index + 1) % classCount] as [number, number]);
  }
  const count = Math.min(config.pairs, Math.floor(testCount / 2));
  return Array.from({ length: count }, (_, index) => [2 * index, 2 * index + 1] as [number, number]);
}

/** Explicit pairs that name a test image or a class the data does not have; checked before training. */
export function interpolationProblems(config: InterpolateConfig, mode: 'images' | 'classes', testCount: number, classCount: number): CellProblem[] {
  const problems: CellProblem[] = [];
  if (!Array.isArray(config.pairs)) {
    if (mode === 'images' && testCount < 2) problems.push({ path: ['pairs'], message: `the interpolate cell needs 2 test images, and the test split has ${testCount}` });
    if (mode === 'classes' && classCount < 2) problems.push({ path: ['pairs'], message: `interpolating between classes needs 2 classes, and the dataset has ${classCount}` });
    return problems;
  }
  config.pairs.forEach((pair, row) => pair.forEach((value, column) => {
    if (mode === 'images' && value >= testCount) problems.push({ path: ['pairs', row, column], message: `test image ${value} does not exist: the test split has ${testCount} images (0–${testCount - 1})` });
    if (mode === 'classes' && value >= classCount) problems.push({ path: ['pairs', row, column], message: `class ${value} does not exist: the dataset has ${classCount} classes (0–${classCount - 1})` });
  }));
  return problems;
}

/** Posterior means (and labels) of chosen examples of a split, encoded as encodeSplit encodes a split. */
export async function encodeExamples(model: Autoencoder, dataset: Dataset, data: DataConfig, split: Split, indices: readonly number[], seed: number): Promise<EncodedSplit> {
  const size = dataset.shape[0] * dataset.shape[1] * dataset.shape[2];
  const images = new Uint8Array(indices.length * size);
  indices.forEach((index, row) => images.set(split.images.subarray(index * size, (index + 1) * size), row * size));
  const chosen: Split = { images, labels: Uint8Array.from(indices, (index) => split.labels[index]), count: indices.length };
  return encodeSplit(model, { ...dataset, test: chosen }, data, { split: 'test', seed });
}

/**
 * Decodes latent rows; a cvae with one condition vector per row ([rows, classes], a one-hot or a
 * blend of two), which decodeLatents' whole labels cannot say.
 */
export async function decodeConditioned(model: Autoencoder, z: Float32Array, rows: number, condition?: Float32Array): Promise<Float32Array> {
  if (model.classes === 0) return decodeLatents(model, z, rows);
  const pixels = tf.tidy(() => toPixels(model, decode(model, tf.tensor2d(z, [rows, model.latent]), { training: false, labels: tf.tensor2d(condition!, [rows, model.classes]) })));
  const values = (await pixels.data()) as Float32Array;
  pixels.dispose();
  return values;
}

function oneHotBlend(from: number, to: number, t: number, out: Float32Array, offset: number): void {
  out[offset + from] += 1 - t;
  out[offset + to] += t;
}

/** Each class's mean posterior mean over the test split, [classes, latent]; a class without test images is left at 0. */
async function classMeans(model: Autoencoder, dataset: Dataset, data: DataConfig, seed: number): Promise<Float32Array> {
  const encoded = await encodeSplit(model, dataset, data, { split: 'test', seed });
  const sums = new Float64Array(model.classes * model.latent);
  const counts = new Float64Array(model.classes);
  for (let row = 0; row < encoded.count; row++) {
    const label = encoded.labels[row];
    counts[label]++;
    for (let dimension = 0; dimension < model.latent; dimension++) sums[label * model.latent + dimension] += encoded.means[row * model.latent + dimension];
  }
  return Float32Array.from(sums, (sum, index) => sum / Math.max(1, counts[Math.floor(index / model.latent)]));
}

/**
 * One strip per pair: for images, the first test image, `steps` decodings from its code to the
 * other's (both endpoints included), then the second test image; for classes, the decodings alone.
 */
export async function interpolationStrips(model: Autoencoder, dataset: Dataset, data: DataConfig, config: InterpolateConfig, seed: number): Promise<CellPicture> {
  const refusal = decodeRefusal(model);
  if (refusal) return { refusal };
  const mode = interpolationMode(config, model);
  const pairs = interpolationPairs(config, mode, dataset.test.count, dataset.classes.length);
  const { latent } = model;
  const [height, width, channels] = dataset.shape;
  const size = height * width * channels;
  const { steps } = config;
  let endpoints: Float32Array;
  let labels: ArrayLike<number>;
  let indices: number[] = [];
  if (mode === 'images') {
    indices = [...new Set(pairs.flat())];
    const encoded = await encodeExamples(model, dataset, data, dataset.test, indices, seed);
    endpoints = encoded.means;
    labels = encoded.labels;
  } else {
    endpoints = await classMeans(model, dataset, data, seed);
    labels = Array.from({ length: model.classes }, (_, index) => index);
  }
  const slot = (value: number) => (mode === 'images' ? indices.indexOf(value) : value);
  const z = new Float32Array(pairs.length * steps * latent);
  const condition = model.classes > 0 ? new Float32Array(pairs.length * steps * model.classes) : undefined;
  pairs.forEach(([from, to], row) => {
    const a = slot(from);
    const b = slot(to);
    z.set(interpolationPath(endpoints.subarray(a * latent, (a + 1) * latent), endpoints.subarray(b * latent, (b + 1) * latent), steps, config.method), row * steps * latent);
    if (condition) for (let step = 0; step < steps; step++) oneHotBlend(labels[a], labels[b], step / (steps - 1), condition, (row * steps + step) * model.classes);
  });
  const decoded = await decodeConditioned(model, z, pairs.length * steps, condition);
  const columns = mode === 'images' ? steps + 2 : steps;
  const pixels = new Float32Array(pairs.length * columns * size);
  pairs.forEach(([from, to], row) => {
    const start = row * columns * size;
    if (mode === 'images') {
      pixels.set(batchPixels(dataset.test, [from], size, data.binarize === 'static' ? 'static' : 'none', seed), start);
      pixels.set(decoded.subarray(row * steps * size, (row + 1) * steps * size), start + size);
      pixels.set(batchPixels(dataset.test, [to], size, data.binarize === 'static' ? 'static' : 'none', seed), start + (steps + 1) * size);
    } else pixels.set(decoded.subarray(row * steps * size, (row + 1) * steps * size), start);
  });
  const className = (label: number) => dataset.classes[label] ?? String(label);
  const rows = pairs.map(([from, to]) => (mode === 'images'
    ? `test ${from} (${className(labels[slot(from)])}) → test ${to} (${className(labels[slot(to)])})`
    : `class ${from} (${className(from)}) → class ${to} (${className(to)})`));
  const path = config.method === 'slerp' ? 'slerp (along the great circle)' : 'lerp (a straight line)';
  const note = mode === 'images'
    ? `${path} between the ${model.variational ? 'posterior means' : 'codes'} of ${pairs.length} pairs of test images, ${steps} decodings each; every row: the first test image, the decodings from its code to the other's, the second test image${model.classes > 0 ? '; the class condition blends from one label to the other' : ''}`
    : `${path} between the mean codes of two classes' test images, ${steps} decodings each, the class condition blended from the first class to the second`;
  return { images: { pixels, count: pairs.length * columns, height, width, channels }, columns, rows, note };
}
