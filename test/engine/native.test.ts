/**
 * The native backend against the stock cpu backend: every overridden kernel on random shapes,
 * seeded training of each sample's model, tensor and buffer accounting, and buffer recycling that
 * never hands out an array user code can still see.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../runtime/backends/select';
import { batchNeeds, buildModelFor } from '../../runtime/engine';
import { loadExperiment, cellConfig, withDefaults } from '../../runtime/format/validate';
import { disposeAutoencoder, trainableVariables } from '../../runtime/model/build';
import { lossTerms } from '../../runtime/model/losses';
import { loadAddon } from '../../runtime/backends/native/addon';
import type { NativeBackend} from '../../runtime/backends/native/backend';
import { broadcastLayout } from '../../runtime/backends/native/backend';
import { mixSeed } from '../../runtime/util/random';
import { loadDataset } from '../../runtime/data/index';
import { batchInputs } from '../../runtime/train/batches';
import { regularizerSchedule } from '../../runtime/model/losses';
import { CONV_CASES } from '../helpers/conv-cases';
import type { Shape4 } from '../helpers/conv-cases';
import { SHARED_DATA, sharedData, skipMessage } from '../helpers/shared';
import { Optimizer } from '../../runtime/train/optimizers';
import { nativeThreads } from '../../runtime/backends/select';
import { bernoulliNllPerExample } from '../../runtime/model/fused';

const { addon, problem } = loadAddon();
const skip = addon ? false : `the native addon is not available here: ${problem}`;

/** Runs `compute` on cpu, then on native, and compares every output: max |a − b| / max |a|. */
async function compare(label: string, compute: () => tf.Tensor | tf.Tensor[], tolerance = 1e-5): Promise<void> {
  const run = () => tf.tidy(() => {
    const result = compute();
    return (Array.isArray(result) ? result : [result]).map((tensor) => ({ shape: tensor.shape, values: Float32Array.from(tensor.dataSync()) }));
  });
  await selectBackend('cpu');
  const expected = run();
  await selectBackend('native');
  const actual = run();
  for (const [index, reference] of expected.entries()) {
    assert.deepEqual(actual[index].shape, reference.shape, `${label}: output ${index} shape`);
    let scale = 0;
    let worst = 0;
    for (let i = 0; i < reference.values.length; i++) {
      const a = reference.values[i];
      const b = actual[index].values[i];
      if (Number.isNaN(a) || Number.isNaN(b)) {
        assert.ok(Number.isNaN(a) && Number.isNaN(b), `${label}: NaN at ${i} (${a} vs ${b})`);
        continue;
      }
      if (!Number.isFinite(a) || !Number.isFinite(b)) {
        assert.equal(b, a, `${label}: infinity at ${i}`);
        continue;
      }
      scale = Math.max(scale, Math.abs(a));
      worst = Math.max(worst, Math.abs(a - b));
    }
    const relative = scale > 0 ? worst / scale : worst;
    assert.ok(relative <= tolerance, `${label}: output ${index} differs by ${relative.toExponential(2)} relative`);
  }
}

let seed = 1;

test('broadcast layouts merge axes that move together and drop axes of size 1', () => {
  const layout = broadcastLayout([128, 28, 28, 1], [128, 28, 28, 1], [128, 28, 28, 1]);
  assert.deepEqual([...layout.shape], [128 * 28 * 28]);
  const bias = broadcastLayout([128, 400], [128, 400], [400]);
  assert.deepEqual([[...bias.shape], [...bias.stridesA], [...bias.stridesB]], [[128, 400], [400, 1], [0, 1]]);
  const column = broadcastLayout([5, 7], [5, 1], [1, 7]);
  assert.deepEqual([[...column.shape], [...column.stridesA], [...column.stridesB]], [[5, 7], [1, 0], [0, 1]]);
});

