/**
 * Loss terms, per example. The reconstruction term is a negative log-likelihood (or, for
 * smooth-L1, a loss) summed over the elements of an example and the KL is summed over latent
 * dimensions (a mean beside a summed KL would be a hidden β). Plain AEs use the same
 * per-example sums, so every kind's numbers compare with a VAE's reconstruction term.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from '../format/schema';
import type { Autoencoder } from './build';
import { bernoulliNllElements, bernoulliNllPerExample } from './fused';

const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);


export type LikelihoodParameters = Pick<ModelConfig, 'likelihood' | 'sigma' | 'smooth_l1_beta'>;

/** −log p(x | decoder output) (or the smooth-L1 loss) of each element, shaped like x. */
export function reconstructionElements(model: LikelihoodParameters, x: tf.Tensor, output: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    switch (model.likelihood) {
      case 'bernoulli':
        // Binary cross-entropy from logits, stable for large |logit|: max(l, 0) − l·x + log(1 + e^−|l|).
        return bernoulliNllElements(output, x);
      case 'gaussian':
        return tf.add(tf.div(tf.squaredDifference(x, output), 2 * model.sigma * model.sigma), Math.log(model.sigma) + HALF_LOG_TWO_PI);
      case 'laplace':
        return tf.add(tf.div(tf.abs(tf.sub(x, output)), model.sigma), Math.log(2 * model.sigma));
      case 'smooth-l1': {
        // d²/(2β) for d ≤ β, d − β/2 above, written with min() so that it has a gradient everywhere.
        const beta = model.smooth_l1_beta;
        const difference = tf.abs(tf.sub(x, output));
        const clipped = tf.minimum(difference, beta);
        return tf.add(tf.div(tf.square(clipped), 2 * beta), tf.sub(difference, clipped));
      }
    }
  });
}

/** Per-example sum of the reconstruction term, optionally over masked elements only: shape [batch]. */
export function reconstructionPerExample(model: LikelihoodParameters, x: tf.Tensor, output: tf.Tensor, mask?: tf.Tensor): tf.Tensor1D {
  if (model.likelihood === 'bernoulli' && !mask) return bernoulliNllPerExample(output, x);
  return tf.tidy(() => {
    const axes = x.shape.slice(1).map((_, index) => index + 1);
    const elements = reconstructionElements(model, x, output);
    return tf.sum(mask ? tf.mul(elements, mask) : elements, axes) as tf.Tensor1D;
  });
}

/** KL(N(μ, σ²) ‖ N(0, I)) = −½ Σ (1 + log σ² − μ² − σ²): shape [batch]. */
export function gaussianKlPerExample(mean: tf.Tensor2D, logVariance: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.mul(-0.5, tf.sum(tf.sub(tf.sub(tf.add(1, logVariance), tf.square(mean)), tf.exp(logVariance)), 1)) as tf.Tensor1D);
}

/** sparse-ae: (1/D) Σ|zᵢ| per example: shape [batch]. */
export function l1PerExample(code: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.mean(tf.abs(code), 1) as tf.Tensor1D);
}

/** denoising-ae: the corruption process C(x̃ | x), seeded. */
export function corrupt(x: tf.Tensor, config: Pick<ModelConfig, 'corruption' | 'noise'>, seed: number): tf.Tensor {
  return tf.tidy(() => {
    if (config.corruption === 'gaussian') return tf.clipByValue(tf.add(x, tf.randomNormal(x.shape, 0, config.noise, 'float32', seed)), 0, 1);
    const uniform = tf.randomUniform(x.shape, 0, 1, 'float32', seed);
    if (config.corruption === 'mask') return tf.mul(x, tf.cast(tf.greaterEqual(uniform, config.noise), 'float32'));
    const pepper = tf.less(uniform, config.noise / 2);
    const salt = tf.greaterEqual(uniform, 1 - config.noise / 2);
    return tf.where(pepper, tf.zerosLike(x), tf.where(salt, tf.onesLike(x), x));
  });
}

