/** The layer notation beyond dense and conv: parsing, mirroring, training, determinism, checkpoints. */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../runtime/backends/select';
import { loadRunModel, runExperiment } from '../../runtime/engine';
import type { LayerSpec } from '../../runtime/format/layers';
import { formatLayer, isLayerError, parseLayer } from '../../runtime/format/layers';
import type { ModelConfig } from '../../runtime/format/schema';
import { loadExperiment, withDefaults } from '../../runtime/format/validate';
import { allWeights, buildAutoencoder, disposeAutoencoder, mirrorLayers, trainableVariables } from '../../runtime/model/build';
import { forward, lossTerms } from '../../runtime/model/losses';
import { Optimizer } from '../../runtime/train/optimizers';
import { temporaryDirectory } from '../helpers/temp';

const layers = (...texts: string[]) => texts.map((text) => parseLayer(text) as LayerSpec);
const model = (overrides: Partial<ModelConfig>) => withDefaults('model', { kind: 'ae', latent: 8, encoder: ['dense 4'], ...overrides });

test('every layer type parses and prints back; mistakes are located with a suggestion', () => {
  for (const text of ['upsample 2 bilinear', 'upsample 3 nearest', 'pool 2', 'residual 64 k3 relu', 'batchnorm relu', 'batchnorm', 'dropout 0.25', 'conv 8 k5 s2 elu', 'reshape 7x7x64']) {
    const spec = parseLayer(text);
    assert.ok(!isLayerError(spec), text);
    assert.equal(formatLayer(spec), text);
  }
  const typo = parseLayer('upsample 2 bilnear');
  assert.ok(isLayerError(typo) && typo.fix === 'bilinear' && typo.offset === 11, JSON.stringify(typo));
  const rate = parseLayer('dropout 1.5');
  assert.ok(isLayerError(rate) && /rate between 0 and 1/.test(rate.message));
  const stride = parseLayer('residual 8 s2');
  assert.ok(isLayerError(stride) && /unexpected `s2`/.test(stride.message));
  assert.ok(isLayerError(parseLayer('batchnrom')) && (parseLayer('batchnrom') as { fix?: string }).fix === 'batchnorm');
});

test('mirror: strided convs become upsample + conv when asked, pooling becomes upsampling, batch norm follows its shape, skips join each scale', () => {
  const steps = mirrorLayers(layers('conv 16 k3 s2', 'batchnorm relu', 'pool 2', 'conv 32 k3 s1 relu'), [28, 28, 1], { upsample: 'bilinear', skips: true });
  const printed = steps.map((step) => (step.type === 'skip' ? `skip ${step.feature}` : formatLayer(step)));
  assert.deepEqual(printed, [
    'dense 1568 relu', 'reshape 7x7x32',
    'conv 16 k3 s1 relu', 'skip 1',
    'upsample 2 bilinear', 'batchnorm relu', 'skip 0',
    'upsample 2 bilinear', 'conv 1 k3 s1',
  ]);
});

test('a model with every layer type builds to the input shape, trains, and keeps its tensor count from step to step', async () => {
  await selectBackend('wasm');
  const built = buildAutoencoder(model({ encoder: ['conv 8 k3 s2 relu', 'batchnorm relu', 'residual 8', 'dropout 0.2', 'pool 2', 'dense 32 relu'], upsample: 'nearest', skips: true }), { encoder: layers('conv 8 k3 s2 relu', 'batchnorm relu', 'residual 8', 'dropout 0.2', 'pool 2', 'dense 32 relu'), decoder: 'mirror' }, [16, 16, 1], 3);
  assert.deepEqual(built.decoder.outputs[0].shape, [null, 16, 16, 1]);
  assert.ok(built.skipCount >= 2, `skips ${built.skipCount}`);
  const variables = trainableVariables(built);
  const optimizer = new Optimizer(withDefaults('train', {}), variables);
  const x = tf.randomUniform([8, 16, 16, 1], 0, 1, 'float32', 1);
  const losses: number[] = [];
  const counts: number[] = [];
  for (let step = 0; step < 6; step++) {
    built.noise.seed = step;
    const { value, grads } = tf.variableGrads(() => lossTerms(built, { x }, { training: true }).loss, variables);
    losses.push(value.dataSync()[0]);
    tf.tidy(() => optimizer.apply(variables.map((variable) => grads[variable.name]), 1e-2));
    tf.dispose([value, ...Object.values(grads)]);
    counts.push(tf.memory().numTensors);
  }
  assert.ok(losses[5] < losses[0], `loss ${losses[0]} → ${losses[5]}`);
  assert.deepEqual(counts.slice(1), new Array(5).fill(counts[1]), `tensor counts ${counts}`);
  x.dispose();
  optimizer.dispose();
  disposeAutoencoder(built);
});

