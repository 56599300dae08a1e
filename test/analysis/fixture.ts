/**
 * Deterministic inputs shared with scripts/reference/fixture.py, bit for bit: the runtime's mulberry32
 * stream, and Gaussian-like values as the Irwin–Hall sum of twelve uniforms minus six (only additions,
 * so Python and JavaScript round identically and the reference constants apply to exactly these inputs).
 */
import type { LabelledFeatures } from '../../runtime/analysis/features';
import { Random } from '../../runtime/util/random';

export function uniform(count: number, seed: number): Float64Array {
  const random = new Random(seed);
  return Float64Array.from({ length: count }, () => random.next());
}

function gaussian(random: Random): number {
  let total = 0;
  for (let index = 0; index < 12; index++) total += random.next();
  return total - 6;
}

export interface FixtureSet extends LabelledFeatures {
  values: Float64Array;
  labels: Int32Array;
}

function centre(label: number, feature: number): number {
  return (((label * 7 + feature * 3) % 5) - 2) * 0.5;
}

/**
 * Labelled points around per-class centres; one feature may be held constant (a collapsed latent).
 * The labels come first from the stream, so two calls with the same seed and count share them whatever
 * the dimension (the latents and the pixels of the same examples).
 */
export function clusters(count: number, classes: number, dimension: number, seed: number, spread: number, constantFeature?: number): FixtureSet {
  const random = new Random(seed);
  const labels = Int32Array.from({ length: count }, () => random.int(classes));
  const values = new Float64Array(count * dimension);
  for (let row = 0; row < count; row++) {
    for (let feature = 0; feature < dimension; feature++) {
      const value = centre(labels[row], feature) + spread * gaussian(random);
      values[row * dimension + feature] = feature === constantFeature ? 0.25 : value;
    }
  }
  return { values, labels, count, dimension };
}