/** masked-ae: replace masked pixels (mask [b, h, w, 1], 1 = masked) by the learned token. */
export function applyMask(x: tf.Tensor, mask: tf.Tensor, token: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.add(tf.mul(x, tf.sub(1, mask)), tf.mul(mask, tf.reshape(token, [1, 1, 1, -1]))));
}

export interface Encoded {
  /** The code used for decoding: a posterior sample for a VAE, the code for an AE. */
  z: tf.Tensor2D;
  mean: tf.Tensor2D;
  logVariance?: tf.Tensor2D;
  /** U-Net skip features for the decoder. */
  skips: tf.Tensor[];
}

export interface ForwardInputs {
  /** The clean input, [b, h, w, c] in [0, 1]. */
  x: tf.Tensor;
  /** cvae: one-hot labels [b, classes]. */
  labels?: tf.Tensor2D;
  /** masked-ae: [b, h, w, 1], 1 where masked. */
  mask?: tf.Tensor;
  /** denoising-ae: the corrupted input, drawn per example by evaluation; without it the forward pass corrupts x from its seed. */
  corrupted?: tf.Tensor;
}

export interface ForwardOptions {
  training: boolean;
  /** Seeds the reparameterization noise and the denoising corruption. */
  seed?: number;
  /** Explicit reparameterization noise (tests). */
  noise?: tf.Tensor2D;
  /** false: decode μ instead of a posterior sample. */
  sample?: boolean;
  /** denoising-ae: false feeds the clean input (to compare). */
  corrupt?: boolean;
}