test('matmul: every transpose combination, batches that broadcast, odd sizes', { skip }, async () => {
  const cases: [number[], number[]][] = [[[7, 5], [5, 3]], [[1, 33], [33, 1]], [[65, 17], [17, 129]], [[3, 4, 6], [3, 6, 2]], [[3, 4, 6], [1, 6, 2]], [[1, 4, 6], [3, 6, 2]], [[2, 3, 4, 5], [2, 3, 5, 6]], [[2, 3, 4, 5], [5, 6]], [[128, 784], [784, 400]]];
  for (const [shapeA, shapeB] of cases) {
    for (const transposeA of [false, true]) {
      for (const transposeB of [false, true]) {
        const a = shapeA.slice();
        const b = shapeB.slice();
        if (transposeA) [a[a.length - 1], a[a.length - 2]] = [a[a.length - 2], a[a.length - 1]];
        if (transposeB) [b[b.length - 1], b[b.length - 2]] = [b[b.length - 2], b[b.length - 1]];
        const first = seed++;
        await compare(`matmul ${a}×${b} (${transposeA}, ${transposeB})`, () => tf.matMul(tf.randomUniform(a, -1, 1, 'float32', first), tf.randomUniform(b, -1, 1, 'float32', first + 1), transposeA, transposeB));
      }
    }
  }
});

test('fused matmul: bias shapes and activations', { skip }, async () => {
  for (const activation of ['linear', 'relu', 'sigmoid', 'elu'] as const) {
    for (const biasShape of [[9], [1, 9], [6, 9], undefined]) {
      for (const transposeB of [false, true]) {
        const first = seed;
        seed += 3;
        await compare(`fused matmul ${activation} bias ${biasShape} transposeB ${transposeB}`, () => tf.fused.matMul({
          a: tf.randomUniform([6, 11], -1, 1, 'float32', first),
          b: tf.randomUniform(transposeB ? [9, 11] : [11, 9], -1, 1, 'float32', first + 1),
          transposeB,
          bias: biasShape ? tf.randomUniform(biasShape, -1, 1, 'float32', first + 2) : undefined,
          activation,
        }));
      }
    }
  }
});

test('elementwise binary ops with broadcasting, and unary ops over their domains', { skip }, async () => {
  const shapes: [number[], number[]][] = [[[5, 7], [5, 7]], [[5, 7], [7]], [[5, 1], [1, 7]], [[2, 3, 4], [3, 1]], [[], [4, 3]], [[4, 3], []], [[128, 28, 28, 1], [128, 28, 28, 1]], [[128, 400], [400]], [[2, 1, 3, 1], [1, 4, 1, 5]], [[0, 3], [3]]];
  const ops: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [['add', tf.add], ['sub', tf.sub], ['mul', tf.mul], ['div', tf.div], ['maximum', tf.maximum], ['minimum', tf.minimum], ['squaredDifference', tf.squaredDifference]];
  for (const [name, op] of ops) {
    for (const [shapeA, shapeB] of shapes) {
      const first = seed;
      seed += 2;
      await compare(`${name} ${JSON.stringify(shapeA)} ${JSON.stringify(shapeB)}`, () => op(tf.randomUniform(shapeA, -2, 2, 'float32', first), tf.randomUniform(shapeB, 0.5, 2, 'float32', first + 1)));
    }
  }
  const unary: [string, (x: tf.Tensor) => tf.Tensor, number, number][] = [
    ['neg', tf.neg, -3, 3], ['exp', tf.exp, -5, 5], ['log', tf.log, 0.01, 10], ['log1p', tf.log1p, -0.9, 10], ['sqrt', tf.sqrt, 0, 9], ['rsqrt', tf.rsqrt, 0.01, 9],
    ['square', tf.square, -3, 3], ['abs', tf.abs, -3, 3], ['relu', tf.relu, -3, 3], ['sigmoid', tf.sigmoid, -20, 20], ['softplus', tf.softplus, -20, 20], ['tanh', tf.tanh, -5, 5],
    ['step', (x) => tf.step(x, 0.25), -3, 3], ['reciprocal', tf.reciprocal, 0.1, 4],
  ];
  for (const [name, op, low, high] of unary) {
    for (const shape of [[17], [3, 5, 7], [128, 784]]) {
      const first = seed++;
      await compare(`${name} ${shape}`, () => op(tf.randomUniform(shape, low, high, 'float32', first)));
    }
  }
  for (const [shape, splits, axis] of [[[128, 40], 2, 1], [[6, 9, 4], [2, 3, 4], 1], [[6, 9, 4], 3, 0], [[5, 7], [1, 6], -1]] as const) {
    const first = seed++;
    await compare(`split ${shape} into ${splits} along ${axis}`, () => tf.split(tf.randomUniform(shape as unknown as number[], -1, 1, 'float32', first), splits as number | number[], axis));
  }
  const castSeed = seed++;
  await compare('float32 tensors cast from bool and int32 (which keep their Uint8Array and Int32Array) as operands', () => {
    const x = tf.randomUniform([4, 6], -1, 1, 'float32', castSeed);
    const mask = tf.cast(tf.greater(x, 0), 'float32');
    const counts = tf.cast(tf.tensor2d([1, 2, 3, 4, 5, 6], [6, 1], 'int32'), 'float32');
    return [tf.mul(mask, x), tf.add(counts, 0.5), tf.exp(mask), tf.sum(mask, 1), tf.matMul(x, counts), bernoulliNllPerExample(x, mask)];
  });
  await compare('NaN and infinities pass through as in TF.js', () => {
    const x = tf.tensor1d([NaN, Infinity, -Infinity, 0, -0, 1]);
    return [tf.relu(x), tf.step(x), tf.maximum(x, 0.5), tf.minimum(x, 0.5), tf.exp(x), tf.sigmoid(x)];
  });
});

