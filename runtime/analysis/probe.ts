/**
 * The linear probe: multinomial logistic regression on standardized features (the encoder's latent means),
 * L2-regularized, fitted on one split and scored on another. It is scikit-learn's
 * `make_pipeline(StandardScaler(), LogisticRegression(penalty='l2', C=C, multi_class='multinomial'))`:
 * it minimizes C · Σᵢ −log softmax(W xᵢ + b)[yᵢ] + ½‖W‖² (the intercepts b are not penalized), so C is the
 * inverse of the regularization strength, and the optimum (unique in W; b up to a shared constant, fixed here by
 * starting from zero) is what any converged solver finds. Softmax even for two classes.
 */
import type { Features, LabelledFeatures, Standardizer } from './features';
import { AnalysisError, accuracyOf, checkFeatures, checkLabelled, classesOf, fitStandardizer, standardize } from './features';
import type { Objective } from './lbfgs';
import { minimize } from './lbfgs';

export interface ProbeOptions {
  /** scikit-learn's C: the inverse of the L2 strength (larger C, weaker regularization). */
  inverseRegularization: number;
  /** L-BFGS stops when every component of the gradient of the mean loss is at most this. */
  tolerance: number;
  maxIterations: number;
}

export const PROBE_DEFAULTS: Readonly<ProbeOptions> = { inverseRegularization: 1, tolerance: 1e-6, maxIterations: 1000 };

export interface Probe {
  /** The distinct training labels, ascending; row k of `weights` and `intercepts[k]` belong to classes[k]. */
  classes: number[];
  standardizer: Standardizer;
  /** classes × dimension, row by row, on the standardized features (scikit-learn's `coef_`). */
  weights: Float64Array;
  intercepts: Float64Array;
  dimension: number;
  inverseRegularization: number;
  iterations: number;
  converged: boolean;
}

export interface ProbeResult {
  /** Fraction of the test rows classified correctly. */
  accuracy: number;
  trainAccuracy: number;
  trainCount: number;
  testCount: number;
  classes: number;
  penalty: 'l2';
  inverseRegularization: number;
  iterations: number;
  converged: boolean;
  /** One line for the person reading the metric: what was fitted, on what, with which strength. */
  description: string;
}

function checkOptions(options: ProbeOptions): void {
  if (!(options.inverseRegularization > 0) || !Number.isFinite(options.inverseRegularization)) {
    throw new AnalysisError(`probe: inverseRegularization (C) must be a finite number > 0, not ${options.inverseRegularization}`);
  }
  if (!(options.tolerance > 0)) throw new AnalysisError(`probe: tolerance must be > 0, not ${options.tolerance}`);
  if (!Number.isInteger(options.maxIterations) || options.maxIterations < 1) throw new AnalysisError(`probe: maxIterations must be a positive integer, not ${options.maxIterations}`);
}

/** Fits the probe on labelled features (standardized with the training rows' own mean and deviation). */
export function fitProbe(train: LabelledFeatures, options: Partial<ProbeOptions> = {}): Probe {
  const settings: ProbeOptions = { ...PROBE_DEFAULTS, ...options };
  checkOptions(settings);
  checkLabelled(train, 'probe training set');
  const classes = classesOf(train.labels);
  if (classes.length < 2) throw new AnalysisError(`probe training set: every row has label ${classes[0]}; a classifier needs at least two classes`);
  const classIndex = new Map(classes.map((label, index) => [label, index]));
  const targets = Int32Array.from(train.labels, (label) => classIndex.get(label)!);
  const standardizer = fitStandardizer(train);
  const inputs = standardize(train, standardizer);
  const { count, dimension } = train;
  const classCount = classes.length;
  const weightCount = classCount * dimension;
  // The objective divided by C·n, so that the tolerance applies to a mean loss whatever the number of rows.
  const objective = crossEntropyObjective(inputs, targets, { count, dimension, classCount }, 1 / (settings.inverseRegularization * count));
  const minimum = minimize(objective, new Float64Array(weightCount + classCount), { tolerance: settings.tolerance, maxIterations: settings.maxIterations });
  return {
    classes,
    standardizer,
    weights: minimum.point.slice(0, weightCount),
    intercepts: minimum.point.slice(weightCount),
    dimension,
    inverseRegularization: settings.inverseRegularization,
    iterations: minimum.iterations,
    converged: minimum.converged,
  };
}

/**
 * Mean cross-entropy of softmax(W x + b) plus penalty/2 · ‖W‖², and its gradient. The point holds W (classes ×
 * dimension, row by row) then b. Logits and the gradient's Rᵀ·X run four rows at a time, so that each weight
 * or gradient entry loaded serves four products: about twice as fast as one row at a time.
 */
