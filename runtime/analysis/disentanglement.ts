/**
 * Disentanglement of a code against known, discrete generative factors (the sprites' factor grid):
 * the mutual information gap (Chen et al. 2018) with the 20-bin histogram estimator of Locatello
 * et al. 2019, and the FactorVAE score (Kim & Mnih 2018), computed as disentanglement_lib does.
 * Plain arithmetic on arrays: the caller encodes, so no model or tensor is held here.
 */
import { Random } from '../util/random';

/** Bins per latent dimension in the histogram estimator (Locatello et al. 2019). */
export const MIG_BINS = 20;
/** Factors with more distinct values than this are continuous, not levels of a grid. */
const MAX_FACTOR_LEVELS = 256;

/** Each factor's class (0 … levels − 1) for every example. */
export interface DiscreteFactors {
  names: readonly string[];
  count: number;
  classes: Int32Array[];
  levels: number[];
}

/**
 * Turns factor values (count × names.length, as a dataset's `factors` holds them) into classes,
 * one per distinct value in increasing order. A continuous factor (random-mode sprites' x and y:
 * more than 256 values, or most examples with a value of their own) is refused by name.
 */
export function discreteFactors(values: ArrayLike<number>, names: readonly string[]): DiscreteFactors {
  const factors = names.length;
  if (factors === 0 || values.length % factors !== 0) throw new Error(`factor values: ${values.length} numbers do not divide into ${factors} factors per example`);
  const count = values.length / factors;
  const classes: Int32Array[] = [];
  const levels: number[] = [];
  names.forEach((name, factor) => {
    const column = Float64Array.from({ length: count }, (_, index) => values[index * factors + factor]);
    const occurrences = new Map<number, number>();
    for (const value of column) occurrences.set(value, (occurrences.get(value) ?? 0) + 1);
    const distinct = [...occurrences.keys()].sort((a, b) => a - b);
    // A level of a grid recurs; a continuous factor gives most examples a value of their own.
    const single = [...occurrences.values()].filter((times) => times === 1).length;
    if (distinct.length > MAX_FACTOR_LEVELS || single > count / 2) {
      throw new Error(`factor ${name} takes ${distinct.length} distinct values over ${count} examples: the metrics need discrete factors (sprites with \`factors: grid\`)`);
    }
    const classOf = new Map(distinct.map((value, level) => [value, level]));
    classes.push(Int32Array.from(column, (value) => classOf.get(value)!));
    levels.push(distinct.length);
  });
  return { names, count, classes, levels };
}

/**
 * Locatello et al.'s discretization of one latent dimension: numpy's `histogram(x, 20)` edges and
 * `digitize` against all but the last, so bins are 1 … 20 and the maximum falls in bin 20.
 */
export function histogramBins(values: ArrayLike<number>, bins = MIG_BINS): Int32Array {
  let low = Infinity;
  let high = -Infinity;
  for (let index = 0; index < values.length; index++) {
    if (!Number.isFinite(values[index])) throw new Error(`latent value ${values[index]} at example ${index}: the metrics need finite codes`);
    low = Math.min(low, values[index]);
    high = Math.max(high, values[index]);
  }
  // numpy widens a range of zero width to ±0.5 around the value.
  if (low === high) {
    low -= 0.5;
    high += 0.5;
  }
  const step = (high - low) / bins;
  const edges = Float64Array.from({ length: bins }, (_, edge) => edge * step + low);
  return Int32Array.from({ length: values.length }, (_, index) => {
    let bin = 0;
    while (bin < bins && edges[bin] <= values[index]) bin++;
    return bin;
  });
}

function contingency(a: Int32Array, b: Int32Array): { counts: Map<number, number>; rows: Map<number, number>; columns: Map<number, number> } {
  if (a.length !== b.length) throw new Error(`mutual information of ${a.length} and ${b.length} labels`);
  const counts = new Map<number, number>();
  const rows = new Map<number, number>();
  const columns = new Map<number, number>();
  // Keys pair two non-negative labels below 2²⁰, exactly, in one number.
  for (let index = 0; index < a.length; index++) {
    const key = a[index] * 1048576 + b[index];
    counts.set(key, (counts.get(key) ?? 0) + 1);
    rows.set(a[index], (rows.get(a[index]) ?? 0) + 1);
    columns.set(b[index], (columns.get(b[index]) ?? 0) + 1);
  }
  return { counts, rows, columns };
}

