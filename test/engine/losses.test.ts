/**
 * Every reconstruction term and every regularizer, checked against an independent float64
 * computation (written from the published formulas, not from our code): the value, and the
 * gradient against central differences, to 1e-5 relative.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { loadAddon } from '../../runtime/backends/native/addon';
import { selectBackend } from '../../runtime/backends/select';
import type { ModelConfig } from '../../runtime/format/schema';
import { withDefaults } from '../../runtime/format/validate';
import type { Schedule } from '../../runtime/model/losses';
import { gaussianKlPerExample, l1PerExample, objective, reconstructionPerExample } from '../../runtime/model/losses';

const BATCH = 3;
const ELEMENTS = 8;
const LATENT = 4;

/** Deterministic values away from the kinks of |·| and smooth-L1 (|d| = β, d = 0). */
function values(count: number, seed: number, low: number, high: number): number[] {
  return Array.from({ length: count }, (_, index) => low + (high - low) * ((Math.sin(seed * 12.9898 + index * 78.233) * 43758.5453) % 1 + 1) % 1);
}

const x = values(BATCH * ELEMENTS, 1, 0, 1);
const mask = Array.from({ length: BATCH * ELEMENTS }, (_, index) => ((index * 5) % 3 === 0 ? 1 : 0));

function reference(config: ModelConfig, output: number[], mean: number[], logVariance: number[], schedule: Schedule, masked: boolean): number {
  const { sigma } = config;
  let reconstruction = 0;
  output.forEach((value, index) => {
    if (masked && mask[index] === 0) return;
    const target = x[index];
    const difference = target - value;
    switch (config.likelihood) {
      case 'bernoulli': {
        const p = 1 / (1 + Math.exp(-value));
        reconstruction -= target * Math.log(p) + (1 - target) * Math.log(1 - p);
        break;
      }
      case 'gaussian':
        reconstruction += difference ** 2 / (2 * sigma ** 2) + Math.log(sigma * Math.sqrt(2 * Math.PI));
        break;
      case 'laplace':
        reconstruction += Math.abs(difference) / sigma + Math.log(2 * sigma);
        break;
      case 'smooth-l1': {
        const beta = config.smooth_l1_beta;
        reconstruction += Math.abs(difference) <= beta ? difference ** 2 / (2 * beta) : Math.abs(difference) - beta / 2;
        break;
      }
    }
  });
  reconstruction /= BATCH;
  let kl = 0;
  let l1 = 0;
  for (let index = 0; index < BATCH * LATENT; index++) {
    kl += -0.5 * (1 + logVariance[index] - mean[index] ** 2 - Math.exp(logVariance[index]));
    l1 += Math.abs(mean[index]) / LATENT;
  }
  kl /= BATCH;
  l1 /= BATCH;
  if (config.kind === 'sparse-ae') return reconstruction + config.sparsity * l1;
  if (config.capacity && schedule.capacity !== undefined) return reconstruction + config.capacity.gamma * schedule.klWeight * Math.abs(kl - schedule.capacity);
  if (config.kind === 'ae' || config.kind === 'denoising-ae' || config.kind === 'masked-ae') return reconstruction;
  return reconstruction + schedule.klWeight * kl;
}

function ours(config: ModelConfig, output: tf.Tensor, mean: tf.Tensor2D, logVariance: tf.Tensor2D, schedule: Schedule, masked: boolean): tf.Scalar {
  const target = tf.tensor4d(x, [BATCH, 2, 2, 2]);
  const maskTensor = masked ? tf.tensor4d(mask, [BATCH, 2, 2, 2]) : undefined;
  const reconstruction = tf.mean(reconstructionPerExample(config, target, tf.reshape(output, [BATCH, 2, 2, 2]), maskTensor)) as tf.Scalar;
  const variational = ['vae', 'beta-vae', 'cvae'].includes(config.kind);
  const kl = variational ? (tf.mean(gaussianKlPerExample(mean, logVariance)) as tf.Scalar) : tf.scalar(0);
  const l1 = config.kind === 'sparse-ae' ? (tf.mean(l1PerExample(mean)) as tf.Scalar) : tf.scalar(0);
  return objective(config, reconstruction, kl, l1, schedule);
}