function crossEntropyObjective(inputs: Float64Array, targets: Int32Array, shape: { count: number; dimension: number; classCount: number }, penalty: number): Objective {
  const { count, dimension, classCount } = shape;
  const weightCount = classCount * dimension;
  const residuals = new Float64Array(count * classCount);
  return (point, gradient) => {
    let row = 0;
    for (; row + 4 <= count; row += 4) {
      const first = row * dimension;
      const second = first + dimension;
      const third = second + dimension;
      const fourth = third + dimension;
      for (let label = 0; label < classCount; label++) {
        const weights = label * dimension;
        const intercept = point[weightCount + label];
        let a = intercept;
        let b = intercept;
        let c = intercept;
        let d = intercept;
        for (let feature = 0; feature < dimension; feature++) {
          const weight = point[weights + feature];
          a += weight * inputs[first + feature];
          b += weight * inputs[second + feature];
          c += weight * inputs[third + feature];
          d += weight * inputs[fourth + feature];
        }
        residuals[row * classCount + label] = a;
        residuals[(row + 1) * classCount + label] = b;
        residuals[(row + 2) * classCount + label] = c;
        residuals[(row + 3) * classCount + label] = d;
      }
    }
    for (; row < count; row++) {
      for (let label = 0; label < classCount; label++) {
        let logit = point[weightCount + label];
        for (let feature = 0; feature < dimension; feature++) logit += point[label * dimension + feature] * inputs[row * dimension + feature];
        residuals[row * classCount + label] = logit;
      }
    }
    let loss = 0;
    for (row = 0; row < count; row++) {
      // Logits become residuals p − onehot(y) in place, after the row's log-sum-exp is taken.
      const offset = row * classCount;
      let largest = -Infinity;
      for (let label = 0; label < classCount; label++) largest = Math.max(largest, residuals[offset + label]);
      let total = 0;
      for (let label = 0; label < classCount; label++) total += Math.exp(residuals[offset + label] - largest);
      const normalizer = largest + Math.log(total);
      loss += normalizer - residuals[offset + targets[row]];
      for (let label = 0; label < classCount; label++) residuals[offset + label] = Math.exp(residuals[offset + label] - normalizer);
      residuals[offset + targets[row]] -= 1;
    }
    gradient.fill(0);
    for (row = 0; row + 4 <= count; row += 4) {
      const first = row * dimension;
      const second = first + dimension;
      const third = second + dimension;
      const fourth = third + dimension;
      for (let label = 0; label < classCount; label++) {
        const a = residuals[row * classCount + label];
        const b = residuals[(row + 1) * classCount + label];
        const c = residuals[(row + 2) * classCount + label];
        const d = residuals[(row + 3) * classCount + label];
        const weights = label * dimension;
        for (let feature = 0; feature < dimension; feature++) {
          gradient[weights + feature] += a * inputs[first + feature] + b * inputs[second + feature] + c * inputs[third + feature] + d * inputs[fourth + feature];
        }
        gradient[weightCount + label] += a + b + c + d;
      }
    }
    for (; row < count; row++) {
      for (let label = 0; label < classCount; label++) {
        const residual = residuals[row * classCount + label];
        for (let feature = 0; feature < dimension; feature++) gradient[label * dimension + feature] += residual * inputs[row * dimension + feature];
        gradient[weightCount + label] += residual;
      }
    }
    let squares = 0;
    for (let index = 0; index < gradient.length; index++) gradient[index] /= count;
    for (let index = 0; index < weightCount; index++) {
      squares += point[index] * point[index];
      gradient[index] += penalty * point[index];
    }
    return loss / count + 0.5 * penalty * squares;
  };
}

/** Class probabilities, rows × classes (in `probe.classes` order). */
export function probeProbabilities(probe: Probe, features: Features): Float64Array {
  checkFeatures(features, 'probe input');
  const inputs = standardize(features, probe.standardizer);
  const { count, dimension } = features;
  const classCount = probe.classes.length;
  const result = new Float64Array(count * classCount);
  for (let row = 0; row < count; row++) {
    const offset = row * dimension;
    const target = row * classCount;
    let largest = -Infinity;
    for (let label = 0; label < classCount; label++) {
      let logit = probe.intercepts[label];
      for (let feature = 0; feature < dimension; feature++) logit += probe.weights[label * dimension + feature] * inputs[offset + feature];
      result[target + label] = logit;
      if (logit > largest) largest = logit;
    }
    let total = 0;
    for (let label = 0; label < classCount; label++) {
      result[target + label] = Math.exp(result[target + label] - largest);
      total += result[target + label];
    }
    for (let label = 0; label < classCount; label++) result[target + label] /= total;
  }
  return result;
}

/** The most probable class of each row (the first of equals, as numpy's argmax). */
export function probePredictions(probe: Probe, features: Features): Float64Array {
  const probabilities = probeProbabilities(probe, features);
  const classCount = probe.classes.length;
  const predictions = new Float64Array(features.count);
  for (let row = 0; row < features.count; row++) {
    let best = 0;
    for (let label = 1; label < classCount; label++) if (probabilities[row * classCount + label] > probabilities[row * classCount + best]) best = label;
    predictions[row] = probe.classes[best];
  }
  return predictions;
}

/** Fits the probe on `train` and reports its accuracy on `test` (the train split's latents against the test split's). */
export function linearProbe(train: LabelledFeatures, test: LabelledFeatures, options: Partial<ProbeOptions> = {}): ProbeResult {
  checkLabelled(test, 'probe test set');
  if (test.dimension !== train.dimension) throw new AnalysisError(`probe: the test set has ${test.dimension} features, the training set ${train.dimension}`);
  const probe = fitProbe(train, options);
  const accuracy = accuracyOf(probePredictions(probe, test), test.labels);
  const trainAccuracy = accuracyOf(probePredictions(probe, train), train.labels);
  const strength = probe.inverseRegularization;
  return {
    accuracy,
    trainAccuracy,
    trainCount: train.count,
    testCount: test.count,
    classes: probe.classes.length,
    penalty: 'l2',
    inverseRegularization: strength,
    iterations: probe.iterations,
    converged: probe.converged,
    description:
      `linear probe: multinomial logistic regression on ${train.dimension} standardized features, L2 with C = ${strength} ` +
      `(C·Σ cross-entropy + ½‖W‖²), fitted on ${train.count} rows, scored on ${test.count}` +
      (probe.converged ? '' : ` (stopped after ${probe.iterations} iterations before converging)`),
  };
}
