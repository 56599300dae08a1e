/** In-memory datasets: images stay uint8 (N × H × W × C) and become floats one batch at a time. */
import { permutation } from '../util/random';

// The generator moved to util/random.ts; these names stay importable from here for the data readers.
export { Random, mixSeed, permutation } from '../util/random';
export interface Split {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

export interface Dataset {
  name: string;
  /** [height, width, channels] */
  shape: [number, number, number];
  classes: string[];
  train: Split;
  test: Split;
  /** One line for the person: where it came from and what was used. */
  description: string;
  /** Ground-truth generative factors per example, when known (sprites). */
  factors?: { names: string[]; train: Float32Array; test: Float32Array };
}

export class DatasetError extends Error {
  override name = 'DatasetError';
}

/**
 * Every label names one of the classes: a label past them would become an all-zero one-hot
 * vector, and a conditional model would train on it without a word.
 */
export function checkLabels(labels: Uint8Array, classes: number, where: string): void {
  for (let index = 0; index < labels.length; index++) {
    if (labels[index] >= classes) throw new DatasetError(`${where}: example ${index} has label ${labels[index]}; the dataset has ${classes} classes (labels 0–${classes - 1})`);
  }
}

export function exampleSize(dataset: Pick<Dataset, 'shape'>): number {
  return dataset.shape[0] * dataset.shape[1] * dataset.shape[2];
}

export function limitSplit(split: Split, size: number, limit: number | undefined): Split {
  if (limit === undefined || limit >= split.count) return split;
  return { images: split.images.subarray(0, limit * size), labels: split.labels.subarray(0, limit), count: limit };
}

/** Splits one array of examples into train and test by a seeded permutation. */
export function splitExamples(images: Uint8Array, labels: Uint8Array, size: number, testFraction: number, seed: number): { train: Split; test: Split; trainIndices: Uint32Array; testIndices: Uint32Array } {
  const count = labels.length;
  const order = permutation(count, seed);
  const testCount = Math.max(1, Math.min(count - 1, Math.round(count * testFraction)));
  const take = (indices: Uint32Array): Split => {
    const out = new Uint8Array(indices.length * size);
    const outLabels = new Uint8Array(indices.length);
    indices.forEach((source, target) => {
      out.set(images.subarray(source * size, (source + 1) * size), target * size);
      outLabels[target] = labels[source];
    });
    return { images: out, labels: outLabels, count: indices.length };
  };
  const testIndices = order.subarray(0, testCount);
  const trainIndices = order.subarray(testCount);
  return { test: take(testIndices), train: take(trainIndices), trainIndices, testIndices };
}
