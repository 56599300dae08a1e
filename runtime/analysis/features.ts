/**
 * Feature matrices for the representation-quality classifiers (linear probe, kNN, few labels): the checks that
 * turn bad input into one clear message, class lists, scikit-learn's StandardScaler, and labelled subsets.
 */

/** `count` rows of `dimension` values, row by row (latent means, or an image's pixels). */
export interface Features {
  values: ArrayLike<number>;
  count: number;
  dimension: number;
}

/** Features with one integer class label per row. */
export interface LabelledFeatures extends Features {
  labels: ArrayLike<number>;
}

export class AnalysisError extends Error {
  override name = 'AnalysisError';
}

/** Checks the shape and that every value is finite: a NaN latent would otherwise turn into a silently wrong accuracy. */
export function checkFeatures(features: Features, name: string): void {
  const { values, count, dimension } = features;
  if (!Number.isInteger(count) || count < 1) throw new AnalysisError(`${name}: count must be a positive integer, not ${count}`);
  if (!Number.isInteger(dimension) || dimension < 1) throw new AnalysisError(`${name}: dimension must be a positive integer, not ${dimension}`);
  if (values.length !== count * dimension) throw new AnalysisError(`${name}: ${values.length} values are not ${count} rows × ${dimension} features (${count * dimension})`);
  for (let index = 0; index < values.length; index++) {
    if (!Number.isFinite(values[index])) {
      throw new AnalysisError(`${name}: row ${Math.floor(index / dimension)}, feature ${index % dimension} is ${values[index]}; every feature must be a finite number`);
    }
  }
}

export function checkLabelled(set: LabelledFeatures, name: string): void {
  checkFeatures(set, name);
  if (set.labels.length !== set.count) throw new AnalysisError(`${name}: ${set.labels.length} labels for ${set.count} rows`);
  for (let row = 0; row < set.count; row++) {
    if (!Number.isInteger(set.labels[row])) throw new AnalysisError(`${name}: row ${row} has label ${set.labels[row]}; labels must be integers`);
  }
}

/** The distinct labels, ascending (scikit-learn's `classes_`). */
export function classesOf(labels: ArrayLike<number>): number[] {
  return [...new Set(Array.from(labels))].sort((first, second) => first - second);
}

/** Per-feature mean and scale, as scikit-learn's StandardScaler fits them. */
export interface Standardizer {
  mean: Float64Array;
  /** Population standard deviation; 1 for features that are constant (within rounding). */
  scale: Float64Array;
}

export function fitStandardizer(features: Features): Standardizer {
  const { values, count, dimension } = features;
  const mean = new Float64Array(dimension);
  const scale = new Float64Array(dimension);
  for (let row = 0; row < count; row++) for (let feature = 0; feature < dimension; feature++) mean[feature] += values[row * dimension + feature];
  for (let feature = 0; feature < dimension; feature++) mean[feature] /= count;
  const squares = new Float64Array(dimension);
  const sums = new Float64Array(dimension);
  for (let row = 0; row < count; row++) {
    for (let feature = 0; feature < dimension; feature++) {
      const difference = values[row * dimension + feature] - mean[feature];
      squares[feature] += difference * difference;
      sums[feature] += difference;
    }
  }
  const epsilon = Number.EPSILON;
  for (let feature = 0; feature < dimension; feature++) {
    // The corrected two-pass variance, and scikit-learn's test for a feature indistinguishable from a constant.
    const variance = (squares[feature] - (sums[feature] * sums[feature]) / count) / count;
    const constant = variance <= count * epsilon * variance + (count * mean[feature] * epsilon) ** 2;
    scale[feature] = constant ? 1 : Math.sqrt(variance);
  }
  return { mean, scale };
}

export function standardize(features: Features, standardizer: Standardizer): Float64Array {
  const { values, count, dimension } = features;
  if (dimension !== standardizer.mean.length) throw new AnalysisError(`features have ${dimension} dimensions; the classifier was fitted on ${standardizer.mean.length}`);
  const result = new Float64Array(count * dimension);
  for (let row = 0; row < count; row++) {
    for (let feature = 0; feature < dimension; feature++) {
      const index = row * dimension + feature;
      result[index] = (values[index] - standardizer.mean[feature]) / standardizer.scale[feature];
    }
  }
  return result;
}

/** The given rows, copied, with their labels. */
export function selectRows(set: LabelledFeatures, rows: ArrayLike<number>): LabelledFeatures {
  const { dimension } = set;
  const values = new Float64Array(rows.length * dimension);
  const labels = new Int32Array(rows.length);
  for (let index = 0; index < rows.length; index++) {
    const row = rows[index];
    for (let feature = 0; feature < dimension; feature++) values[index * dimension + feature] = set.values[row * dimension + feature];
    labels[index] = set.labels[row];
  }
  return { values, labels, count: rows.length, dimension };
}

export function accuracyOf(predictions: ArrayLike<number>, labels: ArrayLike<number>): number {
  let correct = 0;
  for (let index = 0; index < labels.length; index++) if (predictions[index] === labels[index]) correct++;
  return correct / labels.length;
}