test('reductions: sum, mean, max and min over every axis set, with and without keepDims', { skip }, async () => {
  const shape = [4, 5, 6, 3];
  const axisSets = [[0], [1], [3], [1, 2], [0, 1], [1, 2, 3], [0, 1, 2, 3], [0, 2], [-1], [3, 0]];
  for (const [name, op] of [['sum', tf.sum], ['mean', tf.mean], ['max', tf.max], ['min', tf.min]] as const) {
    for (const axes of axisSets) {
      for (const keepDims of [false, true]) {
        const first = seed++;
        await compare(`${name} axes ${axes} keepDims ${keepDims}`, () => op(tf.randomUniform(shape, -3, 3, 'float32', first), axes, keepDims));
      }
    }
  }
  const row = seed++;
  await compare('sum of a large row accumulates in double precision', () => tf.sum(tf.randomUniform([1, 1_000_000], 0, 1, 'float32', row), 1), 1e-7);
});

/** Distance from `got` to the float32 nearest `exact`, in units in the last place of that float. */
function ulps(got: number, exact: number): number {
  const nearest = Math.fround(exact);
  if (got === nearest) return 0;
  const bits = new Float32Array([nearest]);
  const view = new Int32Array(bits.buffer);
  view[0] += 1;
  const next = bits[0];
  const step = Number.isFinite(next) && next !== nearest ? Math.abs(next - nearest) : Math.abs(nearest) * 2 ** -23;
  return Math.abs(got - exact) / step;
}

