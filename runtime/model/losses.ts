/**
 * Loss terms, per example. For a VAE the reconstruction term is a negative log-likelihood summed
 * over the elements of an example and the KL is summed over latent dimensions (MODELS.md: a mean
 * beside a summed KL would be a hidden β). Plain AEs use the same per-example sums, so their
 * numbers are comparable with the VAE's reconstruction term.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Autoencoder } from './build';

const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

/** −log p(x | decoder output) summed over each example's elements: shape [batch]. */
export function reconstructionPerExample(model: Pick<Autoencoder, 'likelihood' | 'sigma'>, x: tf.Tensor, output: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => {
    const axes = x.shape.slice(1).map((_, index) => index + 1);
    if (model.likelihood === 'bernoulli') {
      // Binary cross-entropy from logits, stable for large |logit|: max(l, 0) − l·x + log(1 + e^−|l|).
      const elementwise = tf.add(tf.sub(tf.relu(output), tf.mul(output, x)), tf.log1p(tf.exp(tf.neg(tf.abs(output)))));
      return tf.sum(elementwise, axes) as tf.Tensor1D;
    }
    const elements = x.size / x.shape[0];
    const squared = tf.sum(tf.squaredDifference(x, output), axes);
    return tf.add(tf.div(squared, 2 * model.sigma * model.sigma), elements * (Math.log(model.sigma) + HALF_LOG_TWO_PI)) as tf.Tensor1D;
  });
}

/** KL(N(μ, σ²) ‖ N(0, I)) = −½ Σ (1 + log σ² − μ² − σ²): shape [batch]. */
export function gaussianKlPerExample(mean: tf.Tensor2D, logVariance: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.mul(-0.5, tf.sum(tf.sub(tf.sub(tf.add(1, logVariance), tf.square(mean)), tf.exp(logVariance)), 1)) as tf.Tensor1D);
}

export interface Encoded {
  /** The code used for decoding: a posterior sample for a VAE, the code for an AE. */
  z: tf.Tensor2D;
  mean: tf.Tensor2D;
  logVariance?: tf.Tensor2D;
}

export function encode(model: Autoencoder, x: tf.Tensor, options: { training: boolean; noise?: tf.Tensor2D; seed?: number; sample?: boolean }): Encoded {
  const code = model.encoder.apply(x, { training: options.training }) as tf.Tensor2D;
  if (model.kind !== 'vae') return { z: code, mean: code };
  const [mean, logVariance] = tf.split(code, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
  if (options.sample === false) return { z: mean, mean, logVariance };
  // Reparameterization: z = μ + σ ⊙ ε, so gradients flow through the sample.
  const noise = options.noise ?? tf.randomNormal(mean.shape, 0, 1, 'float32', options.seed);
  const z = tf.add(mean, tf.mul(tf.exp(tf.mul(0.5, logVariance)), noise)) as tf.Tensor2D;
  return { z, mean, logVariance };
}

/** Decoder output mapped to pixel space: probabilities (bernoulli) or means (gaussian). */
export function toPixels(model: Pick<Autoencoder, 'likelihood'>, output: tf.Tensor): tf.Tensor {
  return tf.tidy(() => (model.likelihood === 'bernoulli' ? tf.sigmoid(output) : tf.clipByValue(output, 0, 1)));
}

export interface LossTerms {
  /** Mean over the batch of reconstruction + KL: the training objective (−ELBO for a VAE). */
  loss: tf.Scalar;
  reconstruction: tf.Scalar;
  kl: tf.Scalar;
}

export function lossTerms(model: Autoencoder, x: tf.Tensor, options: { training: boolean; noise?: tf.Tensor2D; seed?: number; target?: tf.Tensor }): LossTerms & { output: tf.Tensor } {
  const encoded = encode(model, x, options);
  const output = model.decoder.apply(encoded.z, { training: options.training }) as tf.Tensor;
  const reconstruction = tf.mean(reconstructionPerExample(model, options.target ?? x, output)) as tf.Scalar;
  const kl = encoded.logVariance ? (tf.mean(gaussianKlPerExample(encoded.mean, encoded.logVariance)) as tf.Scalar) : tf.scalar(0);
  return { loss: tf.add(reconstruction, kl) as tf.Scalar, reconstruction, kl, output };
}
