/**
 * k-nearest-neighbour classification of the latent codes, as scikit-learn's
 * `KNeighborsClassifier(n_neighbors=k, metric=…, weights='uniform')` on the features as they are (no
 * standardization: the distances of the latent space itself). Each test row takes the majority label of its k
 * nearest training rows; a tied vote goes to the smallest label (scipy's mode, which scikit-learn uses), and
 * neighbours at equal computed distances are taken in training-row order. Raw uint8 pixels may be passed as they
 * are: a common scale changes no ranking.
 *
 * Distances are computed block by block (a few queries against a few hundred training rows at a time, so the
 * block stays in cache) and only the k best per query are kept: 10k test × 60k train latents need no
 * 10k × 60k matrix. Euclidean distances come from ‖a‖² + ‖b‖² − 2a·b, as scikit-learn's brute force computes
 * them: exact to rounding at the scale of the latents' norms.
 */
import type { Features, LabelledFeatures } from './features';
import { AnalysisError, accuracyOf, checkFeatures, checkLabelled, classesOf } from './features';

/** `euclidean`: ‖a − b‖₂. `cosine`: 1 − a·b / (‖a‖‖b‖), with a zero vector at distance 1 from everything. */
export type KnnMetric = 'euclidean' | 'cosine';

export interface KnnOptions {
  k: number;
  metric: KnnMetric;
}

export const KNN_DEFAULTS: Readonly<KnnOptions> = { k: 5, metric: 'euclidean' };

export interface Neighbours {
  k: number;
  /** queries × k training-row indices, nearest first. */
  indices: Int32Array;
  /** queries × k distances in the metric, ascending. */
  distances: Float64Array;
}

export interface KnnResult {
  /** Fraction of the test rows classified correctly. */
  accuracy: number;
  k: number;
  metric: KnnMetric;
  trainCount: number;
  testCount: number;
  /** One line for the person reading the metric: k, the distance and the data. */
  description: string;
}

const QUERY_BLOCK = 32;
const REFERENCE_BLOCK = 256;

function checkOptions(options: KnnOptions, referenceCount: number): void {
  if (!Number.isInteger(options.k) || options.k < 1) throw new AnalysisError(`kNN: k must be a positive integer, not ${options.k}`);
  if (options.k > referenceCount) throw new AnalysisError(`kNN: k = ${options.k} neighbours asked of only ${referenceCount} training rows`);
  if (options.metric !== 'euclidean' && options.metric !== 'cosine') throw new AnalysisError(`kNN: metric must be 'euclidean' or 'cosine', not '${String(options.metric)}'`);
}

/** Rows scaled to unit length (zero rows stay zero), so that cosine distance is one minus a dot product. */
function unitRows(features: Features): Float64Array {
  const { values, count, dimension } = features;
  const result = Float64Array.from(values);
  for (let row = 0; row < count; row++) {
    let squares = 0;
    for (let feature = 0; feature < dimension; feature++) squares += result[row * dimension + feature] ** 2;
    const norm = Math.sqrt(squares);
    if (norm > 0) for (let feature = 0; feature < dimension; feature++) result[row * dimension + feature] /= norm;
  }
  return result;
}

function rowSquares(values: Float64Array, count: number, dimension: number): Float64Array {
  const result = new Float64Array(count);
  for (let row = 0; row < count; row++) {
    let total = 0;
    for (let feature = 0; feature < dimension; feature++) total += values[row * dimension + feature] ** 2;
    result[row] = total;
  }
  return result;
}

/**
 * Dot products of query rows [queryStart, queryEnd) with reference rows [referenceStart, referenceEnd), into
 * `block` row by row. Four queries against two references at a time: each value loaded serves several
 * products, which makes this about three times faster than one pair at a time (10k × 60k × 32 in seconds).
 */
function blockDots(left: Float64Array, right: Float64Array, dimension: number, queryStart: number, queryEnd: number, referenceStart: number, referenceEnd: number, block: Float64Array): void {
  const width = referenceEnd - referenceStart;
  let query = queryStart;
  for (; query + 4 <= queryEnd; query += 4) {
    const first = query * dimension;
    const second = first + dimension;
    const third = second + dimension;
    const fourth = third + dimension;
    const row = (query - queryStart) * width;
    let other = referenceStart;
    for (; other + 2 <= referenceEnd; other += 2) {
      const near = other * dimension;
      const far = near + dimension;
      let a0 = 0, b0 = 0, c0 = 0, d0 = 0, a1 = 0, b1 = 0, c1 = 0, d1 = 0;
      for (let feature = 0; feature < dimension; feature++) {
        const r0 = right[near + feature];
        const r1 = right[far + feature];
        const q0 = left[first + feature];
        const q1 = left[second + feature];
        const q2 = left[third + feature];
        const q3 = left[fourth + feature];
        a0 += q0 * r0;
        b0 += q1 * r0;
        c0 += q2 * r0;
        d0 += q3 * r0;
        a1 += q0 * r1;
        b1 += q1 * r1;
        c1 += q2 * r1;
        d1 += q3 * r1;
      }
      const column = other - referenceStart;
      block[row + column] = a0;
      block[row + width + column] = b0;
      block[row + 2 * width + column] = c0;
      block[row + 3 * width + column] = d0;
      block[row + column + 1] = a1;
      block[row + width + column + 1] = b1;
      block[row + 2 * width + column + 1] = c1;
      block[row + 3 * width + column + 1] = d1;
    }
    for (; other < referenceEnd; other++) {
      for (let lane = 0; lane < 4; lane++) block[row + lane * width + other - referenceStart] = dotRows(left, (query + lane) * dimension, right, other * dimension, dimension);
    }
  }
  for (; query < queryEnd; query++) {
    const row = (query - queryStart) * width;
    for (let other = referenceStart; other < referenceEnd; other++) block[row + other - referenceStart] = dotRows(left, query * dimension, right, other * dimension, dimension);
  }
}

