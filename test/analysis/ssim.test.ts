/**
 * SSIM against scikit-image 0.19.3's structural_similarity(gaussian_weights=True, sigma=1.5,
 * use_sample_covariance=False, data_range=1) on fixed inputs. The constants were printed by
 * scripts/reference/ssim.py, which builds the same inputs from the same seeded formulas (fixture.ts).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import type { ImageShape, SsimOptions } from '../../runtime/analysis/ssim';
import { SSIM_DEFAULTS, gaussianWindow, ssim, ssimPerImage } from '../../runtime/analysis/ssim';
import { parseIdx } from '../../runtime/data/idx';
import { sharedData, skipMessage } from '../helpers/shared';
import { uniform } from './fixture';

/** scikit-image sums in a different order: agreement to rounding, far below any difference a metric would show. */
const TOLERANCE = 1e-12;

function grey(height: number, width: number, pixel: (row: number, column: number) => number): Float64Array {
  return Float64Array.from({ length: height * width }, (_, index) => pixel(Math.floor(index / width), index % width));
}

const noise = uniform(28 * 28, 1);
const mixed = noise.map((value, index) => 0.7 * value + 0.3 * uniform(28 * 28, 2)[index]);
const colour = uniform(16 * 20 * 3, 5);
const square = grey(28, 28, (row, column) => (row >= 8 && row < 20 && column >= 10 && column < 18 ? 1 : 0));
const shifted = grey(28, 28, (row, column) => (row >= 8 && row < 20 && column >= 11 && column < 19 ? 0.5 : 0));

const CASES: Array<{ name: string; first: Float64Array; second: Float64Array; shape: ImageShape; options?: Partial<SsimOptions>; expected: number }> = [
  { name: 'mixed noise 28×28', first: noise, second: mixed, shape: { height: 28, width: 28, channels: 1 }, expected: 0.8858340335456402 },
  { name: 'independent noise 28×28', first: uniform(28 * 28, 3), second: uniform(28 * 28, 4), shape: { height: 28, width: 28, channels: 1 }, expected: 0.016213271030294026 },
  {
    name: 'stripes 20×24',
    first: grey(20, 24, (row, column) => ((row * 3 + column * 5) % 17) / 16),
    second: grey(20, 24, (row, column) => ((row * 3 + column * 5 + 2) % 17) / 16),
    shape: { height: 20, width: 24, channels: 1 },
    expected: 0.37744031358956837,
  },
  { name: 'square on black, shifted and dimmed 28×28', first: square, second: shifted, shape: { height: 28, width: 28, channels: 1 }, expected: 0.40719537357320146 },
  { name: 'colour 16×20×3 (mean over channels)', first: colour, second: colour.map((value) => value * value), shape: { height: 16, width: 20, channels: 3 }, expected: 0.8848126617494665 },
  { name: 'smallest 11×13 (one row of windows)', first: uniform(11 * 13, 7), second: uniform(11 * 13, 8), shape: { height: 11, width: 13, channels: 1 }, expected: -0.10272706385150042 },
  { name: 'sigma 1 (9×9 window) 28×28', first: noise, second: mixed, shape: { height: 28, width: 28, channels: 1 }, options: { sigma: 1 }, expected: 0.8796445059347974 },
];

for (const { name, first, second, shape, options, expected } of CASES) {
  test(`SSIM equals scikit-image's on ${name}`, () => {
    const actual = ssim(first, second, shape, options);
    assert.ok(Math.abs(actual - expected) < TOLERANCE, `${actual} vs scikit-image ${expected}`);
  });
}

