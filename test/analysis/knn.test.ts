/**
 * kNN against scikit-learn 1.2.1's KNeighborsClassifier(n_neighbors=k, metric, algorithm='brute') on the probe's
 * fixed data (fixture.ts, scripts/reference/fixture.py). scripts/reference/probe.py printed these constants; it
 * also counts the test rows whose vote is tied (7 for k = 5, 6 for k = 8), so the tie rule is exercised.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { knnAccuracy, knnClassify, nearestNeighbours } from '../../runtime/analysis/knn';
import type { KnnMetric } from '../../runtime/analysis/knn';
import { clusters } from './fixture';

const train = clusters(300, 4, 6, 11, 0.9, 4);
const testSet = clusters(200, 4, 6, 12, 0.9, 4);

const REFERENCE: Array<{ k: number; metric: KnnMetric; accuracy: number; probabilities: number[]; neighbours: number[]; distances: number[]; predictions: string }> = [
  { k: 5, metric: 'euclidean',
    accuracy: 0.805,
    probabilities: [0.2, 0.2, 0.4, 0.2, 0.8, 0.0, 0.2, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.8, 0.0, 0.2, 1.0, 0.0, 0.0, 0.0],
    neighbours: [19, 102, 244, 98, 118, 259, 232, 257, 159, 3, 261, 39, 284, 120, 79],
    distances: [0.7282748130160998, 0.7845825871562884, 1.0821506841530966, 1.349993159917426, 1.3501096294805615, 0.9214684289840239, 1.0601660716273618, 1.2828555287271985, 1.2874815193490659, 1.3103926435180324, 0.7422810719953996, 1.1921350987233872, 1.265641497451949, 1.386275277151393, 1.5413085562621014],
    predictions: '20210022310331122130321300101113221210130022002301130210203022211002203023130303010011212002020123330023202000110201211012012023002313003110223300011300112001123222032210010113113003300021012231231312' },
  { k: 8, metric: 'cosine',
    accuracy: 0.815,
    probabilities: [0.0, 0.125, 0.875, 0.0, 0.875, 0.0, 0.125, 0.0, 0.0, 0.0, 1.0, 0.0, 0.125, 0.625, 0.0, 0.25, 1.0, 0.0, 0.0, 0.0],
    neighbours: [19, 102, 231, 101, 244, 248, 108, 284, 86, 259, 232, 159, 275, 142, 257, 3, 261, 39, 284, 23, 120, 1, 79, 266],
    distances: [0.05909565557353602, 0.060494201147342164, 0.12468860698216089, 0.13562805313481463, 0.1371465998346536, 0.15370732139269172, 0.17012986440009958, 0.2363769482122493, 0.049409740733505125, 0.06556235615714512, 0.08840269827388114, 0.09351958004580685, 0.10628379081075734, 0.12494132313845785, 0.13087878602504976, 0.1346682478124812, 0.02120241375677323, 0.030198584397802097, 0.030612288971721635, 0.0513774531257597, 0.06834874801324864, 0.08175005315384998, 0.081919330053975, 0.08554084027976072],
    predictions: '20210022310331122130321100101113221210130022002301130210203022211002203023130303010011212002020123330123200000110201211002012023002313000110223300012300112001023222032210010113113303300021012231231312' },
  { k: 1, metric: 'euclidean',
    accuracy: 0.755,
    probabilities: [0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0],
    neighbours: [19, 259, 261],
    distances: [0.7282748130160998, 0.9214684289840239, 0.7422810719953996],
    predictions: '10210022310312222130321300101113221212130322002301130210203002211002213023130301230311212032020122312023200001110221211312022233002313003310123300011303112001112222032213010113113303300031012231031312' },
];

for (const reference of REFERENCE) {
  test(`kNN with k = ${reference.k}, ${reference.metric}: scikit-learn's neighbours, distances, vote shares, predictions and accuracy`, () => {
    const { k, metric } = reference;
    const queries = { ...testSet, values: testSet.values.subarray(0, 3 * 6), count: 3 };
    const neighbours = nearestNeighbours(train, queries, { k, metric });
    assert.deepEqual(Array.from(neighbours.indices), reference.neighbours);
    neighbours.distances.forEach((distance, index) => assert.ok(Math.abs(distance - reference.distances[index]) < 1e-12, `${distance} vs ${reference.distances[index]}`));
    const { classes, predictions, probabilities } = knnClassify(train, testSet, { k, metric });
    assert.deepEqual(classes, [0, 1, 2, 3]);
    assert.deepEqual(Array.from(probabilities.subarray(0, 20)), reference.probabilities);
    assert.equal(Array.from(predictions).join(''), reference.predictions);
    const result = knnAccuracy(train, testSet, { k, metric });
    assert.equal(result.accuracy, reference.accuracy);
    assert.equal(result.k, k);
    assert.equal(result.metric, metric);
    assert.match(result.description, new RegExp(`${k} nearest of 300 training rows by ${metric} distance`));
  });
}

test('Neighbours by brute force, one pair at a time in float64, agree with the blocked search on blocks of every remainder', () => {
  // 37 queries and 601 references: neither a multiple of the 4 × 2 kernel nor of the 32 × 256 block.
  const reference = clusters(601, 5, 7, 31, 1.3);
  const queries = clusters(37, 5, 7, 32, 1.3);
  for (const metric of ['euclidean', 'cosine'] as const) {
    const { indices, distances } = nearestNeighbours(reference, queries, { k: 9, metric });
    for (let query = 0; query < queries.count; query++) {
      const all = Array.from({ length: reference.count }, (_, other) => {
        let squares = 0;
        let dot = 0;
        let left = 0;
        let right = 0;
        for (let feature = 0; feature < 7; feature++) {
          const a = queries.values[query * 7 + feature];
          const b = reference.values[other * 7 + feature];
          squares += (a - b) ** 2;
          dot += a * b;
          left += a * a;
          right += b * b;
        }
        return { other, distance: metric === 'euclidean' ? Math.sqrt(squares) : 1 - dot / Math.sqrt(left * right) };
      }).sort((first, second) => first.distance - second.distance || first.other - second.other);
      for (let rank = 0; rank < 9; rank++) {
        assert.equal(indices[query * 9 + rank], all[rank].other, `${metric}, query ${query}, rank ${rank}`);
        assert.ok(Math.abs(distances[query * 9 + rank] - all[rank].distance) < 1e-12);
      }
    }
  }
});

test('Equal distances keep training-row order, and a tied vote goes to the smallest label', () => {
  // Four training points at distance 1 from the origin, labelled 3, 1, 1, 3: the two nearest are rows 0 and 1.
  const square = { values: [1, 0, 0, 1, -1, 0, 0, -1], labels: [3, 1, 1, 3], count: 4, dimension: 2 };
  const origin = { values: [0, 0], count: 1, dimension: 2 };
  assert.deepEqual(Array.from(nearestNeighbours(square, origin, { k: 2 }).indices), [0, 1]);
  const { predictions, probabilities } = knnClassify(square, origin, { k: 4 });
  assert.deepEqual(Array.from(probabilities), [0.5, 0.5]);
  assert.deepEqual(Array.from(predictions), [1]);
});

test('Cosine distance treats a zero vector as at distance 1 from everything, as scikit-learn does', () => {
  const reference = { values: [0, 0, 2, 0], count: 2, dimension: 2 };
  const { distances } = nearestNeighbours(reference, { values: [0, 0], count: 1, dimension: 2 }, { k: 2, metric: 'cosine' });
  assert.deepEqual(Array.from(distances), [1, 1]);
});

test('kNN refuses k beyond the training rows, unknown metrics and mismatched dimensions, saying why', () => {
  assert.throws(() => knnAccuracy(train, testSet, { k: 301 }), /k = 301 neighbours asked of only 300 training rows/);
  assert.throws(() => knnAccuracy(train, testSet, { k: 0 }), /k must be a positive integer, not 0/);
  assert.throws(() => knnAccuracy(train, testSet, { metric: 'manhattan' as KnnMetric }), /metric must be 'euclidean' or 'cosine', not 'manhattan'/);
  assert.throws(() => nearestNeighbours(train, { values: new Float64Array(5), count: 1, dimension: 5 }), /the queries have 5 features, the training set 6/);
  assert.throws(() => nearestNeighbours(train, { values: [Infinity, 0, 0, 0, 0, 0], count: 1, dimension: 6 }), /kNN queries: row 0, feature 0 is Infinity/);
});
