import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Encode, FactorSampler } from '../../runtime/analysis/disentanglement';
import { describeFactorVae, describeMig, discreteFactors, factorVaeScore, histogramBins, mutualInformationGap } from '../../runtime/analysis/disentanglement';
import { SPRITE_FACTORS, SpriteGrid, generateSprites } from '../../runtime/data/sprites';
import { Random } from '../../runtime/util/random';
import { uniform } from './fixture';

/** Printed by `/usr/bin/python3 scripts/reference/mig.py` (scikit-learn 1.2.1, numpy 1.24.2) for the inputs below. */
const REFERENCE = {
  binCounts: [
    [42, 42, 37, 8, 0, 0, 0, 0, 31, 45, 42, 31, 0, 0, 0, 0, 16, 31, 40, 35],
    [6, 9, 9, 13, 18, 31, 36, 29, 29, 29, 37, 20, 26, 27, 28, 22, 12, 12, 4, 3],
    [18, 19, 16, 17, 20, 17, 17, 22, 22, 18, 17, 30, 21, 21, 21, 15, 24, 20, 14, 31],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 400, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [108, 0, 95, 0, 0, 0, 0, 0, 68, 34, 0, 0, 0, 0, 0, 0, 0, 0, 0, 95],
  ],
  mutualInformation: [
    [1.0949786290930152, 0.06859244526337202, 0.0408458240424543],
    [0.07818325710251356, 0.8599674286598824, 0.07877949819056212],
    [0.05480203003667039, 0.11526689880080256, 0.07788011098680314],
    [0.0, 0.0, 0.0],
    [0.009942995262054326, 0.014789197789662888, 1.3848295248866964],
  ],
  entropy: [1.0949786290930157, 1.605636571013007, 1.3848295248866964],
  gaps: [0.9285983716711674, 0.46380391634281426, 0.9431124937944924],
  mig: 0.7785049272694913,
};

/** The reference script's inputs: three factors and five latent dimensions (a noisy, a mixed, a noise, a constant and a non-linear one). */
function referenceInputs(): { latents: Float64Array; classes: Int32Array[] } {
  const count = 400;
  const [f0, f1, f2] = [[21, 3], [22, 5], [23, 4]].map(([seed, levels]) => Int32Array.from(uniform(count, seed), (value) => Math.floor(value * levels)));
  const [u31, u32, u33, u34] = [31, 32, 33, 34].map((seed) => uniform(count, seed));
  const latents = new Float64Array(count * 5);
  for (let index = 0; index < count; index++) {
    latents.set([f0[index] + 0.4 * u31[index], 0.5 * f1[index] - 0.2 * f0[index] + u32[index], u33[index] - 0.5, 0.25, f2[index] * f2[index] * 0.3 + 0.05 * u34[index]], index * 5);
  }
  return { latents, classes: [f0, f1, f2] };
}

