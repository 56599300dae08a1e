/**
 * The importance-weighted bound on log p(x) of a variational model (Burda et al. 2016):
 *
 *   log p(x) ≥ L_k = E[log (1/k) Σ_s w_s],   w_s = p(x | z_s) p(z_s) / q(z_s | x),   z_s ~ q(z | x),
 *
 * tighter as k grows; L_1 is the ELBO with the KL estimated from the same sample. Batched over
 * examples and importance samples so that one decoder pass holds at most `batchSize` rows: k = 5000
 * on a whole test split runs in bounded memory, a few examples (or a slice of one example's samples)
 * at a time. The log-mean-exp is accumulated in float64 with a running maximum, so it neither
 * overflows nor loses the small weights.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Split } from '../data/dataset';
import { Pacer } from '../data/interrupt';
import type { DataConfig } from '../format/schema';
import type { Autoencoder } from '../model/build';
import type { ForwardInputs } from '../model/losses';
import { decode, encode, reconstructionPerExample } from '../model/losses';
import { range } from '../train/batches';
import { mixSeed } from '../util/random';
import { dataIsBinary } from './evaluate';
import { exampleInputs } from './example-inputs';

/** Where the examples come from, a range at a time. */
export interface ExampleSource {
  count: number;
  /** Every x value is 0 or 1 (binarized or binary data): only then is a Bernoulli likelihood in nats. */
  binary: boolean;
  /** The inputs of examples start ≤ i < end: x, and one-hot labels for a cvae. The caller disposes them. */
  inputs(start: number, end: number): ForwardInputs;
}

/**
 * A split of a dataset as the data cell prepares it. Each example is drawn from a seed of its own
 * index (example-inputs.ts), so the same example gets the same pixels however the examples are
 * grouped (the bound for different k then compares on the same data, and on the data the loss
 * metrics saw).
 */
export function splitSource(model: Pick<Autoencoder, 'classes' | 'inputShape'>, split: Split, data: Pick<DataConfig, 'binarize' | 'dataset'>, seed: number): ExampleSource {
  return {
    count: split.count,
    binary: dataIsBinary(data as DataConfig),
    inputs: (start, end) => exampleInputs(split, range(start, end), model.inputShape, data.binarize, seed, { classes: model.classes }),
  };
}

/** Why the bound cannot be computed for this model and data, or undefined when it can. */
export function iwaeRefusal(model: Pick<Autoencoder, 'kind' | 'variational' | 'likelihood'>, source: Pick<ExampleSource, 'binary'>): string | undefined {
  if (!model.variational) return `the IWAE bound needs a variational model (vae, beta-vae or cvae): the ${model.kind} kind has no posterior q(z|x) to draw importance samples from`;
  if (model.likelihood === 'smooth-l1') return 'the IWAE bound needs a likelihood in nats: smooth-l1 is a loss, not a log-density (use likelihood: gaussian or laplace)';
  if (model.likelihood === 'bernoulli' && !source.binary) {
    return 'the IWAE bound needs a likelihood in nats: a Bernoulli likelihood on grey-level images is an unnormalized loss (set binarize: static or dynamic in the data cell)';
  }
  return undefined;
}

export class IwaeRefusedError extends Error {
  override name = 'IwaeRefusedError';
}

/** Which importance samples one pass draws: samples firstSample… of examples firstExample…. */
export interface NoiseRequest {
  firstExample: number;
  examples: number;
  firstSample: number;
  samples: number;
  latent: number;
}

/** Standard-normal ε for a pass, shaped [samples, examples, latent]: a new tensor that the bound disposes. */
export type NoiseSource = (request: NoiseRequest) => tf.Tensor3D;

export interface IwaeProgress {
  /** Examples whose bound is complete. */
  examples: number;
  /** Importance samples drawn so far, over all examples, and how many there will be (k per example). */
  samples: number;
  totalSamples: number;
}

export interface IwaeOptions {
  /** Importance samples per example. */
  k: number;
  /** The most rows (examples × samples) one decoder pass holds; 1000 by default. */
  batchSize?: number;
  /** Seeds the default noise: the same seed, k and batch size draw the same samples. */
  seed?: number;
  /** Replaces the seeded draws, for a computation elsewhere on the same ε. */
  noise?: NoiseSource;
  onProgress?: (progress: IwaeProgress) => void;
  signal?: AbortSignal;
}

export interface IwaeResult {
  k: number;
  examples: number;
  /** The mean over examples of log (1/k) Σ w_s: nats per example, a lower bound on log p(x). */
  bound: number;
  /** The standard error of that mean over examples. */
  standardError: number;
  perExample: Float64Array;
}

const DEFAULT_ROWS = 1000;

/**
 * log w for each row of one pass, row s·E + e for sample s of example e (E examples):
 * log p(x | z) + log p(z) − log q(z | x), with z = μ + σ ⊙ ε. The 2π terms of the prior and the
 * posterior cancel, leaving −½ Σ_j (z_j² − ε_j² − log σ_j²).
 */