test('vectorised exp, log and log1p: within 2.5 ulp over the float range, with IEEE special values', { skip }, () => {
  // Every 4099th float32 bit pattern: about a million values, all signs and exponents, denormals included.
  const count = Math.floor(2 ** 32 / 4099);
  const bits = Uint32Array.from({ length: count }, (_, index) => index * 4099);
  const x = new Float32Array(bits.buffer);
  const out = new Float32Array(count);
  for (const [name, op, exact] of [['exp', 1, Math.exp], ['log', 2, Math.log], ['log1p', 3, Math.log1p]] as const) {
    addon!.unary(op, x, out, 0);
    let worst = 0;
    let at = 0;
    for (let i = 0; i < count; i++) {
      const expected = exact(x[i]);
      if (Number.isNaN(expected)) {
        assert.ok(Number.isNaN(out[i]), `${name}(${x[i]}) is NaN, not ${out[i]}`);
        continue;
      }
      if (!Number.isFinite(Math.fround(expected))) {
        assert.equal(out[i], Math.fround(expected), `${name}(${x[i]})`);
        continue;
      }
      const error = ulps(out[i], expected);
      if (error > worst) [worst, at] = [error, x[i]];
    }
    assert.ok(worst <= 2.5, `${name}: ${worst.toFixed(2)} ulp at ${at}`);
    // Lengths that are not a multiple of the vector width take the padded tail path.
    for (let length = 1; length <= 17; length++) {
      const values = Float32Array.from({ length }, (_, index) => 0.05 + index * 0.7);
      const results = new Float32Array(length);
      addon!.unary(op, values, results, 0);
      for (let i = 0; i < length; i++) assert.ok(ulps(results[i], exact(values[i])) <= 2.5, `${name} of ${length} values, element ${i}: ${results[i]} for ${exact(values[i])}`);
    }
  }
  const special = new Float32Array([0, -0, Infinity, -Infinity, NaN, -1, -2, 88.72, 88.73, -103, -110]);
  const result = new Float32Array(special.length);
  addon!.unary(1, special, result, 0);
  assert.deepEqual([...result].map(String), [...special].map((value) => String(Math.fround(Math.exp(value)))));
  addon!.unary(3, special, result, 0);
  assert.deepEqual([...result].slice(0, 7).map(String), ['0', '0', 'Infinity', 'NaN', 'NaN', '-Infinity', 'NaN']);
});

test('the fused Bernoulli negative log-likelihood and its gradient match the composed ops', { skip }, async () => {
  const cases: [number[], number][] = [[[5, 3, 3, 1], 3], [[128, 28, 28, 1], 8], [[3, 10], 30], [[7, 13], 100]];
  for (const [shape, scale] of cases) {
    const first = seed;
    seed += 2;
    // On cpu there is no fused kernel, so the reference is the composed form; large logits check the stable branch.
    await compare(`bernoulli nll ${shape} logits ±${scale}`, () => {
      const logits = tf.randomUniform(shape, -scale, scale, 'float32', first);
      const x = tf.randomUniform(shape, 0, 1, 'float32', first + 1);
      const weights = tf.linspace(0.5, 1.5, shape[0]);
      const gradient = tf.grad((l: tf.Tensor) => tf.sum(tf.mul(bernoulliNllPerExample(l, x), weights)))(logits);
      return [bernoulliNllPerExample(logits, x), gradient];
    });
  }
  await selectBackend('native');
  assert.ok(tf.getKernel('LatentLabBernoulliNll', 'native'), 'the native backend has the fused kernel');
});