function closeTo(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual}, expected ${expected} ± ${tolerance}`);
}

/** A random orthogonal matrix (Gram–Schmidt on Gaussian-like columns), row-major. */
function randomRotation(size: number, random: Random): Float64Array {
  const columns: Float64Array[] = [];
  while (columns.length < size) {
    const column = Float64Array.from({ length: size }, () => Array.from({ length: 12 }, () => random.next()).reduce((a, b) => a + b) - 6);
    for (const other of columns) {
      const dot = column.reduce((sum, value, index) => sum + value * other[index], 0);
      column.forEach((value, index) => (column[index] = value - dot * other[index]));
    }
    const norm = Math.hypot(...column);
    columns.push(column.map((value) => value / norm));
  }
  return Float64Array.from({ length: size * size }, (_, index) => columns[index % size][Math.floor(index / size)]);
}

describe('MIG', () => {
  test('agrees with scikit-learn\'s mutual_info_score on the same 20-bin discretization (scripts/reference/mig.py)', () => {
    const { latents, classes } = referenceInputs();
    for (let dimension = 0; dimension < 5; dimension++) {
      const bins = histogramBins(Float64Array.from({ length: 400 }, (_, index) => latents[index * 5 + dimension]));
      const counts = new Array<number>(20).fill(0);
      bins.forEach((bin) => counts[bin - 1]++);
      assert.deepEqual(counts, REFERENCE.binCounts[dimension], `dimension ${dimension}'s bins`);
    }
    const result = mutualInformationGap(latents, 5, { names: ['f0', 'f1', 'f2'], count: 400, classes, levels: [3, 5, 4] });
    result.mutualInformation.forEach((row, dimension) => row.forEach((value, factor) => closeTo(value, REFERENCE.mutualInformation[dimension][factor], 1e-12, `I(z${dimension}; f${factor})`)));
    result.factors.forEach((factor, index) => {
      closeTo(factor.entropy, REFERENCE.entropy[index], 1e-12, `H(${factor.name})`);
      closeTo(factor.gap, REFERENCE.gaps[index], 1e-12, `${factor.name}'s gap`);
    });
    closeTo(result.score, REFERENCE.mig, 1e-12, 'MIG');
    assert.deepEqual(result.factors.map((factor) => [factor.best, factor.second]), [[0, 1], [1, 2], [4, 1]]);
  });

  test('a perfectly disentangled code of the sprite grid scores ≈ 1 (rotation at the 20-bin ceiling), a random rotation of it scores low', () => {
    const grid = new SpriteGrid(32);
    const count = 10_000;
    const levels = grid.sampleLevels(count, new Random(2));
    const classes = SPRITE_FACTORS.map((_, factor) => Int32Array.from({ length: count }, (_, index) => levels[index * 5 + factor]));
    const factors = { names: SPRITE_FACTORS, count, classes, levels: [...grid.levels] };
    // Each dimension an affine function of one factor's level: the histogram estimator does not see the scale.
    const code = Float64Array.from({ length: count * 5 }, (_, index) => levels[index] * ((index % 5) + 1) - 3);
    const perfect = mutualInformationGap(code, 5, factors);
    for (const factor of perfect.factors) {
      // 40 rotations in 20 bins: two levels share each bin, so a perfect code keeps log 20 of log 40 nats.
      const ceiling = factor.name === 'rotation' ? Math.log(20) / Math.log(40) : 1;
      closeTo(factor.gap, ceiling, 0.02, `${factor.name}'s gap`);
    }
    assert.ok(perfect.score > 0.95, describeMig(perfect));
    assert.match(describeMig(perfect), /^MIG 0\.9\d\d \(fraction of each factor's entropy.*20 bins per dimension, 10000 examples$/);

    const rotation = randomRotation(5, new Random(9));
    const standardized = Float64Array.from(levels, (level, index) => (level - (grid.levels[index % 5] - 1) / 2) / grid.levels[index % 5]);
    const rotated = new Float64Array(count * 5);
    for (let index = 0; index < count; index++) {
      for (let row = 0; row < 5; row++) {
        for (let column = 0; column < 5; column++) rotated[index * 5 + row] += rotation[row * 5 + column] * standardized[index * 5 + column];
      }
    }
    const mixed = mutualInformationGap(rotated, 5, factors);
    assert.ok(mixed.score < 0.25, describeMig(mixed));
  });

  test('takes factor values as the dataset holds them: the grid\'s become classes, random-mode x and y are refused by name', async () => {
    const grid = await generateSprites({ size: 16, count: 2000, seed: 1, testFraction: 0.5, mode: 'grid' });
    const factors = discreteFactors(grid.factors!.test, SPRITE_FACTORS);
    assert.deepEqual(factors.levels, [3, 6, 40, 7, 7]);
    assert.equal(factors.count, 1000);
    // A small split still shows its levels recurring, though not every rotation occurs.
    assert.equal(discreteFactors(grid.factors!.test.subarray(0, 60 * 5), SPRITE_FACTORS).count, 60);
    const random = await generateSprites({ size: 16, count: 2000, seed: 1, testFraction: 0.5 });
    assert.throws(() => discreteFactors(random.factors!.test, SPRITE_FACTORS), /^Error: factor x takes \d+ distinct values over 1000 examples: the metrics need discrete factors \(sprites with `factors: grid`\)$/);
  });

  test('leaves out a factor that never varies, and refuses a code of one dimension', () => {
    const classes = [Int32Array.from({ length: 100 }, (_, index) => index % 4), new Int32Array(100)];
    const code = Float64Array.from({ length: 200 }, (_, index) => (index % 2 === 0 ? Math.floor(index / 2) % 4 : 0.5));
    const result = mutualInformationGap(code, 2, { names: ['a', 'b'], count: 100, classes, levels: [4, 1] });
    assert.deepEqual(result.constant, ['b']);
    closeTo(result.score, 1, 1e-12, 'MIG');
    assert.throws(() => mutualInformationGap(new Float64Array(100), 1, { names: ['a'], count: 100, classes: [classes[0]], levels: [4] }), /at least 2 dimensions/);
  });
});

/**
 * The sprite grid, remembering the levels of what it drew until they are encoded: test encoders
 * that read the true factors stand in for a model that has learned them perfectly.
 */
class RecordingSampler implements FactorSampler {
  readonly names: readonly string[];
  readonly levels: readonly number[];
  private pending: Int32Array[] = [];

  constructor(private readonly grid: SpriteGrid) {
    this.names = grid.names;
    this.levels = grid.levels;
  }

  sample(count: number, random: Random, fixed?: { factor: number; level: number }): { images: Uint8Array } {
    const drawn = this.grid.sample(count, random, fixed);
    this.pending.push(drawn.levels);
    return drawn;
  }

  /** The levels of the images drawn since the last call, in order. */
  take(count: number): Int32Array {
    const levels = new Int32Array(this.pending.reduce((sum, part) => sum + part.length, 0));
    let offset = 0;
    for (const part of this.pending) {
      levels.set(part, offset);
      offset += part.length;
    }
    this.pending = [];
    assert.equal(levels.length, count * 5, 'encode was given the images drawn since its last call');
    return levels;
  }
}

const SMALL = { imagesPerVote: 64, trainVotes: 500, evalVotes: 1000, varianceImages: 2000 };

