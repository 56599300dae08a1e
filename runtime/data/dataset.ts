/** In-memory datasets: images stay uint8 (N × H × W × C) and become floats one batch at a time. */
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

/** Deterministic pseudo-random numbers (mulberry32); its whole state is one 32-bit integer. */
export class Random {
  constructor(public state: number) {
    this.state = state >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(limit: number): number {
    return Math.floor(this.next() * limit);
  }
}

export function permutation(count: number, seed: number): Uint32Array {
  const order = new Uint32Array(count);
  for (let index = 0; index < count; index++) order[index] = index;
  const random = new Random(seed);
  for (let index = count - 1; index > 0; index--) {
    const other = random.int(index + 1);
    const swap = order[index];
    order[index] = order[other];
    order[other] = swap;
  }
  return order;
}

/** Mixes integers into one 32-bit seed (for per-epoch and per-step streams). */
export function mixSeed(...parts: number[]): number {
  let hash = 0x811c9dc5;
  for (const part of parts) {
    hash ^= part >>> 0;
    hash = Math.imul(hash, 0x01000193) >>> 0;
    hash ^= hash >>> 13;
  }
  return hash >>> 0;
}