test('work split across threads: large matmuls, elementwise ops, reductions, convolutions and Adam match stock cpu', { skip, timeout: 300_000 }, async () => {
  // These sizes pass the addon's thresholds for splitting work; two threads even on one core.
  addon!.setThreads(2);
  try {
    for (const [transposeA, transposeB] of [[false, false], [true, false], [false, true], [true, true]]) {
      const first = seed;
      seed += 2;
      const a = transposeA ? [784, 256] : [256, 784];
      const b = transposeB ? [400, 784] : [784, 400];
      await compare(`split matmul ${a}×${b}`, () => tf.matMul(tf.randomUniform(a, -1, 1, 'float32', first), tf.randomUniform(b, -1, 1, 'float32', first + 1), transposeA, transposeB));
    }
    const first = seed;
    seed += 3;
    await compare('split elementwise and reductions', () => {
      const x = tf.randomUniform([1500, 400], -3, 3, 'float32', first);
      const bias = tf.randomUniform([400], -1, 1, 'float32', first + 1);
      const y = tf.randomUniform([1500, 400], -3, 3, 'float32', first + 2);
      return [tf.add(x, bias), tf.mul(x, y), tf.exp(x), tf.log1p(tf.abs(x)), tf.sum(x, 1), tf.sum(x, 0), tf.mean(x), tf.max(x, 1)];
    });
    const shape: Shape4 = [32, 28, 28, 8];
    await compare('split conv2d and its gradients', () => {
      const x = tf.randomUniform(shape, -1, 1, 'float32', first) as tf.Tensor4D;
      const filter = tf.randomUniform([3, 3, 8, 32], -1, 1, 'float32', first + 1) as tf.Tensor4D;
      const dy = tf.randomUniform([32, 28, 28, 32], -1, 1, 'float32', first + 2) as tf.Tensor4D;
      // conv2dTranspose is Conv2DBackpropInput.
      return [tf.conv2d(x, filter, 1, 'same'), tf.conv2dTranspose(dy, filter, shape, 1, 'same')];
    });
    await compare('split conv2d filter gradient', () => {
      const x = tf.randomUniform(shape, -1, 1, 'float32', first) as tf.Tensor4D;
      const filter = tf.variable(tf.randomUniform([3, 3, 8, 32], -1, 1, 'float32', first + 1), true, `filter${first}`);
      const { grads } = tf.variableGrads(() => tf.sum(tf.square(tf.conv2d(x, filter as tf.Tensor4D, 1, 'same'))) as tf.Scalar, [filter]);
      filter.dispose();
      return Object.values(grads);
    }, 2e-5);
    await compare('split Adam update', () => {
      const variable = tf.variable(tf.randomUniform([784, 400], -1, 1, 'float32', first), true, `adam${first}`);
      const optimizer = new Optimizer(withDefaults('train', {}), [variable]);
      for (let step = 0; step < 3; step++) tf.tidy(() => optimizer.apply([tf.randomUniform([784, 400], -1, 1, 'float32', first + step + 1)], 1e-3));
      const result = variable.clone();
      optimizer.dispose();
      variable.dispose();
      return result;
    });
  } finally {
    addon!.setThreads(nativeThreads());
  }
});

test('changing the thread count just before a kernel never deadlocks', { skip, timeout: 60_000 }, () => {
  const a = new Float32Array(256 * 256).fill(1);
  const c = new Float32Array(256 * 256);
  try {
    for (let round = 0; round < 200; round++) {
      addon!.setThreads(1 + (round % 3));
      addon!.gemm(false, false, 256, 256, 256, a, a, c, 1, 0, 0, 0, 1, 0);
      assert.equal(c[0], 256);
    }
  } finally {
    addon!.setThreads(nativeThreads());
  }
  assert.equal(addon!.info().threads, nativeThreads());
});

// Dilation is forward-only: TF.js has no gradient for dilated convolutions.
const CASES = [...CONV_CASES, { x: [2, 12, 12, 3] as Shape4, filter: [3, 3, 3, 4] as Shape4, stride: 1, pad: 'same' as const, dilation: 2 }];

test('conv2d, its input and filter gradients and conv2dTranspose: strides, padding, dilation, odd sizes', { skip }, async () => {
  for (const [index, { x: xShape, filter, stride, pad, ...rest }] of CASES.entries()) {
    const dilation = 'dilation' in rest ? rest.dilation : undefined;
    const first = seed;
    seed += 3;
    await compare(`conv case ${index} ${JSON.stringify(CASES[index])}`, () => {
      const x = tf.randomUniform(xShape, -1, 1, 'float32', first);
      const weights = tf.randomUniform(filter, -1, 1, 'float32', first + 1);
      const forward = tf.conv2d(x as tf.Tensor4D, weights as tf.Tensor4D, stride, pad, 'NHWC', dilation ?? 1);
      if (dilation) return [forward];
      const dy = tf.randomUniform(forward.shape, -1, 1, 'float32', first + 2);
      const [inputGradient, filterGradient] = tf.grads((input: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(input as tf.Tensor4D, w as tf.Tensor4D, stride, pad), dy)))([x, weights]);
      const parts = [forward, inputGradient, filterGradient];
      if (typeof pad === 'string') parts.push(tf.conv2dTranspose(dy as tf.Tensor4D, weights as tf.Tensor4D, xShape, stride, pad));
      return parts;
    });
  }
});