export function encode(model: Autoencoder, input: tf.Tensor, options: ForwardOptions & { labels?: tf.Tensor2D }): Encoded {
  const inputs = model.classes > 0 ? [input, options.labels!] : input;
  const outputs = model.encoder.apply(inputs, { training: options.training }) as tf.Tensor | tf.Tensor[];
  const [code, ...skips] = (Array.isArray(outputs) ? outputs : [outputs]) as [tf.Tensor2D, ...tf.Tensor[]];
  if (!model.variational) return { z: code, mean: code, skips };
  const [mean, logVariance] = tf.split(code, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
  if (options.sample === false) return { z: mean, mean, logVariance, skips };
  // Reparameterization: z = μ + σ ⊙ ε, so gradients flow through the sample.
  const noise = options.noise ?? tf.randomNormal(mean.shape, 0, 1, 'float32', options.seed);
  const z = tf.add(mean, tf.mul(tf.exp(tf.mul(0.5, logVariance)), noise)) as tf.Tensor2D;
  return { z, mean, logVariance, skips };
}

export function decode(model: Autoencoder, z: tf.Tensor2D, options: { training: boolean; labels?: tf.Tensor2D; skips?: tf.Tensor[] }): tf.Tensor {
  const inputs = [z, ...(model.classes > 0 ? [options.labels!] : []), ...(options.skips ?? [])];
  return model.decoder.apply(inputs.length === 1 ? z : inputs, { training: options.training }) as tf.Tensor;
}

/** What the encoder sees: the input after the kind's corruption or masking. */
export function encoderInput(model: Autoencoder, inputs: ForwardInputs, options: ForwardOptions): tf.Tensor {
  if (model.kind === 'denoising-ae' && options.corrupt !== false) return inputs.corrupted ?? corrupt(inputs.x, model.config, ((options.seed ?? 0) ^ 0x2545f491) >>> 0);
  if (model.kind === 'masked-ae' && inputs.mask) return applyMask(inputs.x, inputs.mask, model.maskToken!);
  return inputs.x;
}

export interface Forward {
  input: tf.Tensor;
  encoded: Encoded;
  /** Logits (bernoulli) or means, shaped like x. */
  output: tf.Tensor;
}

export function forward(model: Autoencoder, inputs: ForwardInputs, options: ForwardOptions): Forward {
  const input = encoderInput(model, inputs, options);
  const encoded = encode(model, input, { ...options, labels: inputs.labels });
  const output = decode(model, encoded.z, { training: options.training, labels: inputs.labels, skips: encoded.skips });
  return { input, encoded, output };
}

/** Decoder output mapped to pixel space: probabilities (bernoulli) or means. */
export function toPixels(model: Pick<Autoencoder, 'likelihood'>, output: tf.Tensor): tf.Tensor {
  return tf.tidy(() => (model.likelihood === 'bernoulli' ? tf.sigmoid(output) : tf.clipByValue(output, 0, 1)));
}

/** Where the regularizer stands at a training step: KL weight (warm-up, β) and capacity C. */
export interface Schedule {
  klWeight: number;
  capacity?: number;
}

/** The KL weight and capacity at a step, from the model cell (β, kl_warmup, capacity). */
export function regularizerSchedule(config: ModelConfig, step: number, stepsPerEpoch: number): Schedule {
  const beta = config.kind === 'beta-vae' ? config.beta : 1;
  const warmupSteps = config.kl_warmup * stepsPerEpoch;
  const ramp = warmupSteps > 0 ? Math.min(1, (step + 1) / warmupSteps) : 1;
  if (config.kind === 'beta-vae' && config.capacity) {
    const rampSteps = config.capacity.epochs * stepsPerEpoch;
    return { klWeight: ramp, capacity: config.capacity.max * Math.min(1, (step + 1) / rampSteps) };
  }
  return { klWeight: beta * ramp };
}

/** The schedule once warm-up and annealing are over: what test-split losses are reported with. */
export function finalSchedule(config: ModelConfig): Schedule {
  return regularizerSchedule(config, Number.MAX_SAFE_INTEGER - 1, 1);
}

export interface LossTerms {
  /** The training objective, mean over the batch (−ELBO for a VAE). */
  loss: tf.Scalar;
  /** Mean over the batch of the per-example reconstruction term. */
  reconstruction: tf.Scalar;
  /** Mean KL per example (variational kinds; 0 otherwise). */
  kl: tf.Scalar;
  /** Mean (1/D)Σ|z| per example (sparse-ae; 0 otherwise). */
  l1: tf.Scalar;
}

/** The objective from its per-example parts: their means over the batch, or each example's (shape [batch]). */
export function objective<T extends tf.Scalar | tf.Tensor1D>(config: ModelConfig, reconstruction: T, kl: T, l1: T, schedule: Schedule): T {
  return tf.tidy(() => {
    if (config.kind === 'sparse-ae') return tf.add(reconstruction, tf.mul(config.sparsity, l1)) as T;
    if (schedule.capacity !== undefined && config.capacity) {
      return tf.add(reconstruction, tf.mul(config.capacity.gamma * schedule.klWeight, tf.abs(tf.sub(kl, schedule.capacity)))) as T;
    }
    return tf.add(reconstruction, tf.mul(schedule.klWeight, kl)) as T;
  });
}

export function lossTerms(model: Autoencoder, inputs: ForwardInputs, options: ForwardOptions & { schedule?: Schedule }): LossTerms & Forward {
  const result = forward(model, inputs, options);
  const { encoded, output } = result;
  // The masked AE's loss counts masked pixels only (He et al.; SimMIM).
  const reconstruction = tf.mean(reconstructionPerExample(model.config, inputs.x, output, model.kind === 'masked-ae' ? inputs.mask : undefined)) as tf.Scalar;
  const kl = encoded.logVariance ? (tf.mean(gaussianKlPerExample(encoded.mean, encoded.logVariance)) as tf.Scalar) : tf.scalar(0);
  const l1 = model.kind === 'sparse-ae' ? (tf.mean(l1PerExample(encoded.z)) as tf.Scalar) : tf.scalar(0);
  const loss = objective(model.config, reconstruction, kl, l1, options.schedule ?? { klWeight: 1 });
  return { ...result, loss, reconstruction, kl, l1 };
}
