/**
 * What each latent dimension of a variational model carries: its share of the KL term and whether
 * it is active (Burda et al. 2016: A_j = Cov_x(E_q[z_j | x]) > 0.01). A dimension whose posterior
 * mean does not move with x tells the decoder nothing; when most do not, the posterior has
 * collapsed onto the prior and the model works as a decoder of noise.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Pacer } from '../data/interrupt';
import type { Autoencoder } from '../model/build';
import { encode } from '../model/losses';
import type { ExampleSource } from './iwae';

/** Burda et al.'s threshold on Cov_x(E_q[z_j | x]). */
export const ACTIVE_THRESHOLD = 0.01;

export interface LatentStatistics {
  examples: number;
  /**
   * For each dimension j, the mean over examples of KL(q(z_j | x) ‖ N(0, 1)) = −½ (1 + log σ_j² − μ_j² − σ_j²),
   * in nats; they add up to the model's KL term (`kl`).
   */
  klPerDimension: number[];
  kl: number;
  /** Cov_x(E_q[z_j | x]) for each dimension: the variance of μ_j over the examples (divided by their count). */
  meanVariance: number[];
  /** meanVariance[j] > ACTIVE_THRESHOLD. */
  active: boolean[];
  activeUnits: number;
  /** Set when most dimensions are inactive: the warning to show beside the numbers. */
  collapse?: string;
}

/**
 * Running float64 sums over batches of encoder outputs: the KL per dimension, and the mean and
 * the sum of squared deviations of μ_j merged batch by batch (Chan et al.), which stays exact
 * where the sum of squares minus the squared sum would cancel.
 */
export class LatentAccumulator {
  private examples = 0;
  private readonly kl: Float64Array;
  private readonly mean: Float64Array;
  private readonly squares: Float64Array;

  constructor(readonly latent: number) {
    this.kl = new Float64Array(latent);
    this.mean = new Float64Array(latent);
    this.squares = new Float64Array(latent);
  }

  /** A batch of posterior means and log-variances, row-major [examples, latent]. */
  add(means: ArrayLike<number>, logVariances: ArrayLike<number>): void {
    const { latent } = this;
    const count = means.length / latent;
    if (!Number.isInteger(count) || logVariances.length !== means.length) throw new RangeError(`expected means and log-variances of [examples, ${latent}], got ${means.length} and ${logVariances.length} values`);
    if (count === 0) return;
    for (let dimension = 0; dimension < latent; dimension++) {
      let batchMean = 0;
      for (let row = 0; row < count; row++) batchMean += means[row * latent + dimension];
      batchMean /= count;
      let batchSquares = 0;
      let divergence = 0;
      for (let row = 0; row < count; row++) {
        const mu = means[row * latent + dimension];
        const logVariance = logVariances[row * latent + dimension];
        batchSquares += (mu - batchMean) ** 2;
        divergence += -0.5 * (1 + logVariance - mu * mu - Math.exp(logVariance));
      }
      const total = this.examples + count;
      const delta = batchMean - this.mean[dimension];
      this.mean[dimension] += (delta * count) / total;
      this.squares[dimension] += batchSquares + (delta * delta * this.examples * count) / total;
      this.kl[dimension] += divergence;
    }
    this.examples += count;
  }

  result(): LatentStatistics {
    const examples = this.examples;
    const klPerDimension = Array.from(this.kl, (sum) => sum / Math.max(1, examples));
    const meanVariance = Array.from(this.squares, (sum) => sum / Math.max(1, examples));
    const active = meanVariance.map((variance) => variance > ACTIVE_THRESHOLD);
    const activeUnits = active.filter(Boolean).length;
    const statistics: LatentStatistics = { examples, klPerDimension, kl: klPerDimension.reduce((sum, value) => sum + value, 0), meanVariance, active, activeUnits };
    const collapse = collapseWarning(activeUnits, this.latent);
    if (collapse) statistics.collapse = collapse;
    return statistics;
  }
}

/** The warning when more than half of the dimensions are inactive; undefined otherwise. */
export function collapseWarning(activeUnits: number, latent: number): string | undefined {
  const inactive = latent - activeUnits;
  if (inactive * 2 <= latent) return undefined;
  return `posterior collapse: ${inactive} of ${latent} latent dimensions are inactive (Cov_x(E_q[z|x]) ≤ ${ACTIVE_THRESHOLD}), so the decoder ignores them; ` +
    'a KL warm-up (kl_warmup), a smaller β or a smaller latent size usually helps';
}

/** The statistics of fixed encoder outputs, row-major [examples, latent]. */
export function latentStatisticsOf(means: ArrayLike<number>, logVariances: ArrayLike<number>, latent: number): LatentStatistics {
  const accumulator = new LatentAccumulator(latent);
  accumulator.add(means, logVariances);
  return accumulator.result();
}

export interface LatentStatisticsOptions {
  /** Examples per encoder pass; 500 by default. */
  batchSize?: number;
  /** Called after each pass with the examples encoded so far. */
  onProgress?: (examples: number, total: number) => void;
  signal?: AbortSignal;
}

/** Encodes every example of the source (posterior means, no sampling) and summarizes the code. */
export async function latentStatistics(model: Autoencoder, source: ExampleSource, options: LatentStatisticsOptions = {}): Promise<LatentStatistics> {
  if (!model.variational) throw new RangeError(`per-dimension KL and active units need a variational model (vae, beta-vae or cvae): the ${model.kind} kind has no posterior q(z|x)`);
  const batchSize = Math.max(1, Math.floor(options.batchSize ?? 500));
  const pacer = new Pacer(options.signal, 'encoding for the latent statistics');
  const accumulator = new LatentAccumulator(model.latent);
  for (let start = 0; start < source.count; start += batchSize) {
    pacer.check();
    const end = Math.min(source.count, start + batchSize);
    const inputs = source.inputs(start, end);
    const stacked = tf.tidy(() => {
      const encoded = encode(model, inputs.x, { training: false, sample: false, labels: inputs.labels });
      return tf.stack([encoded.mean, encoded.logVariance!]);
    });
    tf.dispose([inputs.x, ...(inputs.labels ? [inputs.labels] : []), ...(inputs.mask ? [inputs.mask] : [])]);
    const values = await stacked.data();
    stacked.dispose();
    const half = values.length / 2;
    accumulator.add(values.subarray(0, half), values.subarray(half));
    options.onProgress?.(end, source.count);
    await pacer.step();
  }
  return accumulator.result();
}