const cases: { name: string; config: Partial<ModelConfig>; schedule: Schedule; masked?: boolean }[] = [
  { name: 'vae, bernoulli', config: { kind: 'vae', likelihood: 'bernoulli' }, schedule: { klWeight: 1 } },
  { name: 'vae, gaussian σ 0.3', config: { kind: 'vae', likelihood: 'gaussian', sigma: 0.3 }, schedule: { klWeight: 1 } },
  { name: 'cvae, laplace b 0.2', config: { kind: 'cvae', likelihood: 'laplace', sigma: 0.2 }, schedule: { klWeight: 1 } },
  { name: 'ae, smooth-L1 β 0.3', config: { kind: 'ae', likelihood: 'smooth-l1', smooth_l1_beta: 0.3 }, schedule: { klWeight: 1 } },
  { name: 'beta-vae, β 4 half-way through warm-up', config: { kind: 'beta-vae', beta: 4 }, schedule: { klWeight: 2 } },
  { name: 'beta-vae, capacity C 0.5, γ 30', config: { kind: 'beta-vae', capacity: { max: 5, epochs: 10, gamma: 30 } }, schedule: { klWeight: 1, capacity: 0.5 } },
  { name: 'sparse-ae, L1 λ 2.5', config: { kind: 'sparse-ae', sparsity: 2.5, likelihood: 'gaussian', sigma: 0.5 }, schedule: { klWeight: 1 } },
  { name: 'masked-ae, masked pixels only (bernoulli)', config: { kind: 'masked-ae' }, schedule: { klWeight: 1 }, masked: true },
  { name: 'masked-ae, masked pixels only (gaussian)', config: { kind: 'masked-ae', likelihood: 'gaussian', sigma: 0.4 }, schedule: { klWeight: 1 }, masked: true },
];

// native, where its addon is built, runs the fused Bernoulli kernel instead of the composed ops.
for (const backend of ['cpu', 'wasm', ...(loadAddon().addon ? ['native' as const] : [])] as const) {
  for (const testCase of cases) {
    test(`${testCase.name} (${backend}): loss and gradients match float64 to 1e-5`, async () => {
      await selectBackend(backend);
      const config = withDefaults('model', { latent: LATENT, encoder: ['dense 4'], ...testCase.config } as Partial<ModelConfig>);
      const output = values(BATCH * ELEMENTS, 2, -1.5, 1.5);
      const mean = values(BATCH * LATENT, 3, -1.2, 1.2);
      const logVariance = values(BATCH * LATENT, 4, -1, 0.5);
      const masked = testCase.masked ?? false;
      const variational = ['vae', 'beta-vae', 'cvae'].includes(config.kind);
      const before = tf.memory().numTensors;
      const { value, grads } = tf.tidy(() => {
        const tensors = [tf.tensor1d(output), tf.tensor2d(mean, [BATCH, LATENT]), tf.tensor2d(logVariance, [BATCH, LATENT])] as const;
        // Differentiate with respect to what the kind's loss reads: TF.js refuses an unused input.
        const used = [true, variational || config.kind === 'sparse-ae', variational];
        const compute = tf.valueAndGrads((...free: tf.Tensor[]) => {
          const all = tensors.map((tensor, index) => (used[index] ? free[used.slice(0, index).filter(Boolean).length] : tensor));
          return ours(config, all[0], all[1] as tf.Tensor2D, all[2] as tf.Tensor2D, testCase.schedule, masked);
        });
        const result = compute(tensors.filter((_, index) => used[index]));
        const gradients = [...result.grads];
        return { value: result.value.dataSync()[0], grads: tensors.map((tensor, index) => (used[index] ? Array.from(gradients.shift()!.dataSync()) : new Array<number>(tensor.size).fill(0))) };
      });
      assert.equal(tf.memory().numTensors, before, 'no tensor leaks');

      const expected = reference(config, output, mean, logVariance, testCase.schedule, masked);
      assert.ok(Math.abs(value - expected) <= 1e-5 * Math.abs(expected), `loss ${value} vs float64 ${expected}`);
      const inputs = [output, mean, logVariance];
      inputs.forEach((input, which) => {
        let difference = 0;
        let norm = 0;
        for (let element = 0; element < input.length; element++) {
          const step = 1e-6;
          const saved = input[element];
          input[element] = saved + step;
          const up = reference(config, output, mean, logVariance, testCase.schedule, masked);
          input[element] = saved - step;
          const down = reference(config, output, mean, logVariance, testCase.schedule, masked);
          input[element] = saved;
          const numeric = (up - down) / (2 * step);
          difference += (grads[which][element] - numeric) ** 2;
          norm += numeric ** 2;
        }
        if (norm === 0) assert.equal(Math.sqrt(difference), 0, `input ${which}: the loss does not depend on it, so its gradient must be 0`);
        else assert.ok(Math.sqrt(difference / norm) < 1e-5, `input ${which}: gradient relative error ${Math.sqrt(difference / norm).toExponential(2)}`);
      });
      if (masked) {
        // The loss counts masked patches only: visible pixels get no gradient at all.
        grads[0].forEach((gradient, index) => {
          if (mask[index] === 0) assert.equal(Math.abs(gradient), 0, `visible element ${index} has gradient ${gradient}`);
        });
      }
    });
  }
}
