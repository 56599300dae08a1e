/**
 * One measurement of our training throughput: one of the benchmark VAEs on one backend, batch 128,
 * Adam, random inputs, the same step the engine runs (gradients, update, loss read back).
 * Prints one JSON line, with the model's floating-point operations per training sample.
 * `--peak` instead measures the machine: SGEMM through the native addon on every core, and the
 * nominal AVX2 peak. Bundled to dist/bench/throughput.js so it runs without the sources.
 */
import { parseArgs } from 'node:util';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { BackendName } from '../../runtime/backends/select';
import { selectBackend } from '../../runtime/backends/select';
import { parseLayer } from '../../runtime/format/layers';
import type { LayerSpec } from '../../runtime/format/layers';
import { withDefaults } from '../../runtime/format/validate';
import { buildAutoencoder, trainableVariables } from '../../runtime/model/build';
import { trainingStep } from '../../runtime/train/step';
import { Optimizer } from '../../runtime/train/optimizers';
import { loadAddon } from '../../runtime/backends/native/addon';

/** `conv` is the benchmark conv VAE with 3×3 kernels (our default); `conv-k4` the common 4×4 variant. */
const MODELS = {
  mlp: ['dense 400 relu'],
  conv: ['conv 32 s2 relu', 'conv 64 s2 relu'],
  'conv-k4': ['conv 32 k4 s2 relu', 'conv 64 k4 s2 relu'],
};

/**
 * Multiply-adds of one sample through the dense and convolution layers, times 2 for FLOPs, times 3
 * for a training step (forward, input gradient, weight gradient), as PyTorch's and TF.js's
 * profilers count. Elementwise ops are left out: next to the GEMMs they are noise.
 */
function trainingFlopsPerSample(networks: tfl.LayersModel[]): number {
  let multiplyAdds = 0;
  for (const network of networks) {
    for (const layer of network.layers) {
      const input = layer.input as tfl.SymbolicTensor;
      const output = layer.output as tfl.SymbolicTensor;
      if (Array.isArray(input) || Array.isArray(output)) continue;
      const kernel = layer.getWeights(false)[0]?.shape;
      if (!kernel) continue;
      const weights = kernel.reduce((product, size) => product * size, 1);
      const name = layer.getClassName();
      // A dense layer uses each weight once per sample; a conv once per output position, a transposed conv once per input position.
      if (name === 'Dense') multiplyAdds += weights;
      else if (name === 'Conv2D') multiplyAdds += (output.shape[1] ?? 0) * (output.shape[2] ?? 0) * weights;
      else if (name === 'Conv2DTranspose') multiplyAdds += (input.shape[1] ?? 0) * (input.shape[2] ?? 0) * weights;
    }
  }
  return 2 * 3 * multiplyAdds;
}

/** SGEMM GFLOP/s on every core (the practical peak), and cores × clock × 32 (AVX2: two 8-wide FMA units). */
function measurePeak(): void {
  const { addon, problem } = loadAddon();
  const cpus = os.cpus();
  // Some virtual machines report a speed of 0 to os.cpus(); /proc/cpuinfo still has the clock.
  const mhz = cpus[0]?.speed || Number(/cpu MHz\s*:\s*([\d.]+)/.exec(existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '')?.[1] ?? 0);
  const nominal = (cpus.length * mhz * 1e6 * 32) / 1e9;
  let gemm: number | undefined;
  if (addon) {
    addon.setThreads(os.availableParallelism());
    const size = 1024;
    const a = new Float32Array(size * size).fill(0.5);
    const c = new Float32Array(size * size);
    const rates: number[] = [];
    for (let round = 0; round < 7; round++) {
      const started = performance.now();
      addon.gemm(false, false, size, size, size, a, a, c, 1, 0, 0, 0, 1, 0);
      rates.push((2 * size ** 3) / ((performance.now() - started) / 1000) / 1e9);
    }
    gemm = rates.sort((x, y) => x - y)[rates.length >> 1];
  }
  process.stdout.write(`${JSON.stringify({ gemmGflops: gemm, nominalGflops: nominal, cores: cpus.length, mhz: Math.round(mhz), problem })}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { backend: { type: 'string', default: 'wasm' }, model: { type: 'string', default: 'mlp' }, steps: { type: 'string', default: '20' }, peak: { type: 'boolean', default: false } } });
  if (values.peak) return measurePeak();
  const name = values.model as keyof typeof MODELS;
  if (!MODELS[name]) throw new Error(`--model must be one of ${Object.keys(MODELS).join(', ')}, not ${values.model}`);
  const info = await selectBackend(values.backend as BackendName);
  const config = withDefaults('model', { kind: 'vae', latent: name === 'mlp' ? 20 : 16, encoder: MODELS[name], init: 'pytorch' });
  const model = buildAutoencoder(config, { encoder: MODELS[name].map((text) => parseLayer(text) as LayerSpec), decoder: 'mirror' }, [28, 28, 1], 1);
  const variables = trainableVariables(model);
  const train = withDefaults('train', {});
  const optimizer = new Optimizer(train, variables);
  const x = tf.randomUniform([128, 28, 28, 1], 0, 1, 'float32', 3);
  let step = 0;
  const trainStep = async () => {
    await trainingStep(model, variables, optimizer, { x }, { seed: step++, train, lr: 1e-3 });
  };
  for (let warm = 0; warm < 3; warm++) await trainStep();
  const steps = Number(values.steps);
  const started = performance.now();
  for (let index = 0; index < steps; index++) await trainStep();
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`${JSON.stringify({ samplesPerSecond: (steps * 128) / seconds, peakRssMb: process.resourceUsage().maxRSS / 1024, device: `${info.backend}: ${info.device}`, flopsPerSample: trainingFlopsPerSample([model.encoder, model.decoder]) })}\n`);
}

main().catch((error: Error) => {
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
});
