import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../runtime/backends/select';
import { runExperiment } from '../../runtime/engine';
import { loadAddon } from '../../runtime/backends/native/addon';
import type { EngineEvent, MetricsRecord } from '../../runtime/protocol';
import { loadCheckpoint } from '../../runtime/train/checkpoint';
import { Optimizer, clipGradients, learningRate } from '../../runtime/train/optimizers';
import { trainingStep } from '../../runtime/train/step';
import type { TrainConfig } from '../../runtime/format/schema';
import { withDefaults } from '../../runtime/format/validate';
import { buildAutoencoder, disposeAutoencoder, trainableVariables } from '../../runtime/model/build';
import { parseLayer } from '../../runtime/format/layers';
import type { LayerSpec } from '../../runtime/format/layers';
import { tinyExperiment } from '../helpers/experiments';
import { temporaryDirectory } from '../helpers/temp';

function records(runDir: string): MetricsRecord[] {
  return readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as MetricsRecord);
}

test('a run writes a complete run folder, and the tensor count stays constant across epochs', async () => {
  const directory = temporaryDirectory();
  const events: EngineEvent[] = [];
  const result = await runExperiment({ file: tinyExperiment(directory, { epochs: 3 }), outDir: path.join(directory, 'runs'), onEvent: (event) => events.push(event) });
  assert.equal(result.status, 'completed');
  const files = readdirSync(result.runDir).sort();
  assert.deepEqual(files, ['checkpoints', 'config.json', 'experiment.aexp', 'images', 'metrics.jsonl', 'model', 'outputs.json', 'summary.json', 'views']);
  assert.equal(readFileSync(path.join(result.runDir, 'experiment.aexp'), 'utf8'), readFileSync(path.join(directory, 'tiny.aexp'), 'utf8'));
  const summary = JSON.parse(readFileSync(path.join(result.runDir, 'summary.json'), 'utf8'));
  // auto: native where its addon was built, else wasm (no GPU here).
  assert.equal(summary.backend, loadAddon().addon ? 'native' : 'wasm');
  assert.equal(summary.epochs, 3);
  assert.equal(summary.units, 'nats');
  for (const key of ['loss', 'reconstruction', 'kl']) assert.ok(Number.isFinite(summary.test[key]), `summary.test.${key}`);
  // Three float32 means: they add up to rounding.
  assert.ok(Math.abs(summary.test.loss - summary.test.reconstruction - summary.test.kl) < 1e-6 * Math.abs(summary.test.loss));

  const epochs = records(result.runDir).filter((record) => record.kind === 'epoch');
  assert.equal(epochs.length, 3);
  const tensors = epochs.map((record) => record.tensors);
  assert.ok(tensors.every((count) => count === tensors[0]), `tensors per epoch: ${tensors}`);
  const testLoss = epochs.map((record) => (record.test as { loss: number }).loss);
  assert.ok(testLoss[2] < testLoss[0], `test loss falls: ${testLoss}`);

  assert.ok(existsSync(path.join(result.runDir, 'checkpoints', 'last.ckpt')) && existsSync(path.join(result.runDir, 'checkpoints', 'best.ckpt')));
  const checkpoint = loadCheckpoint(path.join(result.runDir, 'checkpoints', 'last.ckpt'));
  assert.equal(checkpoint.position.epoch, 3);
  assert.equal(checkpoint.optimizer.name, 'adam');
  assert.ok(checkpoint.optimizer.slots.length === 2 * 8);
  const images = readdirSync(path.join(result.runDir, 'images'));
  assert.ok(images.includes('epoch-003-reconstructions.png') && images.includes('epoch-003-samples.png') && images.includes('reconstructions.png'));
  const exported = JSON.parse(readFileSync(path.join(result.runDir, 'model', 'decoder', 'model.json'), 'utf8'));
  assert.equal(exported.format, 'layers-model');
  assert.equal(exported.weightsManifest[0].paths[0], 'weights.bin');
  assert.ok(events.some((event) => event.type === 'cellOutput' && event.cell === 'model' && /parameters/.test(event.text)));
  assert.ok(events.some((event) => event.type === 'cellOutput' && event.cell === 'evaluate' && /elbo/.test(event.text)));
  assert.ok(events.some((event) => event.type === 'image' && event.cell === 'reconstruct'));
});

