/**
 * The traverse cell's grid: one row per latent dimension, that dimension walked from −k to +k
 * standard deviations about a centre while the others stay put. Rows are ordered by what each
 * dimension carries: its KL over the test split for variational kinds (a dimension whose KL is
 * near zero is ignored by the decoder, and is marked), its variance over the test codes otherwise.
 */
import type { Dataset } from '../data/dataset';
import type { DataConfig, TraverseConfig } from '../format/schema';
import { traversalPath } from '../inference/latent-paths';
import type { Autoencoder } from '../model/build';
import type { CellPicture, CellProblem } from './interpolate';
import { decodeConditioned } from './interpolate';
import { decodeRefusal, encodeSplit } from './latent-codes';
import type { EncodedSplit } from './latent-codes';
import { latentStatisticsOf } from './latent-stats';

/** A dimension whose mean KL over the test split is below this many nats is marked inactive. */
export const INACTIVE_KL_NATS = 0.01;

export interface DimensionRanking {
  /** Dimensions, most informative first (ties by index). */
  order: number[];
  /** Variational kinds: each dimension's mean KL over the examples, in nats. */
  kl?: number[];
  /** Each dimension's variance of the code (posterior mean) over the examples. */
  variance: number[];
  /** Each dimension's mean code over the examples. */
  mean: number[];
}

/** Ranks the dimensions of encoded examples by KL (variational) or by the variance of the code. */
export function rankDimensions(encoded: EncodedSplit): DimensionRanking {
  const { latent, count, means } = encoded;
  const mean = new Array<number>(latent).fill(0);
  const variance = new Array<number>(latent).fill(0);
  for (let dimension = 0; dimension < latent; dimension++) {
    let sum = 0;
    for (let row = 0; row < count; row++) sum += means[row * latent + dimension];
    mean[dimension] = sum / Math.max(1, count);
    let squares = 0;
    for (let row = 0; row < count; row++) squares += (means[row * latent + dimension] - mean[dimension]) ** 2;
    variance[dimension] = squares / Math.max(1, count);
  }
  const kl = encoded.logVariances ? latentStatisticsOf(means, encoded.logVariances, latent).klPerDimension : undefined;
  const score = kl ?? variance;
  const order = Array.from({ length: latent }, (_, index) => index).sort((a, b) => score[b] - score[a] || a - b);
  return { order, ...(kl ? { kl } : {}), variance, mean };
}

/** A `from` test index the data does not have; checked before training. */
export function traversalProblems(config: TraverseConfig, testCount: number): CellProblem[] {
  if (config.from !== 'origin' && config.from >= testCount) return [{ path: ['from'], message: `test image ${config.from} does not exist: the test split has ${testCount} images (0–${testCount - 1})` }];
  return [];
}

export async function traversalGrid(model: Autoencoder, dataset: Dataset, data: DataConfig, config: TraverseConfig, seed: number): Promise<CellPicture & { ranking?: DimensionRanking }> {
  const refusal = decodeRefusal(model);
  if (refusal) return { refusal };
  const { latent } = model;
  const encoded = await encodeSplit(model, dataset, data, { split: 'test', seed });
  const ranking = rankDimensions(encoded);
  const shown = ranking.order.slice(0, Math.min(config.dimensions, latent));
  const centre = new Float32Array(latent);
  let label = 0;
  let from: string;
  if (config.from === 'origin') {
    if (!model.variational) centre.set(ranking.mean);
    from = model.variational ? 'the origin (the prior\'s mean)' : 'the mean code of the test split';
  } else {
    centre.set(encoded.means.subarray(config.from * latent, (config.from + 1) * latent));
    label = encoded.labels[config.from];
    from = `the posterior mean of test image ${config.from} (${dataset.classes[label] ?? label})`;
  }
  const { steps, range } = config;
  const z = new Float32Array(shown.length * steps * latent);
  shown.forEach((dimension, row) => {
    const spread = model.variational ? 1 : Math.sqrt(ranking.variance[dimension]);
    z.set(traversalPath(centre, dimension, centre[dimension] - range * spread, centre[dimension] + range * spread, steps).z, row * steps * latent);
  });
  let condition: Float32Array | undefined;
  if (model.classes > 0) {
    condition = new Float32Array(shown.length * steps * model.classes);
    for (let row = 0; row < shown.length * steps; row++) condition[row * model.classes + label] = 1;
  }
  const pixels = await decodeConditioned(model, z, shown.length * steps, condition);
  const [height, width, channels] = dataset.shape;
  const rows = shown.map((dimension) => {
    if (!ranking.kl) return `z${dimension}: variance ${ranking.variance[dimension].toPrecision(3)}${ranking.variance[dimension] === 0 ? ' (constant)' : ''}`;
    const kl = ranking.kl[dimension];
    return `z${dimension}: KL ${kl.toFixed(3)} nats${kl < INACTIVE_KL_NATS ? ' (inactive)' : ''}`;
  });
  const inactive = ranking.kl ? ranking.kl.filter((kl) => kl < INACTIVE_KL_NATS).length : 0;
  const note = [
    `${shown.length} of ${latent} dimensions, ${ranking.kl ? 'largest KL over the test split first' : 'largest variance over the test codes first'}; each row moves one dimension from −${range} to +${range} ${model.variational ? 'prior standard deviations' : 'standard deviations of that dimension'} about ${from}, ${steps} steps${model.classes > 0 ? `, decoded as class ${label} (${dataset.classes[label] ?? label})` : ''}.`,
    ...(ranking.kl ? [`${inactive} of ${latent} dimensions are inactive (KL below ${INACTIVE_KL_NATS} nats): the decoder ignores them.`] : []),
  ].join('\n');
  return { images: { pixels, count: shown.length * steps, height, width, channels }, columns: steps, rows, note, ranking };
}