/**
 * 20 seeded training steps of a sample's model, the engine's way: its own data (the real datasets
 * from ../shared/data, sprites generated), batches, optimizer and learning rate.
 */
async function trainer(file: string, batch?: number, steps = 20): Promise<() => number[]> {
  const experiment = loadExperiment(readFileSync(file, 'utf8'), file);
  const data = cellConfig(experiment, 'data')!;
  const modelConfig = cellConfig(experiment, 'model')!;
  const trainConfig = cellConfig(experiment, 'train')!;
  const seed = experiment.frontMatter.seed;
  const dataset = await loadDataset(data, { dataDir: SHARED_DATA, baseDir: path.dirname(file), seed });
  const size = batch ?? data.batch;
  return () => {
    const model = buildModelFor(experiment, data, modelConfig, seed, dataset.shape, dataset.classes.length);
    const variables = trainableVariables(model);
    const optimizer = new Optimizer(trainConfig, variables);
    const needs = batchNeeds(model);
    const losses: number[] = [];
    for (let step = 0; step < steps; step++) {
      const indices = Uint32Array.from({ length: size }, (_, index) => (step * size + index) % dataset.train.count);
      const inputs = batchInputs(dataset.train, indices, dataset.shape, data.binarize, mixSeed(seed, 2, step), needs);
      model.noise.seed = mixSeed(seed, 4, step);
      const { value, grads } = tf.variableGrads(() => lossTerms(model, inputs, { training: true, seed: mixSeed(seed, 3, step), schedule: regularizerSchedule(modelConfig, step, 100) }).loss, variables);
      losses.push(value.dataSync()[0]);
      tf.tidy(() => optimizer.apply(variables.map((variable) => grads[variable.name]), trainConfig.lr));
      tf.dispose([value, inputs.x, inputs.labels, inputs.mask, ...Object.values(grads)].filter((tensor) => tensor !== undefined));
    }
    optimizer.dispose();
    disposeAutoencoder(model);
    return losses;
  };
}

const DATASET_FOLDERS: Record<string, string> = { mnist: 'mnist', cifar10: 'cifar10' };

test('seeded training steps of every sample\'s model match the stock cpu backend within 1e-4', { skip, timeout: 900_000 }, async (context) => {
  const samples = path.resolve(__dirname, '..', '..', 'samples');
  for (const name of readdirSync(samples).filter((file) => file.endsWith('.aexp')).sort()) {
    const file = path.join(samples, name);
    const dataset = cellConfig(loadExperiment(readFileSync(file, 'utf8'), file), 'data')!.dataset;
    if (DATASET_FOLDERS[dataset] && !sharedData(DATASET_FOLDERS[dataset])) {
      context.diagnostic(`${name}: skipped, ${skipMessage(DATASET_FOLDERS[dataset])}`);
      continue;
    }
    // Small batches keep the stock reference affordable: its matmuls are plain loops, and its
    // convolution gradients take seconds per image (the conv sample's 20 steps cost it about five
    // minutes at batch 4). Batch 4, not 2, for the conv sample: with batch norm over 2 images the
    // model amplifies any change in the order of float sums (BLAS vs TF.js's loops) to 1e-4 by
    // step 8, which would measure chaos, not kernels; over 4 images it stays near 4e-7.
    const conv = name.includes('conv');
    const train = await trainer(file, conv ? 4 : 8, 20);
    const loaded = performance.now();
    await selectBackend('cpu');
    const expected = train();
    const stock = performance.now();
    await selectBackend('native');
    const actual = train();
    context.diagnostic(`${name}: stock cpu ${((stock - loaded) / 1000).toFixed(1)} s, native ${((performance.now() - stock) / 1000).toFixed(1)} s`);
    let worst = 0;
    for (let step = 0; step < expected.length; step++) worst = Math.max(worst, Math.abs(actual[step] - expected[step]) / Math.abs(expected[step]));
    assert.ok(worst <= 1e-4, `${name}: the losses differ by ${worst.toExponential(2)} relative (cpu ${expected.slice(-3)}, native ${actual.slice(-3)})`);
    context.diagnostic(`${name}: ${expected.length} steps, largest relative loss difference ${worst.toExponential(2)}`);
  }
});

