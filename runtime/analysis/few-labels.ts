/**
 * The few-labels comparison: does the encoder help a classifier that sees only a few labels? The same
 * classifier (the linear probe, or kNN) is fitted on 100 and on 1000 class-balanced labelled training rows,
 * for several random draws, once on each feature set (the latents, and the raw pixels of the same examples),
 * and scored on the whole test split. Every feature set sees the same drawn rows in a draw, so the comparison
 * is paired; a result is the mean and the sample standard deviation (n − 1) of the accuracy over the draws.
 */
import type { LabelledFeatures } from './features';
import { AnalysisError, checkLabelled, classesOf, selectRows } from './features';
import type { KnnOptions } from './knn';
import { KNN_DEFAULTS, knnAccuracy } from './knn';
import type { ProbeOptions } from './probe';
import { PROBE_DEFAULTS, linearProbe } from './probe';
import { Random, mixSeed } from '../util/random';

export interface FeatureSplits {
  train: LabelledFeatures;
  test: LabelledFeatures;
}

export type FewLabelsClassifier = { kind: 'probe'; options?: Partial<ProbeOptions> } | { kind: 'knn'; options?: Partial<KnnOptions> };

export interface FewLabelsOptions {
  /** Numbers of labelled training rows; each is split as evenly as the classes allow. */
  sizes: number[];
  /** Independent draws per size (at least 2, for a standard deviation). */
  draws: number;
  seed: number;
  classifier: FewLabelsClassifier;
}

export const FEW_LABELS_DEFAULTS: Readonly<FewLabelsOptions> = { sizes: [100, 1000], draws: 5, seed: 0, classifier: { kind: 'probe' } };

export interface AccuracySummary {
  /** Test accuracy of each draw, in draw order. */
  accuracies: number[];
  mean: number;
  /** Sample standard deviation over the draws (n − 1). */
  std: number;
}

export interface FewLabelsResult {
  classifier: FewLabelsClassifier['kind'];
  draws: number;
  seed: number;
  /** One entry per size: the summary of every feature set, under the name it was given. */
  sizes: Array<{ labels: number; results: Record<string, AccuracySummary> }>;
  /** One line for the person: the classifier and its settings, and the protocol. */
  description: string;
}

/**
 * `size` training rows, class-balanced: ⌊size / classes⌋ of every class and one more for `size mod classes`
 * classes chosen at random; within a class, rows are drawn without replacement. Ascending row indices.
 * Deterministic in (seed, draw); scripts/reference/fixture.py draws the same rows.
 */
export function balancedDraw(labels: ArrayLike<number>, size: number, seed: number, draw: number): Uint32Array {
  const classes = classesOf(labels);
  if (!Number.isInteger(size) || size < classes.length) {
    throw new AnalysisError(`few labels: ${size} labels cannot hold one of each of the ${classes.length} classes`);
  }
  const base = Math.floor(size / classes.length);
  const extra = size % classes.length;
  const random = new Random(mixSeed(seed, draw));
  const order = classes.map((_, index) => index);
  for (let index = 0; index < extra; index++) {
    const other = index + random.int(classes.length - index);
    [order[index], order[other]] = [order[other], order[index]];
  }
  const extraPositions = new Set(order.slice(0, extra));
  const chosen: number[] = [];
  classes.forEach((label, position) => {
    const want = base + (extraPositions.has(position) ? 1 : 0);
    const pool: number[] = [];
    for (let row = 0; row < labels.length; row++) if (labels[row] === label) pool.push(row);
    if (pool.length < want) throw new AnalysisError(`few labels: ${size} balanced labels need ${want} rows of class ${label}; the training split has ${pool.length}`);
    for (let index = 0; index < want; index++) {
      const other = index + random.int(pool.length - index);
      [pool[index], pool[other]] = [pool[other], pool[index]];
    }
    chosen.push(...pool.slice(0, want));
  });
  return Uint32Array.from(chosen).sort();
}

function summarize(accuracies: number[]): AccuracySummary {
  const mean = accuracies.reduce((sum, value) => sum + value, 0) / accuracies.length;
  const squares = accuracies.reduce((sum, value) => sum + (value - mean) ** 2, 0);
  return { accuracies, mean, std: Math.sqrt(squares / (accuracies.length - 1)) };
}

function classifierDescription(classifier: FewLabelsClassifier): string {
  if (classifier.kind === 'probe') {
    const { inverseRegularization } = { ...PROBE_DEFAULTS, ...classifier.options };
    return `linear probe (multinomial logistic regression on standardized features, L2 with C = ${inverseRegularization})`;
  }
  const { k, metric } = { ...KNN_DEFAULTS, ...classifier.options };
  return `kNN (k = ${k}, ${metric} distance)`;
}

function sameLabels(first: LabelledFeatures, second: LabelledFeatures): boolean {
  if (first.count !== second.count) return false;
  for (let row = 0; row < first.count; row++) if (first.labels[row] !== second.labels[row]) return false;
  return true;
}

/**
 * Runs the comparison on named feature sets of the same examples, e.g. `{ latents, pixels }`: their training
 * splits must hold the same rows in the same order (same labels), and so must their test splits.
 */
export function fewLabels(featureSets: Record<string, FeatureSplits>, options: Partial<FewLabelsOptions> = {}): FewLabelsResult {
  const settings: FewLabelsOptions = { ...FEW_LABELS_DEFAULTS, ...options };
  const names = Object.keys(featureSets);
  if (names.length === 0) throw new AnalysisError('few labels: no feature sets to compare');
  if (!Number.isInteger(settings.draws) || settings.draws < 2) throw new AnalysisError(`few labels: draws must be an integer ≥ 2 (for a standard deviation), not ${settings.draws}`);
  for (const name of names) {
    checkLabelled(featureSets[name].train, `few labels, ${name} training split`);
    checkLabelled(featureSets[name].test, `few labels, ${name} test split`);
  }
  const [first] = names;
  for (const name of names.slice(1)) {
    for (const split of ['train', 'test'] as const) {
      if (!sameLabels(featureSets[first][split], featureSets[name][split])) {
        throw new AnalysisError(`few labels: the ${split} splits of ${first} and ${name} are not the same examples (their labels differ); the comparison pairs them row by row`);
      }
    }
  }
  const trainLabels = featureSets[first].train.labels;
  const sizes = settings.sizes.map((size) => {
    const accuracies: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
    for (let draw = 0; draw < settings.draws; draw++) {
      const rows = balancedDraw(trainLabels, size, settings.seed, draw);
      for (const name of names) {
        const { train, test } = featureSets[name];
        const labelled = selectRows(train, rows);
        const result = settings.classifier.kind === 'probe' ? linearProbe(labelled, test, settings.classifier.options) : knnAccuracy(labelled, test, settings.classifier.options);
        accuracies[name].push(result.accuracy);
      }
    }
    return { labels: size, results: Object.fromEntries(names.map((name) => [name, summarize(accuracies[name])])) };
  });
  return {
    classifier: settings.classifier.kind,
    draws: settings.draws,
    seed: settings.seed,
    sizes,
    description: `${classifierDescription(settings.classifier)}; ${settings.draws} class-balanced draws of ${settings.sizes.join(' and ')} labels, mean ± sample std of the test accuracy, on ${names.join(' vs ')}`,
  };
}