test('dropout masks follow the step seed: same seed, same mask; another seed, another mask; none at inference', async () => {
  await selectBackend('cpu');
  const built = buildAutoencoder(model({}), { encoder: layers('dense 64 relu', 'dropout 0.5'), decoder: 'mirror' }, [4, 4, 1], 1);
  const x = tf.ones([2, 4, 4, 1]);
  const code = (training: boolean, seed: number) => {
    built.noise.seed = seed;
    return tf.tidy(() => Array.from(forward(built, { x }, { training }).encoded.z.dataSync()));
  };
  assert.deepEqual(code(true, 7), code(true, 7));
  assert.notDeepEqual(code(true, 7), code(true, 8));
  assert.deepEqual(code(false, 7), code(false, 8));
  x.dispose();
  disposeAutoencoder(built);
});

test('batch-norm statistics are saved in checkpoints and restored with the model', async () => {
  const directory = temporaryDirectory();
  const text = '---\nseed: 3\n---\n```data\ndataset: sprites\nsize: 16\ncount: 600\nbatch: 32\n```\n```model\nkind: vae\nlatent: 3\nencoder: [conv 8 k3 s2, batchnorm relu, dense 32 relu]\n```\n```train\nepochs: 1\n```\n';
  const result = await runExperiment({ file: path.join(directory, 'bn.aexp'), text, outDir: path.join(directory, 'runs') });
  const { model: restored } = await loadRunModel(result.runDir);
  const movingMean = restored.encoder.weights.find((weight) => weight.name.includes('moving_mean'))!;
  assert.ok(tf.tidy(() => tf.max(tf.abs(movingMean.read())).dataSync()[0]) > 0, 'moving mean was updated by training and restored');
  assert.equal(allWeights(restored).length, restored.encoder.weights.length + restored.decoder.weights.length);
  disposeAutoencoder(restored);
});

test('kind-specific keys are refused on other kinds, with the reason', () => {
  const experiment = loadExperiment('```data\ndataset: mnist\n```\n```model\nkind: vae\nlatent: 2\nencoder: [dense 8]\nskips: true\nsparsity: 3\n```\n```sample\n```\n', 'k.aexp');
  const messages = experiment.diagnostics.map((diagnostic) => `${diagnostic.start.line}:${diagnostic.start.column} ${diagnostic.message}`);
  assert.ok(messages.some((message) => message.startsWith('8:1 `skips` applies to `ae`, `sparse-ae`, `denoising-ae`, `masked-ae`, not to `vae`: skip connections bypass the bottleneck')), messages.join('\n'));
  assert.ok(messages.some((message) => message.startsWith('9:1 `sparsity` applies to `sparse-ae`, not to `vae`')), messages.join('\n'));
  const ae = loadExperiment('```data\ndataset: mnist\n```\n```model\nkind: denoising-ae\nlatent: 2\nencoder: [dense 8]\n```\n```train\n```\n```sample\n```\n', 'k.aexp');
  assert.ok(ae.diagnostics.some((diagnostic) => /a `denoising-ae` has none/.test(diagnostic.message)));
});
