import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { reconstructionViews } from '../../runtime/analysis/images';
import { loadDataset } from '../../runtime/data';
import { loadRunModel, runExperiment } from '../../runtime/engine';
import { disposeAutoencoder } from '../../runtime/model/build';
import type { EngineEvent } from '../../runtime/protocol';
import { readRunConfig } from '../../runtime/run-folder';
import { quantizePixels, readReconstructViewAsync, readSampleViewAsync, readViewEpochAsync, readViewHistory, readViewHistoryAsync, readViewInputsAsync, truncateViewHistory, viewCellFile, viewEpochFile, viewInputsFile, viewsFolder, writeViewEpoch, writeViewInputs } from '../../runtime/views-data';
import { tinyExperiment } from '../helpers/experiments';
import { temporaryDirectory } from '../helpers/temp';

const root = path.resolve(__dirname, '..', '..');

/** −log p(x | logits) for a Bernoulli decoder plus KL(N(μ, σ²) ‖ N(0, I)), in float64, written out here. */
function referenceLoss(x: ArrayLike<number>, logits: ArrayLike<number>, mean: ArrayLike<number>, logVariance: ArrayLike<number>): { reconstruction: number; kl: number } {
  let reconstruction = 0;
  for (let index = 0; index < x.length; index++) {
    const logit = logits[index];
    const p = 1 / (1 + Math.exp(-logit));
    reconstruction -= x[index] * Math.log(p) + (1 - x[index]) * Math.log(1 - p);
  }
  let kl = 0;
  for (let index = 0; index < mean.length; index++) kl += -0.5 * (1 + logVariance[index] - mean[index] ** 2 - Math.exp(logVariance[index]));
  return { reconstruction, kl };
}