/** Mutual information of two labelings in nats, as scikit-learn's `mutual_info_score` computes it. */
export function mutualInformation(a: Int32Array, b: Int32Array): number {
  const { counts, rows, columns } = contingency(a, b);
  if (rows.size === 1 || columns.size === 1) return 0;
  const total = a.length;
  let sum = 0;
  for (const [key, count] of counts) {
    const row = rows.get(Math.floor(key / 1048576))!;
    const column = columns.get(key % 1048576)!;
    const probability = count / total;
    const term = probability * (Math.log(count) - Math.log(total)) + probability * (-Math.log(row * column) + Math.log(total) + Math.log(total));
    if (Math.abs(term) >= Number.EPSILON) sum += term;
  }
  return Math.max(0, sum);
}

export interface MigFactor {
  name: string;
  /** H(v_k) in nats. */
  entropy: number;
  /** The dimensions with the most and the second most information about the factor. */
  best: number;
  second: number;
  /** (I(z_best; v_k) − I(z_second; v_k)) / H(v_k): 1 when one dimension alone holds the factor. */
  gap: number;
}

export interface MigResult {
  metric: 'mig';
  /** Mean normalised gap over the factors that vary: in [0, 1], higher is more disentangled. */
  score: number;
  units: string;
  good: string;
  bins: number;
  examples: number;
  dimensions: number;
  factors: MigFactor[];
  /** Factors left out because they take one value only (no entropy to normalise by). */
  constant: string[];
  /** I(z_j; v_k) in nats, [dimension][factor]. */
  mutualInformation: number[][];
}

/**
 * MIG of latent means (count × dimensions, row-major) against discrete factors: each dimension
 * binned into 20 equal-width bins over its own range, mutual information with each factor, and
 * per factor the gap between its two most informative dimensions over its entropy, averaged.
 */
export function mutualInformationGap(latents: ArrayLike<number>, dimensions: number, factors: DiscreteFactors): MigResult {
  const { count } = factors;
  if (latents.length !== count * dimensions) throw new Error(`latents: ${latents.length} values are not ${count} examples × ${dimensions} dimensions`);
  if (dimensions < 2) throw new Error('MIG needs a code of at least 2 dimensions (it compares the two most informative)');
  const binned = Array.from({ length: dimensions }, (_, dimension) => histogramBins(Float64Array.from({ length: count }, (_, index) => latents[index * dimensions + dimension])));
  const information = binned.map((bins) => factors.classes.map((classes) => mutualInformation(bins, classes)));
  const perFactor: MigFactor[] = [];
  const constant: string[] = [];
  factors.names.forEach((name, factor) => {
    const entropy = mutualInformation(factors.classes[factor], factors.classes[factor]);
    if (entropy === 0) {
      constant.push(name);
      return;
    }
    const order = information.map((row, dimension) => ({ dimension, value: row[factor] })).sort((a, b) => b.value - a.value || a.dimension - b.dimension);
    perFactor.push({ name, entropy, best: order[0].dimension, second: order[1].dimension, gap: (order[0].value - order[1].value) / entropy });
  });
  if (perFactor.length === 0) throw new Error(`MIG: every factor (${factors.names.join(', ')}) takes one value only`);
  const score = perFactor.reduce((sum, factor) => sum + factor.gap, 0) / perFactor.length;
  return {
    metric: 'mig',
    score,
    units: 'fraction of each factor\'s entropy (0 to 1)',
    good: '1: each factor is held by one dimension alone; near 0: factors spread over dimensions or absent',
    bins: MIG_BINS,
    examples: count,
    dimensions,
    factors: perFactor,
    constant,
    mutualInformation: information,
  };
}

/** Draws images with factors at levels: the sprites' factor grid (SpriteGrid) is one. */
export interface FactorSampler {
  readonly names: readonly string[];
  /** Levels of each factor. */
  readonly levels: readonly number[];
  /** count images, one after the other, with every factor drawn uniformly except the fixed one. */
  sample(count: number, random: Random, fixed?: { factor: number; level: number }): { images: Uint8Array };
}

/**
 * The encoder's means (count × dimensions, row-major) of count images as the sampler draws them:
 * uint8 pixels, one image after the other (sprites: size × size × 1, 0 or 255), to be scaled to
 * [0, 1] as the data pipeline does.
 */
export type Encode = (images: Uint8Array, count: number) => ArrayLike<number> | Promise<ArrayLike<number>>;

export interface FactorVaeOptions {
  sampler: FactorSampler;
  encode: Encode;
  seed: number;
  /** Images per vote, all sharing the fixed factor's level (L; 64 in disentanglement_lib). */
  imagesPerVote?: number;
  /** Votes that fit the majority-vote classifier (10,000 in disentanglement_lib). */
  trainVotes?: number;
  /** Held-out votes that score it (5,000 in disentanglement_lib). */
  evalVotes?: number;
  /** Images whose codes give each dimension's global standard deviation (10,000 in disentanglement_lib). */
  varianceImages?: number;
  /**
   * A dimension whose means vary less than this over the data (variance) has collapsed and is
   * pruned; 0.01, the default, is the active-units rule of Burda et al. for a VAE's means. The
   * threshold is absolute: give 0 for a code of arbitrary scale (a deterministic autoencoder's), and
   * only dimensions that never vary are pruned.
   */
  minVariance?: number;
  /** Images per call of encode (whole votes at a time). */
  encodeBatch?: number;
  signal?: AbortSignal;
  /** Images encoded so far out of all the score needs. */
  onProgress?: (done: number, total: number) => void;
}

