/**
 * A newcomer's first command, `npm run demo`: it builds the native addon when the machine can
 * (or says in one line why not and how to get it), then trains the quickstart, whose
 * reconstructions must show the sprites' shapes, not round blobs. The quickstart trains through
 * the CLI on the fastest backend this machine has, and the test judges the exported model by
 * itself, not by the engine's metrics: the mean IoU between each thresholded test input and its
 * thresholded reconstruction.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
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

test('npm run demo builds the native addon, when it can, before it builds the runtime and trains the quickstart', () => {
  const demo = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.demo;
  const steps = ['node scripts/build-native.mjs', 'node scripts/build.mjs', 'node bin/aexp.js run samples/quickstart.aexp'].map((step) => demo.indexOf(step));
  assert.ok(steps.every((position, index) => position >= 0 && (index === 0 || position > steps[index - 1])), `demo: ${demo}`);
});

/** Runs a copy of scripts/build-native.mjs against a copy of native/ with only `commands` on PATH. */
function buildNativeWith(commands: string[], env: Record<string, string> = {}) {
  const copy = temporaryDirectory();
  mkdirSync(path.join(copy, 'scripts'));
  cpSync(path.join(root, 'scripts', 'build-native.mjs'), path.join(copy, 'scripts', 'build-native.mjs'));
  cpSync(path.join(root, 'native', 'binding.gyp'), path.join(copy, 'native', 'binding.gyp'));
  cpSync(path.join(root, 'native', 'src'), path.join(copy, 'native', 'src'), { recursive: true });
  const bin = path.join(copy, 'bin');
  mkdirSync(bin);
  for (const command of ['node', ...commands]) symlinkSync(command === 'node' ? process.execPath : command, path.join(bin, path.basename(command)));
  return spawnSync(path.join(bin, 'node'), [path.join(copy, 'scripts', 'build-native.mjs')], { env: { PATH: bin, HOME: copy, ...env }, encoding: 'utf8' });
}

const which = (name: string) => ['/usr/bin', '/bin', '/usr/local/bin'].map((folder) => path.join(folder, name)).find((file) => existsSync(file));
const apt = existsSync('/etc/debian_version');

test('a missing toolchain is one line saying what is missing and how to get it, and the demo goes on; AEXP_REQUIRE_NATIVE=1 makes it an error', { skip: process.platform !== 'linux' && 'the toolchain checks here are the Linux ones' }, (context) => {
  const noCompiler = buildNativeWith([]);
  assert.equal(noCompiler.status, 0, noCompiler.stderr);
  assert.equal(noCompiler.stdout, `native backend unavailable: the C++ compiler g++ is not installed (${apt ? 'sudo apt install build-essential' : 'install g++ and make'}, then npm run build:native); CPU training will use wasm\n`);
  assert.equal(noCompiler.stderr, '');

  const required = buildNativeWith([], { AEXP_REQUIRE_NATIVE: '1' });
  assert.equal(required.status, 1);
  assert.equal(required.stdout, '');
  assert.match(required.stderr, /^native backend unavailable: the C\+\+ compiler g\+\+ is not installed \(.*, then npm run build:native\)\n$/);

  const [compiler, make] = [which('g++'), which('make')];
  if (!compiler || !make) return context.diagnostic('no g++ and make here: the check for Python was not run');
  const noPython = buildNativeWith([compiler, make]);
  assert.equal(noPython.status, 0, noPython.stderr);
  assert.equal(noPython.stdout, `native backend unavailable: node-gyp needs Python 3, which is not installed (${apt ? 'sudo apt install python3' : 'install Python 3'}, then npm run build:native); CPU training will use wasm\n`);
});
