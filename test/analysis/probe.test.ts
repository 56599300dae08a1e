/**
 * The linear probe against scikit-learn 1.2.1: make_pipeline(StandardScaler(), LogisticRegression(penalty='l2',
 * C, multi_class='multinomial')) solved to a gradient of 1e-8 by newton-cg, on the same fixed data (fixture.ts
 * and scripts/reference/fixture.py build it bit for bit). scripts/reference/probe.py printed these constants.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AnalysisError } from '../../runtime/analysis/features';
import { minimize } from '../../runtime/analysis/lbfgs';
import { fitProbe, linearProbe, probePredictions, probeProbabilities } from '../../runtime/analysis/probe';
import { clusters } from './fixture';

const train = clusters(300, 4, 6, 11, 0.9, 4);
const testSet = clusters(200, 4, 6, 12, 0.9, 4);

/** scikit-learn's optimum, printed by scripts/reference/probe.py (intercepts centred: softmax ignores a shared shift). */
const REFERENCE = [
  { C: 1.0,
    accuracy: 0.82,
    trainAccuracy: 0.8233333333333334,
    weights: [-1.1750382885758102, 0.41494688978750904, 0.005481439974497294, 1.4278483165043783, 0.0, -0.84768542797037, 0.17864019810459492, -1.1936826808497027, 0.8900742112872984, -0.5593632360740562, 0.0, 0.18979355471845644, 1.3530451535966312, -0.03220387115262221, -1.1333590362038433, 0.60269739397724, 0.0, 1.2900222876801417, -0.35664706312541633, 0.810939662214817, 0.2378033849420504, -1.471182474407559, 0.0, -0.6321304144282289],
    intercepts: [-0.05893424383627007, 0.3461873070428752, -0.1317952027160338, -0.15545786049057134],
    probabilities: [0.03529546857937536, 0.11005293353025941, 0.8087916378559947, 0.04585996003437072, 0.8779238336535147, 0.014380934724944783, 0.03789248578139302, 0.06980274584014758, 0.0016043671354861238, 0.00019794680188469063, 0.9981473795822178, 5.030648041126571e-05, 0.030063231295877502, 0.7302842401984784, 0.0035723696306346523, 0.23608015887500955, 0.9552364480513037, 0.00018662597680814302, 1.0772389399055767e-05, 0.0445661535824891],
    predictions: '20210022310331122330331300101113221210130022002101130210203022211002203023130303310021212002020123330123202200110201211002012013002311000110223100012300112001123222032210010313113303300021012231231112' },
  { C: 0.02,
    accuracy: 0.835,
    trainAccuracy: 0.83,
    weights: [-0.43253332350462453, 0.15480756256986125, -0.03939793488769238, 0.5064396316477877, 0.0, -0.36045230846567994, 0.05714588022110887, -0.5211677912261664, 0.3648889303315419, -0.18865483163737812, 0.0, 0.05344460361298444, 0.4982857021597277, -0.012838071067972273, -0.4250407259145556, 0.22591561546517508, 0.0, 0.4701738185048028, -0.12289825887621171, 0.37919829972427793, 0.09954973047070653, -0.5437004154755851, 0.0, -0.16316611365210734],
    intercepts: [-0.022142864679340023, 0.06312333200483151, 0.09372797799246574, -0.13470844531795723],
    probabilities: [0.1373850936056236, 0.19202097819524447, 0.5154301823482038, 0.1551637458509281, 0.5491708259802354, 0.09941472315274734, 0.1838191222602086, 0.16759532860680862, 0.06806457695132828, 0.027073823465784318, 0.8833229507395249, 0.021538648843362415, 0.14310375542825524, 0.4880397388247205, 0.07760487273469105, 0.29125163301233314, 0.7630828275259998, 0.025810132972747035, 0.012107550947784011, 0.1989994885534692],
    predictions: '20210022320311122130331100101113221210130022002101130210203022211002203023130303010021212002020123330123202200110201211002012013002311000110223100012300112001123222032210010313113303300021012231231112' },
];

function largestDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  assert.equal(actual.length, expected.length);
  let result = 0;
  for (let index = 0; index < expected.length; index++) result = Math.max(result, Math.abs(actual[index] - expected[index]));
  return result;
}

function centred(values: Float64Array): Float64Array {
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  return values.map((value) => value - mean);
}

for (const reference of REFERENCE) {
  test(`Probe with C = ${reference.C}: scikit-learn's coefficients, probabilities, predictions and accuracy`, () => {
    const probe = fitProbe(train, { inverseRegularization: reference.C, tolerance: 1e-11 });
    assert.ok(probe.converged);
    assert.deepEqual(probe.classes, [0, 1, 2, 3]);
    assert.ok(largestDifference(probe.weights, reference.weights) < 1e-8, `weights differ by ${largestDifference(probe.weights, reference.weights)}`);
    assert.ok(largestDifference(centred(probe.intercepts), reference.intercepts) < 1e-8);
    const probabilities = probeProbabilities(probe, { ...testSet, values: testSet.values.subarray(0, 5 * 6), count: 5 });
    assert.ok(largestDifference(probabilities, reference.probabilities) < 1e-9);
    assert.equal(Array.from(probePredictions(probe, testSet)).join(''), reference.predictions);
  });

  test(`Probe with C = ${reference.C} at the default tolerance: the same accuracy, probabilities within 1e-5`, () => {
    const result = linearProbe(train, testSet, { inverseRegularization: reference.C });
    assert.ok(result.converged);
    assert.equal(result.accuracy, reference.accuracy);
    assert.equal(result.trainAccuracy, reference.trainAccuracy);
    assert.equal(result.penalty, 'l2');
    assert.equal(result.inverseRegularization, reference.C);
    assert.match(result.description, new RegExp(`L2 with C = ${reference.C} .*fitted on 300 rows, scored on 200`));
    const probe = fitProbe(train, { inverseRegularization: reference.C });
    assert.ok(largestDifference(probeProbabilities(probe, { ...testSet, values: testSet.values.subarray(0, 30), count: 5 }), reference.probabilities) < 1e-5);
  });
}