export interface FactorVaeResult {
  metric: 'factorvae';
  /** Accuracy of the majority-vote classifier on the held-out votes. */
  score: number;
  trainAccuracy: number;
  units: string;
  good: string;
  /** 1 / number of factors: what a code that ignores the factors scores. */
  chance: number;
  imagesPerVote: number;
  trainVotes: number;
  evalVotes: number;
  varianceImages: number;
  minVariance: number;
  factors: readonly string[];
  dimensions: number;
  /** Dimensions kept (not collapsed); only they vote. */
  activeDimensions: number[];
  /** Global standard deviation of each dimension's means. */
  scales: number[];
  /** For each dimension, the factor the classifier reads from it (undefined where pruned). */
  classifier: (string | undefined)[];
  /** Votes [factor][dimension]: how often fixing the factor left that dimension the least variable. */
  votes: { train: number[][]; eval: number[][] };
  note?: string;
}

const DEFAULTS = { imagesPerVote: 64, trainVotes: 10_000, evalVotes: 5_000, varianceImages: 10_000, minVariance: 0.01, encodeBatch: 1024 };

/** Column variances (ddof 1) of a count × dimensions block, as numpy's `var(axis=0, ddof=1)`. */
function columnVariances(codes: ArrayLike<number>, offset: number, count: number, dimensions: number): Float64Array {
  const mean = new Float64Array(dimensions);
  for (let index = 0; index < count; index++) for (let dimension = 0; dimension < dimensions; dimension++) mean[dimension] += codes[offset + index * dimensions + dimension];
  for (let dimension = 0; dimension < dimensions; dimension++) mean[dimension] /= count;
  const variance = new Float64Array(dimensions);
  for (let index = 0; index < count; index++) {
    for (let dimension = 0; dimension < dimensions; dimension++) variance[dimension] += (codes[offset + index * dimensions + dimension] - mean[dimension]) ** 2;
  }
  for (let dimension = 0; dimension < dimensions; dimension++) variance[dimension] /= count - 1;
  return variance;
}

/**
 * The FactorVAE score: normalise each dimension by its global standard deviation, prune the
 * collapsed ones, and for each vote fix one factor at a random level, draw L images, and vote for
 * the dimension of least normalised variance; a majority-vote classifier from dimension to factor,
 * fitted on the training votes, is scored on the held-out ones.
 */
