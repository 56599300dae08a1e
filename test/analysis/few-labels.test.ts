/**
 * The few-labels comparison against scikit-learn 1.2.1: for every draw, the same class-balanced rows
 * (scripts/reference/fixture.py draws them with the same generator), a StandardScaler + multinomial
 * LogisticRegression(C=1) or a KNeighborsClassifier(k=3) fitted on them, scored on the whole test split, on
 * "latents" (6 features, one constant) and "pixels" (24 noisier features) of the same examples.
 * scripts/reference/probe.py printed these constants (accuracies per draw, numpy's mean and std with ddof=1).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { balancedDraw, fewLabels } from '../../runtime/analysis/few-labels';
import { clusters } from './fixture';

const sets = {
  latents: { train: clusters(300, 4, 6, 21, 1.2, 4), test: clusters(200, 4, 6, 22, 1.2, 4) },
  pixels: { train: clusters(300, 4, 24, 21, 2.5), test: clusters(200, 4, 24, 22, 2.5) },
};

const DRAW_ZERO_OF_30 = [4, 13, 20, 29, 44, 58, 60, 66, 81, 106, 107, 118, 122, 126, 135, 139, 144, 166, 182, 185, 207, 209, 227, 250, 252, 259, 272, 289, 290, 295];

const REFERENCE: Array<{ classifier: 'probe' | 'knn'; labels: number; set: 'latents' | 'pixels'; accuracies: number[]; mean: number; std: number }> = [
  { classifier: 'probe', labels: 12, set: 'latents', accuracies: [0.57, 0.495, 0.58], mean: 0.5483333333333333, std: 0.04645786621588782 },
  { classifier: 'probe', labels: 12, set: 'pixels', accuracies: [0.33, 0.495, 0.44], mean: 0.42166666666666663, std: 0.08401388774085705 },
  { classifier: 'probe', labels: 30, set: 'latents', accuracies: [0.53, 0.625, 0.545], mean: 0.5666666666666668, std: 0.051071844820148524 },
  { classifier: 'probe', labels: 30, set: 'pixels', accuracies: [0.48, 0.46, 0.445], mean: 0.46166666666666667, std: 0.01755942292142122 },
  { classifier: 'knn', labels: 12, set: 'latents', accuracies: [0.48, 0.545, 0.565], mean: 0.5299999999999999, std: 0.04444097208657794 },
  { classifier: 'knn', labels: 12, set: 'pixels', accuracies: [0.4, 0.435, 0.4], mean: 0.4116666666666666, std: 0.020207259421636887 },
  { classifier: 'knn', labels: 30, set: 'latents', accuracies: [0.5, 0.575, 0.5], mean: 0.525, std: 0.043301270189221905 },
  { classifier: 'knn', labels: 30, set: 'pixels', accuracies: [0.35, 0.37, 0.47], mean: 0.39666666666666667, std: 0.06429100507328636 },
];

test('A balanced draw is the rows scikit-learn’s reference drew: ⌊n/K⌋ of every class, the remainder spread, no repeats', () => {
  const labels = sets.latents.train.labels;
  assert.deepEqual(Array.from(balancedDraw(labels, 30, 7, 0)), DRAW_ZERO_OF_30);
  for (const [size, draw] of [[30, 1], [12, 2], [100, 3]]) {
    const rows = balancedDraw(labels, size, 7, draw);
    assert.equal(new Set(rows).size, size);
    const perClass = [0, 0, 0, 0];
    for (const row of rows) perClass[labels[row]]++;
    const base = Math.floor(size / 4);
    assert.ok(perClass.every((count) => count === base || count === base + 1), `${perClass}`);
    assert.equal(perClass.filter((count) => count === base + 1).length, size % 4);
  }
  assert.notDeepEqual(Array.from(balancedDraw(labels, 30, 7, 1)), DRAW_ZERO_OF_30, 'draws differ');
});

for (const classifier of ['probe', 'knn'] as const) {
  test(`Few labels with the ${classifier}: every draw's accuracy, the mean and the sample std equal scikit-learn's`, () => {
    const result = fewLabels(sets, { sizes: [12, 30], draws: 3, seed: 7, classifier: classifier === 'probe' ? { kind: 'probe' } : { kind: 'knn', options: { k: 3 } } });
    assert.equal(result.classifier, classifier);
    assert.deepEqual(result.sizes.map((entry) => entry.labels), [12, 30]);
    for (const expected of REFERENCE.filter((entry) => entry.classifier === classifier)) {
      const actual = result.sizes.find((entry) => entry.labels === expected.labels)!.results[expected.set];
      assert.deepEqual(actual.accuracies, expected.accuracies, `${expected.set}, ${expected.labels} labels`);
      assert.ok(Math.abs(actual.mean - expected.mean) < 1e-12);
      assert.ok(Math.abs(actual.std - expected.std) < 1e-12);
    }
    assert.match(result.description, classifier === 'probe' ? /L2 with C = 1\b/ : /k = 3, euclidean distance/);
    assert.match(result.description, /3 class-balanced draws of 12 and 30 labels, mean ± sample std .* on latents vs pixels/);
  });
}

test('Few labels refuses sets that are not the same examples, too few draws and sizes below one per class', () => {
  const shuffled = { ...sets.pixels, train: { ...sets.pixels.train, labels: sets.pixels.train.labels.map((label) => (label + 1) % 4) } };
  assert.throws(() => fewLabels({ latents: sets.latents, pixels: shuffled }), /the train splits of latents and pixels are not the same examples/);
  assert.throws(() => fewLabels(sets, { draws: 1 }), /draws must be an integer ≥ 2/);
  assert.throws(() => fewLabels(sets, { sizes: [3] }), /3 labels cannot hold one of each of the 4 classes/);
  assert.throws(() => fewLabels(sets, { sizes: [1000] }), /1000 balanced labels need 250 rows of class 0; the training split has \d+/);
});