test('a cancelled run leaves a checkpoint; resuming it gives exactly the uninterrupted result', async () => {
  const directory = temporaryDirectory();
  const file = tinyExperiment(directory, { epochs: 2 });
  const straight = await runExperiment({ file, outDir: path.join(directory, 'a') });

  const controller = new AbortController();
  const stopped = await runExperiment({
    file,
    outDir: path.join(directory, 'b'),
    signal: controller.signal,
    onEvent: (event) => {
      if (event.type === 'progress' && event.epoch === 1 && event.step === 13) controller.abort();
    },
  });
  assert.equal(stopped.status, 'stopped');
  const position = loadCheckpoint(path.join(stopped.runDir, 'checkpoints', 'last.ckpt')).position;
  assert.deepEqual([position.epoch, position.batch, position.globalStep], [0, 13, 13]);
  assert.deepEqual(stopped.summary.stoppedAt, { epoch: 1, batch: 13 }, 'where it stopped, as people count epochs');
  assert.equal(stopped.summary.stoppedBy, 'cancelled');
  assert.equal(stopped.summary.message, 'stopped at epoch 1, batch 13', 'the message names no command: each front end says how to continue');

  const resumedEvents: EngineEvent[] = [];
  const resumed = await runExperiment({ file: '', resume: stopped.runDir, onEvent: (event) => resumedEvents.push(event) });
  assert.equal(resumed.status, 'completed');
  // The notebook's chart marks where the curve goes on: the resume is sent as it is recorded.
  assert.deepEqual(resumedEvents.flatMap((event) => (event.type === 'metrics' && event.record.kind === 'resume' ? [event.record.step] : [])), [13]);
  assert.equal(resumed.runDir, stopped.runDir);
  assert.equal(resumed.summary.epochs, 2);
  assert.equal(resumed.summary.steps, straight.summary.steps);
  assert.ok(Math.abs(resumed.summary.test!.loss - straight.summary.test!.loss) < 1e-9, `${resumed.summary.test!.loss} vs ${straight.summary.test!.loss}`);

  // Continue training: more epochs on a finished run.
  const before = Date.now();
  const continued = await runExperiment({ file: '', resume: stopped.runDir, epochs: 3 });
  const session = (Date.now() - before) / 1000;
  assert.equal(continued.summary.epochs, 3);
  // Its time counts every session that trained it: the earlier ones, plus this one.
  const added = continued.summary.durationSeconds - resumed.summary.durationSeconds;
  assert.ok(added >= 0 && added <= session + 1e-3, `${continued.summary.durationSeconds} s in all after ${resumed.summary.durationSeconds} s, with a ${session} s session`);
  assert.equal(records(stopped.runDir).filter((record) => record.kind === 'epoch').length, 3);
});

test('a finished run with unchanged data, model and train cells is reused; a changed or stopped one is not', async () => {
  const directory = temporaryDirectory();
  const file = tinyExperiment(directory, { epochs: 1 });
  const outDir = path.join(directory, 'runs');
  const first = await runExperiment({ file, outDir });

  const events: EngineEvent[] = [];
  const again = await runExperiment({ file, outDir, reuse: true, onEvent: (event) => events.push(event) });
  assert.equal(again.runDir, first.runDir);
  assert.equal(again.status, 'completed');
  assert.ok(again.summary.reused, 'the summary says the model was reused');
  assert.equal(events.filter((event) => event.type === 'progress').length, 0, 'no training step ran');
  assert.equal(again.summary.test!.loss, first.summary.test!.loss, 'the same weights give the same test loss');
  assert.equal(events.filter((event) => event.type === 'metrics' && event.record.kind === 'epoch').length, 1, 'the training history is shown again');
  assert.ok(events.some((event) => event.type === 'image' && event.cell === 'train' && existsSync(event.path)));
  assert.ok(events.some((event) => event.type === 'cellOutput' && event.cell === 'train' && /reused the model trained in/.test(event.text)));
  assert.equal(JSON.parse(readFileSync(path.join(first.runDir, 'summary.json'), 'utf8')).reused, undefined, 'summary.json stays the record of the training');

  const changed = tinyExperiment(directory, { epochs: 1, train: 'lr: 2e-3' });
  const retrained = await runExperiment({ file: changed, outDir, reuse: true });
  assert.notEqual(retrained.runDir, first.runDir);
  assert.equal(retrained.summary.reused, undefined);

  const controller = new AbortController();
  const shutDown = await runExperiment({ file: tinyExperiment(directory, { epochs: 1, train: 'lr: 3e-3' }), outDir, reuse: true, signal: controller.signal, onEvent: (event) => event.type === 'progress' && controller.abort('shutdown') });
  assert.equal(shutDown.status, 'stopped');
  assert.equal(shutDown.summary.stoppedBy, 'shutdown');
  const afterStop = await runExperiment({ file: tinyExperiment(directory, { epochs: 1, train: 'lr: 3e-3' }), outDir, reuse: true });
  assert.notEqual(afterStop.runDir, shutDown.runDir, 'a stopped run is continued or retrained, never reused');
});