export async function factorVaeScore(options: FactorVaeOptions): Promise<FactorVaeResult> {
  const settings = { ...DEFAULTS, ...definedOnly(options) };
  const { sampler, encode, signal, onProgress } = options;
  const { imagesPerVote, trainVotes, evalVotes, varianceImages, minVariance } = settings;
  if (imagesPerVote < 2) throw new Error('FactorVAE score: imagesPerVote must be at least 2 (a variance needs two codes)');
  if (varianceImages < 2 || trainVotes < 1 || evalVotes < 1) throw new Error('FactorVAE score: varianceImages must be at least 2, trainVotes and evalVotes at least 1');
  const random = new Random(options.seed);
  const factorCount = sampler.levels.length;
  const total = varianceImages + (trainVotes + evalVotes) * imagesPerVote;
  let done = 0;
  let dimensions = 0;

  const encodeChecked = async (images: Uint8Array, count: number): Promise<ArrayLike<number>> => {
    signal?.throwIfAborted();
    const codes = await encode(images, count);
    if (dimensions === 0) dimensions = codes.length / count;
    if (!Number.isInteger(dimensions) || dimensions < 1 || codes.length !== count * dimensions) throw new Error(`encode returned ${codes.length} values for ${count} images (expected ${count} × ${dimensions || 'dimensions'})`);
    done += count;
    onProgress?.(done, total);
    return codes;
  };

  // Global variances: running sums over batches (float64), then ddof 1 as numpy.
  const sums: number[] = [];
  const squares: number[] = [];
  const batch = Math.max(1, settings.encodeBatch);
  const shift: number[] = [];
  for (let start = 0; start < varianceImages; start += batch) {
    const count = Math.min(batch, varianceImages - start);
    const codes = await encodeChecked(sampler.sample(count, random).images, count);
    for (let index = 0; index < count; index++) {
      for (let dimension = 0; dimension < dimensions; dimension++) {
        // Shifted by the first code so that large means do not cancel the variance away.
        shift[dimension] ??= codes[dimension];
        const value = codes[index * dimensions + dimension] - shift[dimension];
        sums[dimension] = (sums[dimension] ?? 0) + value;
        squares[dimension] = (squares[dimension] ?? 0) + value * value;
      }
    }
  }
  const variances = sums.map((sum, dimension) => Math.max(0, (squares[dimension] - (sum * sum) / varianceImages) / (varianceImages - 1)));
  const activeDimensions = variances.flatMap((variance, dimension) => (variance > minVariance && variance > 0 ? [dimension] : []));
  const empty = () => Array.from({ length: factorCount }, () => new Array<number>(dimensions).fill(0));
  const votes = { train: empty(), eval: empty() };
  const base = {
    metric: 'factorvae' as const,
    units: 'accuracy on held-out votes (0 to 1)',
    good: `1: holding any factor fixed leaves a dimension of its own nearly constant; ${(1 / factorCount).toFixed(2)} (1 / ${factorCount} factors) is what a code that ignores the factors scores`,
    chance: 1 / factorCount,
    imagesPerVote,
    trainVotes,
    evalVotes,
    varianceImages,
    minVariance,
    factors: sampler.names,
    dimensions,
    activeDimensions,
    scales: variances.map(Math.sqrt),
  };
  if (activeDimensions.length === 0) {
    return { ...base, score: 0, trainAccuracy: 0, classifier: new Array(dimensions).fill(undefined), votes, note: `no active dimension (every variance of the means is at most ${minVariance}): score 0, as disentanglement_lib gives` };
  }

  const vote = async (tally: number[][], count: number) => {
    const votesPerBatch = Math.max(1, Math.floor(batch / imagesPerVote));
    for (let start = 0; start < count; start += votesPerBatch) {
      const batchVotes = Math.min(votesPerBatch, count - start);
      const fixed = Array.from({ length: batchVotes }, () => {
        const factor = random.int(factorCount);
        return { factor, level: random.int(sampler.levels[factor]) };
      });
      const drawn = fixed.map((held) => sampler.sample(imagesPerVote, random, held).images);
      const images = new Uint8Array(drawn.reduce((sum, part) => sum + part.length, 0));
      let offset = 0;
      for (const part of drawn) {
        images.set(part, offset);
        offset += part.length;
      }
      const codes = await encodeChecked(images, batchVotes * imagesPerVote);
      fixed.forEach(({ factor }, index) => {
        const local = columnVariances(codes, index * imagesPerVote * dimensions, imagesPerVote, dimensions);
        let least = activeDimensions[0];
        for (const dimension of activeDimensions) if (local[dimension] / variances[dimension] < local[least] / variances[least]) least = dimension;
        tally[factor][least]++;
      });
    }
  };
  await vote(votes.train, trainVotes);
  await vote(votes.eval, evalVotes);

  // Each dimension reads the factor it won most training votes for (the first on a tie, as numpy's argmax).
  const reads = Array.from({ length: dimensions }, (_, dimension) => {
    let best = 0;
    for (let factor = 1; factor < factorCount; factor++) if (votes.train[factor][dimension] > votes.train[best][dimension]) best = factor;
    return best;
  });
  const accuracy = (tally: number[][], count: number) => reads.reduce((sum, factor, dimension) => sum + tally[factor][dimension], 0) / count;
  return {
    ...base,
    score: accuracy(votes.eval, evalVotes),
    trainAccuracy: accuracy(votes.train, trainVotes),
    classifier: reads.map((factor, dimension) => (activeDimensions.includes(dimension) ? sampler.names[factor] : undefined)),
    votes,
  };
}

function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** One line for a person: the score, its units, what good looks like, and how it was measured. */
export function describeMig(result: MigResult): string {
  const constant = result.constant.length > 0 ? `; ${result.constant.join(', ')} constant, left out` : '';
  return `MIG ${result.score.toFixed(3)} (${result.units}; ${result.good}): ${result.factors.map((factor) => `${factor.name} ${factor.gap.toFixed(2)}`).join(', ')}; ${result.bins} bins per dimension, ${result.examples} examples${constant}`;
}

export function describeFactorVae(result: FactorVaeResult): string {
  const pruned = result.dimensions - result.activeDimensions.length;
  return `FactorVAE score ${result.score.toFixed(3)} (${result.units}; ${result.good}): L = ${result.imagesPerVote} images per vote, ${result.trainVotes} training and ${result.evalVotes} held-out votes, training accuracy ${result.trainAccuracy.toFixed(3)}, ${result.activeDimensions.length} of ${result.dimensions} dimensions active${pruned > 0 ? ` (${pruned} collapsed, variance ≤ ${result.minVariance})` : ''}${result.note ? `; ${result.note}` : ''}`;
}