function dotRows(left: Float64Array, leftOffset: number, right: Float64Array, rightOffset: number, dimension: number): number {
  let total = 0;
  for (let feature = 0; feature < dimension; feature++) total += left[leftOffset + feature] * right[rightOffset + feature];
  return total;
}

/** The k nearest reference rows of every query row. */
export function nearestNeighbours(reference: Features, queries: Features, options: Partial<KnnOptions> = {}): Neighbours {
  const settings: KnnOptions = { ...KNN_DEFAULTS, ...options };
  checkFeatures(reference, 'kNN training set');
  checkFeatures(queries, 'kNN queries');
  checkOptions(settings, reference.count);
  if (reference.dimension !== queries.dimension) throw new AnalysisError(`kNN: the queries have ${queries.dimension} features, the training set ${reference.dimension}`);
  const { k, metric } = settings;
  const { dimension } = reference;
  const cosine = metric === 'cosine';
  const left = cosine ? unitRows(queries) : Float64Array.from(queries.values);
  const right = cosine ? unitRows(reference) : Float64Array.from(reference.values);
  const leftSquares = cosine ? undefined : rowSquares(left, queries.count, dimension);
  const rightSquares = cosine ? undefined : rowSquares(right, reference.count, dimension);
  // Kept as squared distances (euclidean) or negated similarities (cosine): both order like the distance.
  const best = new Float64Array(queries.count * k).fill(Infinity);
  const indices = new Int32Array(queries.count * k).fill(-1);
  const block = new Float64Array(QUERY_BLOCK * REFERENCE_BLOCK);
  for (let queryStart = 0; queryStart < queries.count; queryStart += QUERY_BLOCK) {
    const queryEnd = Math.min(queries.count, queryStart + QUERY_BLOCK);
    for (let referenceStart = 0; referenceStart < reference.count; referenceStart += REFERENCE_BLOCK) {
      const referenceEnd = Math.min(reference.count, referenceStart + REFERENCE_BLOCK);
      const width = referenceEnd - referenceStart;
      blockDots(left, right, dimension, queryStart, queryEnd, referenceStart, referenceEnd, block);
      for (let query = queryStart; query < queryEnd; query++) {
        const row = (query - queryStart) * width;
        for (let other = referenceStart; other < referenceEnd; other++) {
          const dot = block[row + other - referenceStart];
          block[row + other - referenceStart] = leftSquares && rightSquares ? Math.max(0, leftSquares[query] + rightSquares[other] - 2 * dot) : -dot;
        }
      }
      for (let query = queryStart; query < queryEnd; query++) {
        const row = (query - queryStart) * width;
        const offset = query * k;
        for (let other = 0; other < width; other++) {
          const distance = block[row + other];
          // Strictly nearer than the k-th: an equal distance keeps the earlier training row.
          if (!(distance < best[offset + k - 1])) continue;
          let position = k - 1;
          while (position > 0 && best[offset + position - 1] > distance) {
            best[offset + position] = best[offset + position - 1];
            indices[offset + position] = indices[offset + position - 1];
            position--;
          }
          best[offset + position] = distance;
          indices[offset + position] = referenceStart + other;
        }
      }
    }
  }
  const distances = best.map((value) => (cosine ? Math.min(2, Math.max(0, 1 + value)) : Math.sqrt(value)));
  return { k, indices, distances };
}

/** Majority labels of the k nearest training rows, and the vote shares (rows × classes, in `classes` order). */
export function knnClassify(train: LabelledFeatures, queries: Features, options: Partial<KnnOptions> = {}): { classes: number[]; predictions: Float64Array; probabilities: Float64Array } {
  checkLabelled(train, 'kNN training set');
  const classes = classesOf(train.labels);
  const classIndex = new Map(classes.map((label, index) => [label, index]));
  const { k, indices } = nearestNeighbours(train, queries, options);
  const classCount = classes.length;
  const probabilities = new Float64Array(queries.count * classCount);
  const predictions = new Float64Array(queries.count);
  for (let query = 0; query < queries.count; query++) {
    const votes = query * classCount;
    for (let neighbour = 0; neighbour < k; neighbour++) probabilities[votes + classIndex.get(train.labels[indices[query * k + neighbour]])!] += 1;
    let winner = 0;
    for (let label = 1; label < classCount; label++) if (probabilities[votes + label] > probabilities[votes + winner]) winner = label;
    predictions[query] = classes[winner];
    for (let label = 0; label < classCount; label++) probabilities[votes + label] /= k;
  }
  return { classes, predictions, probabilities };
}

/** kNN accuracy on `test` with `train` as the neighbours (the train split's latents against the test split's). */
export function knnAccuracy(train: LabelledFeatures, test: LabelledFeatures, options: Partial<KnnOptions> = {}): KnnResult {
  const settings: KnnOptions = { ...KNN_DEFAULTS, ...options };
  checkLabelled(test, 'kNN test set');
  const { predictions } = knnClassify(train, test, settings);
  return {
    accuracy: accuracyOf(predictions, test.labels),
    k: settings.k,
    metric: settings.metric,
    trainCount: train.count,
    testCount: test.count,
    description: `kNN: majority of the ${settings.k} nearest of ${train.count} training rows by ${settings.metric} distance on ${train.dimension} unstandardized features, scored on ${test.count}`,
  };
}