test('a diverging loss stops the run with a clear message and keeps the last good checkpoint', async () => {
  const directory = temporaryDirectory();
  // A sane first epoch, then a step schedule that multiplies the rate by a million.
  const file = tinyExperiment(directory, { epochs: 3, train: 'optimizer: sgd\nlr: 1e-3\nschedule: step\nstep_size: 1\ngamma: 1e7' });
  const result = await runExperiment({ file, outDir: path.join(directory, 'runs') });
  assert.equal(result.status, 'diverged');
  assert.match(result.summary.message!, /the loss became (NaN|Infinity|-Infinity) at epoch 2, step \d+/);
  const summary = JSON.parse(readFileSync(path.join(result.runDir, 'summary.json'), 'utf8'));
  assert.equal(summary.status, 'diverged');
  const kept = loadCheckpoint(path.join(result.runDir, 'checkpoints', 'last.ckpt'));
  assert.equal(kept.position.epoch, 1, 'the checkpoint of the last good epoch is kept');
  for (const weight of kept.weights) assert.ok(weight.values.every(Number.isFinite), 'the kept checkpoint holds finite weights');
});

test('a diverging loss never calls a damaged checkpoint the last good one', async () => {
  const directory = temporaryDirectory();
  const file = tinyExperiment(directory, { epochs: 3, train: 'optimizer: sgd\nlr: 1e-3\nschedule: step\nstep_size: 1\ngamma: 1e7' });
  let damaged = false;
  let runDir = '';
  const result = await runExperiment({
    file,
    outDir: path.join(directory, 'runs'),
    onEvent: (event) => {
      // Once epoch 2 is under way (epoch 1's checkpoint is written), damage that checkpoint on disk.
      if (event.type === 'runFolder') runDir = event.runDir;
      if (event.type === 'progress' && event.epoch === 2 && !damaged) {
        const last = path.join(runDir, 'checkpoints', 'last.ckpt');
        const bytes = readFileSync(last);
        bytes[bytes.length >> 1] ^= 0xff;
        writeFileSync(last, bytes);
        damaged = true;
      }
    },
  });
  assert.equal(result.status, 'diverged');
  assert.doesNotMatch(result.summary.message!, /last good checkpoint/);
  assert.ok(result.summary.message!.includes(`there is no good checkpoint (${path.join(result.runDir, 'checkpoints', 'last.ckpt')}: checksum mismatch (the file is damaged))`), result.summary.message);
});

const baseConfig: TrainConfig = { epochs: 1, optimizer: 'adam', lr: 0.1, betas: [0.9, 0.999], epsilon: 1e-8, weight_decay: 0, schedule: 'constant', step_size: 1, gamma: 0.1, min_lr: 0, warmup_steps: 0, checkpoint_every: 0, validate: true, log_every: 50 };

test('optimizers follow PyTorch update rules (one step, computed by hand)', async () => {
  await selectBackend('cpu');
  const step = (config: Partial<TrainConfig>, steps = 1) => {
    const variable = tf.variable(tf.tensor1d([1, -2]));
    const optimizer = new Optimizer({ ...baseConfig, ...config }, [variable]);
    for (let index = 0; index < steps; index++) tf.tidy(() => optimizer.apply([tf.tensor1d([0.5, 0.25])], 0.1));
    const values = Array.from(variable.dataSync());
    optimizer.dispose();
    variable.dispose();
    return values;
  };
  const close = (actual: number[], expected: number[]) => actual.forEach((value, index) => assert.ok(Math.abs(value - expected[index]) < 1e-6, `${actual} vs ${expected}`));
  // Adam's first step moves each weight by lr·sign(g) (bias-corrected m/√v = g/|g|).
  close(step({ optimizer: 'adam' }), [1 - 0.1, -2 - 0.1]);
  // AdamW decays the weight by lr·wd first, decoupled from the gradient.
  close(step({ optimizer: 'adamw', weight_decay: 0.5 }), [1 * (1 - 0.05) - 0.1, -2 * (1 - 0.05) - 0.1]);
  // Adam with weight_decay adds wd·w to the gradient (L2): still a sign step here.
  close(step({ optimizer: 'adam', weight_decay: 0.5 }), [1 - 0.1, -2 + 0.1]);
  // SGD with momentum 0.9: buffers g, then 0.9·g + g.
  close(step({ optimizer: 'sgd', momentum: 0.9 }, 2), [1 - 0.1 * (0.5 + 1.9 * 0.5), -2 - 0.1 * (0.25 + 1.9 * 0.25)]);
  // RMSprop: square = 0.01·g², step g/(√square + ε) = 10 for any g.
  close(step({ optimizer: 'rmsprop' }), [1 - 0.1 * 0.5 / (Math.sqrt(0.01 * 0.25) + 1e-8), -2 - 0.1 * 0.25 / (Math.sqrt(0.01 * 0.0625) + 1e-8)]);
});