export function logImportanceWeights(model: Autoencoder, inputs: ForwardInputs, mean: tf.Tensor2D, logVariance: tf.Tensor2D, noise: tf.Tensor3D): tf.Tensor1D {
  return tf.tidy(() => {
    const [samples, examples, latent] = noise.shape;
    const z = tf.add(mean, tf.mul(tf.exp(tf.mul(0.5, logVariance)), noise)) as tf.Tensor3D;
    const rows = samples * examples;
    const x = tf.tile(inputs.x, [samples, ...inputs.x.shape.slice(1).map(() => 1)]);
    const labels = inputs.labels ? (tf.tile(inputs.labels, [samples, 1]) as tf.Tensor2D) : undefined;
    const output = decode(model, tf.reshape(z, [rows, latent]) as tf.Tensor2D, { training: false, labels });
    const logLikelihood = tf.neg(reconstructionPerExample(model.config, x, output));
    const logPriorOverPosterior = tf.mul(-0.5, tf.sum(tf.sub(tf.sub(tf.square(z), tf.square(noise)), logVariance), 2));
    return tf.add(logLikelihood, tf.reshape(logPriorOverPosterior, [rows])) as tf.Tensor1D;
  });
}

/**
 * The IWAE bound with k importance samples on every example of the source. Refuses (IwaeRefusedError)
 * where the likelihood is not in nats; stops with an AbortError when the signal fires.
 */
export async function iwaeBound(model: Autoencoder, source: ExampleSource, options: IwaeOptions): Promise<IwaeResult> {
  const refusal = iwaeRefusal(model, source);
  if (refusal) throw new IwaeRefusedError(refusal);
  const { k } = options;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a whole number of importance samples, at least 1 (got ${k})`);
  const rows = Math.max(1, Math.floor(options.batchSize ?? DEFAULT_ROWS));
  const samplesPerPass = Math.min(k, rows);
  const examplesPerBlock = Math.max(1, Math.floor(rows / samplesPerPass));
  const seed = options.seed ?? 0;
  // TF.js takes a seed of 0 for no seed at all (Math.random): a hash that lands on 0 becomes 1.
  const draw: NoiseSource = options.noise ?? ((request) => tf.randomNormal([request.samples, request.examples, request.latent], 0, 1, 'float32', mixSeed(seed, request.firstExample, request.firstSample) || 1) as tf.Tensor3D);
  const pacer = new Pacer(options.signal, 'computing the IWAE bound');
  const count = source.count;
  const perExample = new Float64Array(count);
  for (let start = 0; start < count; start += examplesPerBlock) {
    const end = Math.min(count, start + examplesPerBlock);
    const examples = end - start;
    const inputs = source.inputs(start, end);
    const held: tf.Tensor[] = [inputs.x, ...(inputs.labels ? [inputs.labels] : []), ...(inputs.mask ? [inputs.mask] : [])];
    try {
      const [mean, logVariance] = tf.tidy(() => {
        const encoded = encode(model, inputs.x, { training: false, sample: false, labels: inputs.labels });
        return [encoded.mean, encoded.logVariance!];
      });
      held.push(mean, logVariance);
      // log Σ_s w_s per example, kept as a running maximum and the sum of exp(log w − maximum).
      const maxima = new Float64Array(examples).fill(-Infinity);
      const sums = new Float64Array(examples);
      for (let firstSample = 0; firstSample < k; firstSample += samplesPerPass) {
        pacer.check();
        const samples = Math.min(samplesPerPass, k - firstSample);
        const noise = draw({ firstExample: start, examples, firstSample, samples, latent: model.latent });
        let weights: tf.Tensor1D;
        try {
          if (noise.shape.join() !== [samples, examples, model.latent].join()) throw new RangeError(`the noise source gave ε of shape [${noise.shape.join(', ')}] for a pass of [${samples}, ${examples}, ${model.latent}] (samples, examples, latent)`);
          weights = logImportanceWeights(model, inputs, mean, logVariance, noise);
        } finally {
          noise.dispose();
        }
        const values = await weights.data();
        weights.dispose();
        for (let row = 0; row < values.length; row++) {
          const example = row % examples;
          const value = values[row];
          // A zero weight adds nothing (and −∞ − −∞ would make the sum NaN).
          if (value === -Infinity) continue;
          if (value > maxima[example]) {
            sums[example] = sums[example] * Math.exp(maxima[example] - value) + 1;
            maxima[example] = value;
          } else sums[example] += Math.exp(value - maxima[example]);
        }
        options.onProgress?.({ examples: firstSample + samples === k ? end : start, samples: start * k + (firstSample + samples) * examples, totalSamples: count * k });
        await pacer.step();
      }
      for (let example = 0; example < examples; example++) perExample[start + example] = maxima[example] + Math.log(sums[example] / k);
    } finally {
      tf.dispose(held);
    }
  }
  let sum = 0;
  for (const value of perExample) sum += value;
  const bound = sum / Math.max(1, count);
  let squares = 0;
  for (const value of perExample) squares += (value - bound) ** 2;
  const standardError = count > 1 ? Math.sqrt(squares / (count - 1) / count) : Number.NaN;
  return { k, examples: count, bound, standardError, perExample };
}
