/**
 * One measurement of our training throughput: a model from BACKENDS.md on one backend, batch 128,
 * Adam, random inputs, the same step the engine runs (gradients, update, loss read back).
 * Prints one JSON line. Bundled to dist/bench/throughput.js so it runs without the sources.
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendName } from '../../runtime/backend';
import { selectBackend } from '../../runtime/backend';
import { parseLayer } from '../../runtime/format/layers';
import type { LayerSpec } from '../../runtime/format/layers';
import { withDefaults } from '../../runtime/format/validate';
import { buildAutoencoder, trainableVariables } from '../../runtime/model/build';
import { lossTerms } from '../../runtime/model/losses';
import { Optimizer } from '../../runtime/train/optimizers';

/** `conv` is BACKENDS.md's conv VAE as written there (3×3, our default kernel); `conv-k4` the common 4×4 variant. */
const MODELS = {
  mlp: ['dense 400 relu'],
  conv: ['conv 32 s2 relu', 'conv 64 s2 relu'],
  'conv-k4': ['conv 32 k4 s2 relu', 'conv 64 k4 s2 relu'],
};

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { backend: { type: 'string', default: 'wasm' }, model: { type: 'string', default: 'mlp' }, steps: { type: 'string', default: '20' } } });
  const name = values.model as keyof typeof MODELS;
  if (!MODELS[name]) throw new Error(`--model must be one of ${Object.keys(MODELS).join(', ')}, not ${values.model}`);
  const info = await selectBackend(values.backend as BackendName);
  const config = withDefaults('model', { kind: 'vae', latent: name === 'mlp' ? 20 : 16, encoder: MODELS[name], init: 'pytorch' });
  const model = buildAutoencoder(config, { encoder: MODELS[name].map((text) => parseLayer(text) as LayerSpec), decoder: 'mirror' }, [28, 28, 1], 1);
  const variables = trainableVariables(model);
  const optimizer = new Optimizer(withDefaults('train', {}), variables);
  const x = tf.randomUniform([128, 28, 28, 1], 0, 1, 'float32', 3);
  let step = 0;
  const trainStep = async () => {
    const { value, grads } = tf.variableGrads(() => lossTerms(model, { x }, { training: true, seed: step++ }).loss, variables);
    tf.tidy(() => optimizer.apply(variables.map((variable) => grads[variable.name]), 1e-3));
    await value.data();
    tf.dispose([value, ...Object.values(grads)]);
  };
  for (let warm = 0; warm < 3; warm++) await trainStep();
  const steps = Number(values.steps);
  const started = performance.now();
  for (let index = 0; index < steps; index++) await trainStep();
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`${JSON.stringify({ samplesPerSecond: (steps * 128) / seconds, peakRssMb: process.resourceUsage().maxRSS / 1024, device: `${info.backend}: ${info.device}` })}\n`);
}

main().catch((error: Error) => {
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
});