test('a run keeps every epoch\'s reconstructions, per-image losses and samples of the fixed test examples in views/', async () => {
  const directory = temporaryDirectory();
  const result = await runExperiment({ file: tinyExperiment(directory, { epochs: 3 }), outDir: path.join(directory, 'runs') });
  assert.equal(result.status, 'completed');
  const history = readViewHistory(result.runDir);
  assert.ok(history, 'the run folder has a views history');
  assert.deepEqual(history.epochs.map((view) => view.epoch), [1, 2, 3]);
  assert.equal(history.modelKind, 'vae');
  assert.equal(history.units, 'nats');
  assert.deepEqual(history.shape, [16, 16, 1]);
  const count = history.examples.length;
  assert.equal(count, 16);
  assert.deepEqual(readdirSync(path.join(result.runDir, 'views')).sort(), ['epoch-0001.bin', 'epoch-0002.bin', 'epoch-0003.bin', 'inputs.bin', 'reconstruct.bin']);
  assert.deepEqual(await readViewHistoryAsync(result.runDir), history, 'the extension host\'s reader reads the same');

  // The inputs are the test split's first examples, as the dataset loader gives them.
  const config = readRunConfig(result.runDir);
  const dataset = await loadDataset(config.data, { dataDir: config.dataDir, baseDir: directory, seed: config.seed });
  const pixels = 16 * 16;
  assert.deepEqual(history.inputs, dataset.test.images.subarray(0, count * pixels));
  assert.deepEqual(history.examples, Array.from({ length: count }, (_, index) => index));

  for (const view of history.epochs) {
    assert.equal(view.reconstructions.length, count * pixels);
    assert.equal(view.samples!.length, 32 * pixels, 'the 32 prior draws of the train cell\'s sample grid');
    assert.equal(view.sampleColumns, 8);
    view.loss.forEach((loss, index) => assert.ok(Math.abs(loss - view.reconstruction[index] - view.kl![index]) <= 1e-4 * Math.abs(loss), `epoch ${view.epoch} image ${index}: a VAE's loss is its reconstruction term plus its KL`));
  }
  assert.notDeepEqual(history.epochs[0].reconstructions, history.epochs[2].reconstructions, 'the model changed while training');
  assert.notDeepEqual(history.epochs[0].samples, history.epochs[2].samples);

  // The reconstruct cell (count: 8): its own examples and the final checkpoint's reconstructions and losses.
  const reconstruct = await readReconstructViewAsync(result.runDir);
  assert.ok(reconstruct, 'the reconstruct cell wrote views/reconstruct.bin');
  assert.equal(reconstruct.view.epoch, 3);
  assert.deepEqual(reconstruct.inputs.examples, [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(reconstruct.inputs.inputs, history.inputs.subarray(0, 8 * 16 * 16));
  assert.equal(reconstruct.view.reconstructions.length, 8 * 16 * 16);
  reconstruct.view.loss.forEach((loss, index) => assert.ok(Math.abs(loss - reconstruct.view.reconstruction[index] - reconstruct.view.kl![index]) <= 1e-4 * Math.abs(loss), `reconstruct cell image ${index}: its loss is its reconstruction term plus its KL`));

  // The last epoch's losses, recomputed from last.ckpt's weights in float64.
  const { model } = await loadRunModel(result.runDir);
  try {
    const x = Float64Array.from(dataset.test.images.subarray(0, count * pixels), (value) => value / 255);
    const [meanValues, logVarianceValues, logits] = await (async () => {
      const tensors = tf.tidy(() => {
        const code = model.encoder.apply(tf.tensor4d(Float32Array.from(x), [count, 16, 16, 1]), { training: false }) as tf.Tensor2D;
        const [mean, logVariance] = tf.split(code, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
        return [mean, logVariance, model.decoder.apply(mean, { training: false }) as tf.Tensor];
      });
      const values = await Promise.all(tensors.map((tensor) => tensor.data()));
      tf.dispose(tensors);
      return values;
    })();
    const last = history.epochs[2];
    const latent = meanValues.length / count;
    for (let image = 0; image < count; image++) {
      const expected = referenceLoss(
        x.subarray(image * pixels, (image + 1) * pixels),
        logits.subarray(image * pixels, (image + 1) * pixels),
        meanValues.subarray(image * latent, (image + 1) * latent),
        logVarianceValues.subarray(image * latent, (image + 1) * latent),
      );
      const total = expected.reconstruction + expected.kl;
      assert.ok(Math.abs(last.loss[image] - total) <= 1e-3 * Math.abs(total), `image ${image}: stored ${last.loss[image]}, recomputed ${total}`);
      assert.ok(Math.abs(last.reconstruction[image] - expected.reconstruction) <= 1e-3 * Math.abs(expected.reconstruction), `image ${image}: reconstruction ${last.reconstruction[image]} vs ${expected.reconstruction}`);
      assert.ok(Math.abs(last.kl![image] - expected.kl) <= 1e-3 * Math.abs(expected.kl) + 1e-4, `image ${image}: kl ${last.kl![image]} vs ${expected.kl}`);
      // The stored reconstruction is the decoder's probability, quantised.
      for (let pixel = 0; pixel < pixels; pixel += 17) {
        const probability = 1 / (1 + Math.exp(-logits[image * pixels + pixel]));
        assert.ok(Math.abs(last.reconstructions[image * pixels + pixel] - probability * 255) <= 1, `image ${image}, pixel ${pixel}`);
      }
    }
  } finally {
    disposeAutoencoder(model);
  }
});

test('a run stopped in epoch 2 and resumed ends with epochs 1 to 3 in views/, each once', async () => {
  const directory = temporaryDirectory();
  const controller = new AbortController();
  const stopped = await runExperiment({
    file: tinyExperiment(directory, { epochs: 3 }),
    outDir: path.join(directory, 'runs'),
    signal: controller.signal,
    onEvent: (event) => {
      if (event.type === 'progress' && event.epoch === 2 && event.step === 10) controller.abort();
    },
  });
  assert.equal(stopped.status, 'stopped');
  assert.deepEqual(readViewHistory(stopped.runDir)!.epochs.map((view) => view.epoch), [1]);
  const resumed = await runExperiment({ file: '', resume: stopped.runDir });
  assert.equal(resumed.status, 'completed');
  assert.deepEqual(readViewHistory(resumed.runDir)!.epochs.map((view) => view.epoch), [1, 2, 3]);
  assert.deepEqual(readdirSync(path.join(resumed.runDir, 'views')).sort(), ['epoch-0001.bin', 'epoch-0002.bin', 'epoch-0003.bin', 'inputs.bin', 'reconstruct.bin']);
});

test('a run SIGKILLed after epoch 2\'s views but before its checkpoint: a resume drops them, and trains epoch 2 again into its own file', async () => {
  const directory = temporaryDirectory();
  const out = path.join(directory, 'runs');
  const killed = spawnSync(process.execPath, [path.join(root, 'bin', 'aexp.js'), 'run', tinyExperiment(directory, { epochs: 3 }), '--out', out], { cwd: root, encoding: 'utf8', env: { ...process.env, AEXP_TEST_KILL_AT: 'epoch-images:2' } });
  assert.equal(killed.signal, 'SIGKILL', killed.stderr);
  const [name] = readdirSync(out);
  const runDir = path.join(out, name);
  assert.deepEqual(readViewHistory(runDir)!.epochs.map((view) => view.epoch), [1, 2], 'epoch 2\'s views were written before the kill');

  // Stopped again before epoch 2 ends: the views of the epoch its checkpoint does not hold are gone.
  const controller = new AbortController();
  const stopped = await runExperiment({ file: '', resume: runDir, signal: controller.signal, onEvent: (event) => event.type === 'progress' && event.epoch === 2 && event.step === 5 && controller.abort() });
  assert.equal(stopped.status, 'stopped');
  assert.deepEqual(readViewHistory(runDir)!.epochs.map((view) => view.epoch), [1]);

  const resumed = await runExperiment({ file: '', resume: runDir });
  assert.equal(resumed.status, 'completed');
  assert.deepEqual(readViewHistory(runDir)!.epochs.map((view) => view.epoch), [1, 2, 3]);
  assert.deepEqual(readdirSync(path.join(runDir, 'views')).sort(), ['epoch-0001.bin', 'epoch-0002.bin', 'epoch-0003.bin', 'inputs.bin', 'reconstruct.bin']);
});

test('a resume drops the views of epochs after its checkpoint', () => {
  const runDir = temporaryDirectory();
  for (const epoch of [1, 2, 3]) writeViewEpoch(runDir, [2, 2, 1], { epoch, reconstructions: new Uint8Array(4), loss: new Float32Array(1), reconstruction: new Float32Array(1) });
  assert.equal(truncateViewHistory(runDir, 1), 2);
  assert.deepEqual(readdirSync(path.join(runDir, 'views')), ['epoch-0001.bin']);
});

test('a denoising model\'s views keep its corrupted inputs, which its seed alone draws', async () => {
  const directory = temporaryDirectory();
  const result = await runExperiment({ file: tinyExperiment(directory, { epochs: 2, kind: 'denoising-ae', count: 400 }), outDir: path.join(directory, 'runs') });
  assert.equal(result.status, 'completed');
  const history = readViewHistory(result.runDir)!;
  assert.equal(history.modelKind, 'denoising-ae');
  assert.ok(history.corrupted, 'the corrupted inputs are kept');
  assert.equal(history.corrupted.length, history.inputs.length);
  assert.notDeepEqual(history.corrupted, history.inputs);
  assert.deepEqual(history.epochs.map((view) => view.epoch), [1, 2]);
  assert.equal(history.epochs[0].kl, undefined, 'no KL for a plain autoencoder');
  assert.equal(history.epochs[0].samples, undefined);
  history.epochs[0].loss.forEach((loss, index) => assert.equal(loss, history.epochs[0].reconstruction[index]));

  // Written once: so the corruption drawn for the grid with other weights (here, the final ones) is the same.
  const config = readRunConfig(result.runDir);
  const dataset = await loadDataset(config.data, { dataDir: config.dataDir, baseDir: directory, seed: config.seed });
  const { model } = await loadRunModel(result.runDir);
  try {
    const views = await reconstructionViews(model, dataset, config.data, history.examples.length, config.seed);
    assert.deepEqual(quantizePixels(views.rows[1].pixels), history.corrupted);
    assert.deepEqual(quantizePixels(views.rows[2].pixels), history.epochs[1].reconstructions, 'the last epoch\'s reconstructions are the final weights\'');
  } finally {
    disposeAutoencoder(model);
  }
});

test('a masked model\'s views keep the masked inputs and their mask', async () => {
  const directory = temporaryDirectory();
  const result = await runExperiment({ file: tinyExperiment(directory, { epochs: 1, kind: 'masked-ae', count: 400 }), outDir: path.join(directory, 'runs') });
  assert.equal(result.status, 'completed');
  const history = readViewHistory(result.runDir)!;
  const pixels = 16 * 16;
  assert.equal(history.mask!.length, history.examples.length * pixels);
  // mask_ratio 0.75 of the 16 patches of 4×4: 12 masked patches, 192 pixels, in every image.
  for (let image = 0; image < history.examples.length; image++) {
    const mask = history.mask!.subarray(image * pixels, (image + 1) * pixels);
    assert.equal(mask.reduce((sum, value) => sum + value, 0), 192, `image ${image}`);
    mask.forEach((masked, pixel) => assert.equal(history.corrupted![image * pixels + pixel], masked ? 128 : history.inputs[image * pixels + pixel], `image ${image}, pixel ${pixel}: masked pixels are shown mid-grey`));
  }
});

test('a run folder without views/ reads as no history; a damaged views file is one error naming it', async () => {
  const runDir = temporaryDirectory();
  assert.equal(readViewHistory(runDir), undefined);
  assert.equal(await readViewHistoryAsync(runDir), undefined);

  writeViewEpoch(runDir, [2, 2, 1], { epoch: 1, reconstructions: new Uint8Array(4), loss: new Float32Array(1), reconstruction: new Float32Array(1) });
  assert.equal(readViewHistory(runDir), undefined, 'epochs without their inputs are no history');

  const inputs = viewInputsFile(runDir);
  writeFileSync(inputs, Buffer.concat([Buffer.from('AEXPVIEW'), Buffer.from([8, 0, 0, 0]), Buffer.from('{"versio')]));
  assert.throws(() => readViewHistory(runDir), (error: Error) => error.message === `${inputs}: its header is not JSON (${jsonError('{"versio')})`);

  writeFileSync(inputs, Buffer.concat([Buffer.from('AEXPVIEW'), Buffer.from([12, 0, 0, 0]), Buffer.from('{"version":9}')]));
  assert.throws(() => readViewHistory(runDir), (error: Error) => error.message.startsWith(`${inputs}: `), 'a header length past the end names the file');

  writeFileSync(inputs, Buffer.from('not a views file'));
  assert.throws(() => readViewHistory(runDir), { message: `${inputs}: not a views file (it does not start with AEXPVIEW)` });

  const header = Buffer.from('{"version":2,"sections":[]}');
  writeFileSync(inputs, Buffer.concat([Buffer.from('AEXPVIEW'), Buffer.from([header.length, 0, 0, 0]), header]));
  assert.throws(() => readViewHistory(runDir), { message: `${inputs}: format version 2; this version reads 1` });
  await assert.rejects(readViewHistoryAsync(runDir), { message: `${inputs}: format version 2; this version reads 1` });

  // A file far larger than any views file is refused before it is read (a sparse file: no disk used).
  truncateSync(inputs, 65 * 1024 * 1024);
  assert.throws(() => readViewHistory(runDir), { message: `${inputs}: ${65 * 1024 * 1024} bytes, more than a views file may hold (${64 * 1024 * 1024})` });
  await assert.rejects(readViewHistoryAsync(runDir), { message: `${inputs}: ${65 * 1024 * 1024} bytes, more than a views file may hold (${64 * 1024 * 1024})` });
});

test('an epoch file cut short is one error naming it', async () => {
  const directory = temporaryDirectory();
  const result = await runExperiment({ file: tinyExperiment(directory, { epochs: 1, count: 400 }), outDir: path.join(directory, 'runs') });
  const file = viewEpochFile(result.runDir, 1);
  const bytes = readFileSync(file);
  writeFileSync(file, bytes.subarray(0, bytes.length - 100));
  assert.throws(() => readViewHistory(result.runDir), (error: Error) => error.message.startsWith(`${file}: section samples`) && /runs past the end of the file/.test(error.message));
});

function jsonError(text: string): string {
  try {
    JSON.parse(text);
  } catch (error) {
    return (error as Error).message;
  }
  return '';
}

test('the sample cell\'s draws of the final checkpoint are kept in views/sample.bin beside its PNG, and every image event comes after its views file', async () => {
  const directory = temporaryDirectory();
  const file = tinyExperiment(directory, { epochs: 1, count: 400 });
  appendFileSync(file, '\n```sample\ncount: 12\ntemperature: 0.5\n```\n');
  // The notebook reads a cell's views file when its image event arrives: each file exists by then.
  let runDir = '';
  const announced: string[] = [];
  const onEvent = (event: EngineEvent) => {
    if (event.type === 'runFolder') runDir = event.runDir;
    if (event.type !== 'image') return;
    const file = event.cell === 'train' ? viewEpochFile(runDir, event.epoch) : viewCellFile(runDir, event.cell as 'reconstruct' | 'sample');
    announced.push(`${event.cell} ${event.kind} ${event.epoch}: ${existsSync(file) ? 'written' : 'missing'}`);
  };
  const result = await runExperiment({ file, outDir: path.join(directory, 'runs'), onEvent });
  assert.equal(result.status, 'completed');
  assert.deepEqual(announced, ['train history 1: written', 'train samples 1: written', 'reconstruct reconstructions 1: written', 'sample samples 1: written']);
  const samples = await readSampleViewAsync(result.runDir);
  assert.ok(samples, 'the sample cell wrote views/sample.bin');
  assert.deepEqual({ modelKind: samples.modelKind, units: samples.units, shape: samples.shape, epoch: samples.epoch, sampleColumns: samples.sampleColumns, length: samples.samples.length }, { modelKind: 'vae', units: 'nats', shape: [16, 16, 1], epoch: 1, sampleColumns: 8, length: 12 * 16 * 16 });
  assert.ok(readdirSync(path.join(result.runDir, 'images')).includes('samples.png'), 'the PNG grid stays for the CLI');
});

test('views in a hostile run folder are refused, each with one error naming the entry, and none blocks', async () => {
  const shape: [number, number, number] = [2, 2, 1];
  const inputs = { modelKind: 'ae', units: 'loss' as const, examples: [0], shape, inputs: new Uint8Array(4) };
  const epoch = { epoch: 1, reconstructions: new Uint8Array(4), loss: new Float32Array(1), reconstruction: new Float32Array(1) };

  // views/ itself a link to a folder outside the run folder.
  const outside = temporaryDirectory();
  writeViewInputs(outside, inputs);
  const linked = temporaryDirectory();
  symlinkSync(viewsFolder(outside), viewsFolder(linked));
  await assert.rejects(readViewInputsAsync(linked), { message: `${viewsFolder(linked)}: a symbolic link; views are read only from a folder inside the run folder` });
  assert.throws(() => readViewHistory(linked), { message: `${viewsFolder(linked)}: a symbolic link; views are read only from a folder inside the run folder` });

  // An epoch file that is a link (to a real views file elsewhere).
  const runDir = temporaryDirectory();
  writeViewInputs(runDir, inputs);
  writeViewEpoch(outside, shape, epoch);
  symlinkSync(viewEpochFile(outside, 1), viewEpochFile(runDir, 1));
  await assert.rejects(readViewEpochAsync(runDir, 1, inputs), { message: `${viewEpochFile(runDir, 1)}: cannot be read (ELOOP)` });

  // A FIFO with no writer: opening it to read would wait for one.
  const fifo = viewCellFile(runDir, 'sample');
  const made = spawnSync('mkfifo', [fifo]);
  assert.equal(made.status, 0, `mkfifo: ${made.stderr}`);
  await assert.rejects(readSampleViewAsync(runDir), { message: `${fifo}: not a plain file` });

  // views/ a plain file.
  const plain = temporaryDirectory();
  writeFileSync(viewsFolder(plain), 'not a folder');
  await assert.rejects(readReconstructViewAsync(plain), { message: `${viewsFolder(plain)}: not a folder` });

  // A reconstruct file that is an inputs file (a bad header).
  const mixed = temporaryDirectory();
  mkdirSync(viewsFolder(mixed));
  writeViewInputs(mixed, inputs);
  writeFileSync(viewCellFile(mixed, 'reconstruct'), readFileSync(viewInputsFile(mixed)));
  await assert.rejects(readReconstructViewAsync(mixed), { message: `${viewCellFile(mixed, 'reconstruct')}: kind "inputs", expected "reconstruct"` });
});
