/**
 * The quickstart is what a newcomer trains first (`npm run demo`), so its reconstructions must show
 * the sprites' shapes, not round blobs. It trains through the CLI on the fastest backend this
 * machine has, and the test judges the exported model by itself, not by the engine's metrics:
 * the mean IoU between each thresholded test input and its thresholded reconstruction.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { loadDataset } from '../../runtime/data';
import type { DataConfig } from '../../runtime/format/schema';
import { temporaryDirectory } from '../helpers/temp';

const root = path.resolve(__dirname, '..', '..');
const QUICKSTART = path.join(root, 'samples', 'quickstart.aexp');
const THRESHOLD_IOU = 0.8;

/** A network exported to `model/<name>/` (model.json + weights.bin), read from disk. */
async function loadNetwork(directory: string): Promise<tfl.LayersModel> {
  const manifest = JSON.parse(readFileSync(path.join(directory, 'model.json'), 'utf8'));
  const weights = readFileSync(path.join(directory, 'weights.bin'));
  return tfl.loadLayersModel(tf.io.fromMemory({
    modelTopology: manifest.modelTopology,
    weightSpecs: manifest.weightsManifest[0].weights,
    weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
  }));
}

/** Intersection over union of two binary masks; two empty masks agree perfectly. */
function intersectionOverUnion(first: Uint8Array, second: Uint8Array): number {
  let intersection = 0;
  let union = 0;
  for (let index = 0; index < first.length; index++) {
    if (first[index] && second[index]) intersection++;
    if (first[index] || second[index]) union++;
  }
  return union === 0 ? 1 : intersection / union;
}

test(`the quickstart reconstructs its test sprites with a mean IoU of at least ${THRESHOLD_IOU}`, async (context) => {
  const started = Date.now();
  const result = spawnSync(process.execPath, [path.join(root, 'bin', 'aexp.js'), 'run', QUICKSTART, '--out', temporaryDirectory()], { cwd: root, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  const seconds = (Date.now() - started) / 1000;
  const runDir = result.stdout.trim();

  const config = JSON.parse(readFileSync(path.join(runDir, 'config.json'), 'utf8')) as { seed: number; data: DataConfig; dataDir: string; backend: string; model: { kind: string; latent: number; likelihood: string } };
  assert.ok(!config.model.kind.startsWith('cvae'), 'a conditional model would need the labels beside the code');
  const dataset = await loadDataset(config.data, { dataDir: config.dataDir, baseDir: path.dirname(QUICKSTART), seed: config.seed });
  const [height, width, channels] = dataset.shape;
  const pixels = height * width * channels;
  const { count, images } = dataset.test;

  await tf.setBackend('cpu');
  const encoder = await loadNetwork(path.join(runDir, 'model', 'encoder'));
  const decoder = await loadNetwork(path.join(runDir, 'model', 'decoder'));
  // A Bernoulli decoder outputs logits (0.5 is logit 0); the others output pixel values.
  const cut = config.model.likelihood === 'bernoulli' ? 0 : 0.5;
  const reconstructed = tf.tidy(() => {
    const inputs = tf.div(tf.tensor4d(images, [count, height, width, channels], 'float32'), 255);
    const code = encoder.predict(inputs) as tf.Tensor2D;
    // A variational encoder gives [mean, log variance]: the reconstruction decodes the mean.
    const mean = config.model.kind.includes('vae') ? tf.slice(code, [0, 0], [count, config.model.latent]) : code;
    return tf.greater(decoder.predict(mean) as tf.Tensor, cut).dataSync() as Uint8Array;
  });
  encoder.dispose();
  decoder.dispose();

  let total = 0;
  for (let example = 0; example < count; example++) {
    const input = images.subarray(example * pixels, (example + 1) * pixels).map((value) => (value >= 128 ? 1 : 0));
    total += intersectionOverUnion(input, reconstructed.subarray(example * pixels, (example + 1) * pixels));
  }
  const meanIou = total / count;
  context.diagnostic(`trained on ${config.backend} in ${seconds.toFixed(1)} s; mean IoU ${meanIou.toFixed(3)} over ${count} test sprites`);
  assert.ok(count >= 500, `the test split holds ${count} examples`);
  assert.ok(meanIou >= THRESHOLD_IOU, `mean IoU ${meanIou.toFixed(3)} over ${count} test sprites is below ${THRESHOLD_IOU}: the reconstructions lose the shapes`);
});