describe('FactorVAE score', () => {
  test('a code that holds each factor in a dimension of its own scores 1; collapsed dimensions are pruned, noisy ones never win', async () => {
    const sampler = new RecordingSampler(new SpriteGrid(16));
    const noise = new Random(5);
    // Five noisy factor dimensions on scales from 0.1 to 100 (only the normalisation by each one's
    // global spread lets the held factor's dimension win), one of noise, one collapsed to a constant.
    const scales = [1, 0.1, 10, 0.5, 100];
    const encode: Encode = (_images, count) => {
      const levels = sampler.take(count);
      return Float32Array.from({ length: count * 7 }, (_, index) => {
        const [example, dimension] = [Math.floor(index / 7), index % 7];
        if (dimension < 5) return (levels[example * 5 + dimension] + 0.3 * noise.next()) * scales[dimension];
        return dimension === 5 ? noise.next() * 4 : 0.5;
      });
    };
    const progress: number[] = [];
    const result = await factorVaeScore({ sampler, encode, seed: 3, ...SMALL, onProgress: (done, total) => progress.push(done / total) });
    assert.equal(result.score, 1);
    assert.equal(result.trainAccuracy, 1);
    assert.deepEqual(result.activeDimensions, [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(result.classifier.slice(0, 5), SPRITE_FACTORS);
    assert.equal(result.classifier[6], undefined);
    for (let factor = 0; factor < 5; factor++) {
      for (let dimension = 0; dimension < 7; dimension++) if (dimension !== factor) assert.equal(result.votes.eval[factor][dimension], 0);
    }
    assert.equal(result.votes.train.flat().reduce((a, b) => a + b), 500);
    assert.equal(result.votes.eval.flat().reduce((a, b) => a + b), 1000);
    assert.equal(progress.at(-1), 1);
    assert.match(describeFactorVae(result), /^FactorVAE score 1\.000 \(accuracy on held-out votes.*0\.20 \(1 \/ 5 factors\).*L = 64 images per vote, 500 training and 1000 held-out votes, training accuracy 1\.000, 6 of 7 dimensions active \(1 collapsed, variance ≤ 0\.01\)$/);
  });

  test('a code that ignores the factors scores ≈ 1/K', async () => {
    const sampler = new RecordingSampler(new SpriteGrid(16));
    const noise = new Random(8);
    const encode: Encode = (_images, count) => Float32Array.from({ length: count * 4 }, () => noise.next());
    const result = await factorVaeScore({ sampler, encode, seed: 4, ...SMALL });
    assert.equal(result.chance, 0.2);
    closeTo(result.score, 0.2, 0.05, 'score');
    assert.deepEqual(result.activeDimensions, [0, 1, 2, 3]);
  });

  test('an encoder that reads the pixels (the sprite\'s centroid) wins every x and y vote', async () => {
    const grid = new SpriteGrid(16);
    const encode: Encode = (images, count) => {
      const codes = new Float64Array(count * 3);
      for (let example = 0; example < count; example++) {
        let [sumX, sumY, area] = [0, 0, 0];
        for (let pixel = 0; pixel < 256; pixel++) {
          if (!images[example * 256 + pixel]) continue;
          sumX += pixel % 16;
          sumY += Math.floor(pixel / 16);
          area++;
        }
        codes.set([sumX / area, sumY / area, area / 10], example * 3);
      }
      return codes;
    };
    const result = await factorVaeScore({ sampler: grid, encode, seed: 6, ...SMALL });
    // The sprite's area reads its scale.
    assert.deepEqual(result.classifier, ['x', 'y', 'scale']);
    for (const split of [result.votes.train, result.votes.eval]) {
      for (const [factor, dimension] of [[3, 0], [4, 1]]) assert.equal(split[factor][dimension], split[factor].reduce((a, b) => a + b), `${SPRITE_FACTORS[factor]} votes`);
    }
    // Three dimensions can serve at most three of the five factors.
    assert.ok(result.score > 0.4 && result.score <= 0.65, describeFactorVae(result));
  });

  test('with every dimension collapsed it scores 0 and says why; an encoder of the wrong size is named', async () => {
    const grid = new SpriteGrid(16);
    const noise = new Random(2);
    // One dimension constant, two varying by at most 0.001 and 0.002: all below the active-units threshold.
    const result = await factorVaeScore({ sampler: grid, encode: (_images, count) => Float32Array.from({ length: count * 3 }, (_, index) => (index % 3) * 0.001 * noise.next()), seed: 1, ...SMALL });
    assert.equal(result.score, 0);
    assert.deepEqual(result.activeDimensions, []);
    assert.match(describeFactorVae(result), /no active dimension \(every variance of the means is at most 0\.01\): score 0/);
    let calls = 0;
    await assert.rejects(
      factorVaeScore({ sampler: grid, encode: (_images, count) => new Float32Array(++calls === 1 ? count * 2 : count * 2 + 1), seed: 1, ...SMALL }),
      /^Error: encode returned 1953 values for 976 images \(expected 976 × 2\)$/,
    );
  });
});