test('The probe minimizes C·Σ cross-entropy + ½‖W‖²: its gradient, written out by hand in float64, vanishes at the fit', () => {
  const C = 0.3;
  // 299 rows: the last three take the path for rows beyond the blocks of four.
  const rows = { ...train, values: train.values.subarray(0, 299 * 6), labels: train.labels.subarray(0, 299), count: 299 };
  const probe = fitProbe(rows, { inverseRegularization: C, tolerance: 1e-11 });
  const { mean, scale } = probe.standardizer;
  const classes = 4;
  const dimension = 6;
  const gradientWeights = new Float64Array(classes * dimension);
  const gradientIntercepts = new Float64Array(classes);
  for (let row = 0; row < rows.count; row++) {
    const x = Array.from({ length: dimension }, (_, feature) => (rows.values[row * dimension + feature] - mean[feature]) / scale[feature]);
    const logits = Array.from({ length: classes }, (_, label) => probe.intercepts[label] + x.reduce((sum, value, feature) => sum + value * probe.weights[label * dimension + feature], 0));
    const normalizer = Math.log(logits.reduce((sum, logit) => sum + Math.exp(logit), 0));
    for (let label = 0; label < classes; label++) {
      const residual = Math.exp(logits[label] - normalizer) - (label === rows.labels[row] ? 1 : 0);
      gradientIntercepts[label] += C * residual;
      for (let feature = 0; feature < dimension; feature++) gradientWeights[label * dimension + feature] += C * residual * x[feature];
    }
  }
  for (let index = 0; index < gradientWeights.length; index++) gradientWeights[index] += probe.weights[index];
  assert.ok(Math.max(...gradientWeights.map(Math.abs), ...gradientIntercepts.map(Math.abs)) < 1e-7);
});

test('A constant feature (a collapsed latent) is left unscaled, as StandardScaler does, and gets no weight', () => {
  const probe = fitProbe(train, { tolerance: 1e-11 });
  assert.equal(probe.standardizer.scale[4], 1);
  assert.equal(probe.standardizer.mean[4], 0.25);
  for (let label = 0; label < 4; label++) assert.equal(probe.weights[label * 6 + 4], 0);
});

test('Labels need not be 0…K−1: classes are the distinct labels, ascending, and predictions name them', () => {
  const relabelled = { ...train, labels: Int32Array.from(train.labels, (label) => [7, 3, 9, 5][label]) };
  const probe = fitProbe(relabelled, { tolerance: 1e-11 });
  assert.deepEqual(probe.classes, [3, 5, 7, 9]);
  const original = fitProbe(train, { tolerance: 1e-11 });
  const expected = Array.from(probePredictions(original, testSet), (label) => [7, 3, 9, 5][label]);
  assert.deepEqual(Array.from(probePredictions(probe, testSet)), expected);
});

test('L-BFGS finds the minimum of a badly scaled quadratic to the tolerance asked', () => {
  const curvatures = [1, 10, 100, 1000, 1e4];
  const minimum = minimize(
    (point, gradient) => {
      let value = 0;
      point.forEach((coordinate, index) => {
        gradient[index] = curvatures[index] * (coordinate - index);
        value += 0.5 * curvatures[index] * (coordinate - index) ** 2;
      });
      return value;
    },
    new Float64Array(5),
    { tolerance: 1e-10, maxIterations: 500 },
  );
  assert.ok(minimum.converged);
  minimum.point.forEach((coordinate, index) => assert.ok(Math.abs(coordinate - index) < 1e-10 / curvatures[index] + 1e-12));
});

test('The probe refuses one-class data, bad C, mismatched shapes and non-finite features, naming what is wrong', () => {
  const oneClass = { ...train, labels: new Int32Array(train.count) };
  assert.throws(() => fitProbe(oneClass), /every row has label 0; a classifier needs at least two classes/);
  assert.throws(() => fitProbe(train, { inverseRegularization: 0 }), /inverseRegularization \(C\) must be a finite number > 0/);
  const broken = { ...train, values: Float64Array.from(train.values) };
  broken.values[13 * 6 + 2] = NaN;
  assert.throws(() => fitProbe(broken), (error: Error) => error instanceof AnalysisError && /probe training set: row 13, feature 2 is NaN/.test(error.message));
  assert.throws(() => linearProbe(train, { ...testSet, dimension: 5, values: testSet.values.subarray(0, 1000) }), /probe: the test set has 5 features, the training set 6/);
  assert.throws(() => fitProbe({ ...train, labels: train.labels.subarray(1) }), /299 labels for 300 rows/);
});