test('no tensor or buffer leaks from one training run to the next, and outputs are recycled', { skip }, async () => {
  await selectBackend('native');
  const backend = tf.backend() as NativeBackend;
  const train = await trainer(path.resolve(__dirname, '..', '..', 'samples', 'quickstart.aexp'), 32);
  train();
  const tensors = tf.memory().numTensors;
  const buffers = backend.numDataIds();
  const recycled = backend.recycled;
  const allocated = backend.allocated;
  train();
  assert.equal(tf.memory().numTensors, tensors, 'tensors');
  assert.equal(backend.numDataIds(), buffers, 'buffers');
  const reused = backend.recycled - recycled;
  const fresh = backend.allocated - allocated;
  // A fresh array costs page faults (159 µs for 100K floats against 25 reused): nearly every output must come from the pool.
  assert.ok(reused > 100 && fresh * 20 < reused, `output arrays come from the pool (${reused} recycled, ${fresh} newly allocated)`);
});

test('a recycled buffer is never one that escaped: dataSync, data, slices, reshapes and user arrays keep their values', { skip }, async () => {
  await selectBackend('native');
  const length = 4096;
  const churn = () => {
    // Enough same-sized outputs, created and freed, to hand every free array of that size out again.
    for (let round = 0; round < 50; round++) tf.tidy(() => tf.mul(tf.add(tf.fill([length], round), 1), 3));
  };
  const synced = tf.tidy(() => tf.add(tf.fill([length], 5), 2));
  const syncedValues = synced.dataSync();
  synced.dispose();
  const awaited = tf.tidy(() => tf.add(tf.fill([length], 8), 1));
  const awaitedValues = await awaited.data();
  awaited.dispose();
  const parent = tf.tidy(() => tf.add(tf.fill([2, length / 2], 4), 0));
  const slice = tf.slice(parent, [1, 0], [1, length / 2]);
  parent.dispose();
  // A reshape shares its input's data entry: the entry's reference count, not the pool, keeps it alive.
  const base = tf.tidy(() => tf.add(tf.fill([length], 3), 0));
  const reshaped = tf.reshape(base, [2, length / 2]);
  base.dispose();
  const mine = new Float32Array(length).fill(6);
  const wrapped = tf.tensor1d(mine);
  const doubled = tf.mul(wrapped, 2);
  wrapped.dispose();
  churn();
  assert.ok(syncedValues.every((value) => value === 7), 'an array from dataSync() keeps its values after its tensor is gone');
  assert.ok(awaitedValues.every((value) => value === 9), 'an array from data() keeps its values');
  assert.ok(slice.dataSync().every((value) => value === 4), 'a slice sharing its parent\'s memory keeps its values');
  assert.ok(mine.every((value) => value === 6), 'an array user code handed to tf.tensor is never written to');
  assert.ok(reshaped.dataSync().every((value) => value === 3), 'a reshaped tensor keeps its values after the original is disposed');
  reshaped.dispose();
  assert.ok(doubled.dataSync().every((value) => value === 12));
  slice.dispose();
  doubled.dispose();

  // And the pool does work: a plain intermediate's array is handed out again.
  const backend = tf.backend() as NativeBackend;
  const before = backend.recycled;
  churn();
  assert.ok(backend.recycled > before, 'intermediates are recycled');
});