test('learning-rate schedules and gradient clipping', async () => {
  await selectBackend('cpu');
  const config = (overrides: Partial<TrainConfig>) => ({ ...baseConfig, lr: 1, ...overrides });
  assert.equal(learningRate(config({ warmup_steps: 10 }), 4, 100, 1000), 0.5);
  assert.equal(learningRate(config({ schedule: 'step', step_size: 2, gamma: 0.5 }), 450, 100, 1000), 0.25);
  assert.ok(Math.abs(learningRate(config({ schedule: 'cosine', min_lr: 0 }), 500, 100, 1000) - 0.5) < 1e-12);
  assert.ok(learningRate(config({ schedule: 'cosine', min_lr: 0.1 }), 1000, 100, 1000) - 0.1 < 1e-12);
  tf.tidy(() => {
    const { gradients, norm } = clipGradients([tf.tensor1d([3, 0]), tf.tensor1d([0, 4])], { clip_norm: 1 });
    assert.ok(Math.abs(norm!.dataSync()[0] - 5) < 1e-6);
    assert.deepEqual(Array.from(gradients[0].dataSync()).map((v) => Math.round(v * 1e5) / 1e5), [0.6, 0]);
    const byValue = clipGradients([tf.tensor1d([3, -7, 0.5])], { clip_value: 1 }).gradients[0];
    assert.deepEqual(Array.from(byValue.dataSync()), [1, -1, 0.5]);
  });
});

test('the shared training step allocates nothing that outlives it, and a non-finite loss leaves the weights alone', async () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    await selectBackend(backend);
    const config = withDefaults('model', { kind: 'vae', latent: 3, encoder: ['dense 16 relu'] });
    const model = buildAutoencoder(config, { encoder: [parseLayer('dense 16 relu') as LayerSpec], decoder: 'mirror' }, [8, 8, 1], 5);
    const variables = trainableVariables(model);
    const train = withDefaults('train', { clip_norm: 1 });
    const optimizer = new Optimizer(train, variables);
    const x = tf.randomUniform([4, 8, 8, 1], 0, 1, 'float32', 9);
    const first = await trainingStep(model, variables, optimizer, { x }, { seed: 1, train, lr: 1e-3 });
    assert.ok(first.applied && Number.isFinite(first.loss), `${backend}: a first step applies`);
    const warm = tf.memory().numTensors;
    for (let step = 2; step <= 4; step++) await trainingStep(model, variables, optimizer, { x }, { seed: step, train, lr: 1e-3 });
    assert.equal(tf.memory().numTensors, warm, `${backend}: tensors after the warm-up step stay ${warm}`);

    const before = variables.map((variable) => Array.from(variable.dataSync()));
    const poisoned = tf.fill([4, 8, 8, 1], Number.NaN);
    const diverged = await trainingStep(model, variables, optimizer, { x: poisoned }, { seed: 5, train, lr: 1e-3 });
    assert.equal(diverged.applied, false, `${backend}: a NaN loss is not applied`);
    assert.ok(Number.isNaN(diverged.loss));
    assert.deepEqual(variables.map((variable) => Array.from(variable.dataSync())), before, `${backend}: the weights are the last good ones`);
    assert.equal(tf.memory().numTensors, warm + 1, `${backend}: only the poisoned batch remains`);
    tf.dispose([x, poisoned]);
    optimizer.dispose();
    disposeAutoencoder(model);
  }
});