test('SSIM of a batch is each image pair on its own, in order', () => {
  const shape = { height: 28, width: 28, channels: 1 };
  const first = new Float64Array([...noise, ...square, ...noise]);
  const second = new Float64Array([...mixed, ...shifted, ...noise]);
  const result = ssimPerImage(first, second, shape);
  assert.equal(result.length, 3);
  assert.ok(Math.abs(result[0] - 0.8858340335456402) < TOLERANCE);
  assert.ok(Math.abs(result[1] - 0.40719537357320146) < TOLERANCE);
  assert.ok(Math.abs(result[2] - 1) < TOLERANCE, 'an image against itself scores 1');
  const pixels = Float32Array.from(noise);
  assert.equal(ssimPerImage(pixels, pixels, shape)[0], ssim(Float64Array.from(pixels), Float64Array.from(pixels), shape), 'float32 pixels are read exactly');
});

test('SSIM of flat images is the closed form (2μxμy + C1)C2 / ((μx² + μy² + C1)C2)', () => {
  const shape = { height: 12, width: 15, channels: 1 };
  const black = new Float64Array(12 * 15);
  const white = new Float64Array(12 * 15).fill(1);
  const grey = new Float64Array(12 * 15).fill(0.5);
  const c1 = (SSIM_DEFAULTS.k1 * SSIM_DEFAULTS.dataRange) ** 2;
  assert.ok(Math.abs(ssim(black, white, shape) - c1 / (1 + c1)) < TOLERANCE);
  assert.ok(Math.abs(ssim(grey, white, shape) - (1 + c1) / (1.25 + c1)) < TOLERANCE);
  assert.ok(Math.abs(ssim(black, black, shape) - 1) < TOLERANCE, 'two black images are identical');
});

test('The window is scipy’s Gaussian: 11 taps for σ = 1.5, summing to 1, falling as exp(−x²/2σ²)', () => {
  const window = gaussianWindow(1.5);
  assert.equal(window.length, 11);
  assert.ok(Math.abs(window.reduce((sum, value) => sum + value, 0) - 1) < 1e-15);
  assert.ok(Math.abs(window[5 + 3] / window[5] - Math.exp(-9 / 4.5)) < 1e-15);
  assert.equal(gaussianWindow(1).length, 9);
});

test('SSIM refuses images smaller than its window and inputs that are not whole image pairs, saying why', () => {
  const shape = { height: 10, width: 28, channels: 1 };
  assert.throws(() => ssimPerImage(new Float64Array(280), new Float64Array(280), shape), /at least 11 × 11 pixels .* these are 10 × 28/);
  const mnist = { height: 28, width: 28, channels: 1 };
  assert.throws(() => ssimPerImage(new Float64Array(784), new Float64Array(783), mnist), /one side has 784 values, the other 783/);
  assert.throws(() => ssimPerImage(new Float64Array(800), new Float64Array(800), mnist), /800 values is not a whole number of 28 × 28 × 1 images/);
  assert.throws(() => ssim(noise, noise, mnist, { sigma: -1 }), /sigma must be a finite number ≥ 0/);
});

const mnist = sharedData('mnist');

test('SSIM equals scikit-image’s on real MNIST test images', { skip: mnist ? false : skipMessage('mnist') }, () => {
  const file = path.join(mnist!, 't10k-images-idx3-ubyte.gz');
  const { data } = parseIdx(gunzipSync(readFileSync(file)), file, 'images');
  const image = (index: number) => Float64Array.from(data.subarray(index * 784, (index + 1) * 784), (value) => value / 255);
  const shape = { height: 28, width: 28, channels: 1 };
  const noisy = image(0).map((value, index) => 0.8 * value + 0.2 * uniform(784, 9)[index]);
  const cases: Array<[Float64Array, Float64Array, number]> = [
    [image(0), image(1), -0.008811209308347747],
    [image(2), image(3), -0.017574180010661338],
    [image(0), noisy, 0.6321316114026945],
  ];
  for (const [first, second, expected] of cases) {
    const actual = ssim(first, second, shape);
    assert.ok(Math.abs(actual - expected) < TOLERANCE, `${actual} vs scikit-image ${expected}`);
  }
});
