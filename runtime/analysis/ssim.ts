/**
 * SSIM (Wang et al. 2004), computed as scikit-image 0.19 does with `structural_similarity(gaussian_weights=True,
 * sigma=1.5, use_sample_covariance=False, data_range=1)`, so the number beside MSE and PSNR is the one papers print.
 *
 * scikit-image filters the whole image (reflecting at the borders) and then crops `radius` pixels from every side
 * before averaging; only windows that lie wholly inside the image survive that crop, so the border mode never
 * reaches the result. This module therefore filters the valid windows only: an (H − 2r) × (W − 2r) map per channel.
 * The window is scipy's Gaussian with truncate = 3.5: radius ⌊3.5σ + 0.5⌋ (5 for σ = 1.5, an 11 × 11 window).
 * Colour images: SSIM per channel, then the mean over channels (scikit-image's `channel_axis`).
 * The value is unitless, at most 1 (identical images); higher is better, and 0 means no structural agreement.
 */

export interface SsimOptions {
  /** Standard deviation of the Gaussian window, in pixels. */
  sigma: number;
  k1: number;
  k2: number;
  /** Distance between the smallest and largest possible pixel value: 1 for images scaled to [0, 1]. */
  dataRange: number;
}

export const SSIM_DEFAULTS: Readonly<SsimOptions> = { sigma: 1.5, k1: 0.01, k2: 0.03, dataRange: 1 };

/** Images are stored row by row with channels last (H × W × C), as the datasets and the model's pixels are. */
export interface ImageShape {
  height: number;
  width: number;
  channels: number;
}

export class SsimError extends Error {
  override name = 'SsimError';
}

/** Half the window's side: scipy.ndimage's `int(truncate * sigma + 0.5)` with scikit-image's truncate = 3.5. */
export function windowRadius(sigma: number): number {
  return Math.floor(3.5 * sigma + 0.5);
}

/** The normalized 1-D Gaussian that scipy.ndimage.gaussian_filter applies along each axis. */
export function gaussianWindow(sigma: number): Float64Array {
  const radius = windowRadius(sigma);
  const weights = new Float64Array(2 * radius + 1);
  let total = 0;
  for (let offset = -radius; offset <= radius; offset++) {
    const weight = Math.exp((-0.5 / (sigma * sigma)) * offset * offset);
    weights[offset + radius] = weight;
    total += weight;
  }
  for (let index = 0; index < weights.length; index++) weights[index] /= total;
  return weights;
}

function checkOptions(options: SsimOptions): void {
  for (const [name, value] of Object.entries(options)) {
    if (!Number.isFinite(value) || value < 0) throw new SsimError(`SSIM option ${name} must be a finite number ≥ 0, not ${value}`);
  }
  if (options.sigma === 0 || options.dataRange === 0) throw new SsimError('SSIM options sigma and dataRange must be greater than 0');
}

function checkShape(shape: ImageShape, radius: number): void {
  const { height, width, channels } = shape;
  for (const [name, value] of Object.entries(shape)) {
    if (!Number.isInteger(value) || value < 1) throw new SsimError(`image ${name} must be a positive integer, not ${value}`);
  }
  const side = 2 * radius + 1;
  if (height < side || width < side) {
    throw new SsimError(`SSIM needs images of at least ${side} × ${side} pixels (its Gaussian window); these are ${height} × ${width}${channels > 1 ? ` × ${channels}` : ''}`);
  }
}

/**
 * Mean SSIM of each image pair: `first` and `second` hold the same number of H × W × C images back to back.
 * Values are read as numbers (Float32Array pixels are widened exactly) and the arithmetic is float64.
 */
export function ssimPerImage(first: ArrayLike<number>, second: ArrayLike<number>, shape: ImageShape, options: Partial<SsimOptions> = {}): Float64Array {
  const settings: SsimOptions = { ...SSIM_DEFAULTS, ...options };
  checkOptions(settings);
  const radius = windowRadius(settings.sigma);
  checkShape(shape, radius);
  const imageSize = shape.height * shape.width * shape.channels;
  if (first.length !== second.length) throw new SsimError(`SSIM compares images pairwise: one side has ${first.length} values, the other ${second.length}`);
  if (first.length % imageSize !== 0) {
    throw new SsimError(`SSIM input of ${first.length} values is not a whole number of ${shape.height} × ${shape.width} × ${shape.channels} images (${imageSize} values each)`);
  }
  const count = first.length / imageSize;
  const filter = new SsimFilter(shape, settings);
  const result = new Float64Array(count);
  for (let image = 0; image < count; image++) result[image] = filter.image(first, second, image * imageSize);
  return result;
}

/** Mean SSIM of one pair of H × W × C images. */
export function ssim(first: ArrayLike<number>, second: ArrayLike<number>, shape: ImageShape, options: Partial<SsimOptions> = {}): number {
  const imageSize = shape.height * shape.width * shape.channels;
  if (first.length !== imageSize || second.length !== imageSize) {
    throw new SsimError(`ssim() takes one ${shape.height} × ${shape.width} × ${shape.channels} image per side (${imageSize} values), not ${first.length} and ${second.length}; ssimPerImage() takes batches`);
  }
  return ssimPerImage(first, second, shape, options)[0];
}

/** Scratch buffers sized once for a shape, reused for every image and channel. */
class SsimFilter {
  private readonly weights: Float64Array;
  private readonly validHeight: number;
  private readonly validWidth: number;
  private readonly c1: number;
  private readonly c2: number;
  /** Row-filtered x, y, x², y², xy: H rows × valid width each. */
  private readonly rows: Float64Array[];

  constructor(
    private readonly shape: ImageShape,
    options: SsimOptions,
  ) {
    this.weights = gaussianWindow(options.sigma);
    const radius = windowRadius(options.sigma);
    this.validHeight = shape.height - 2 * radius;
    this.validWidth = shape.width - 2 * radius;
    this.c1 = (options.k1 * options.dataRange) ** 2;
    this.c2 = (options.k2 * options.dataRange) ** 2;
    this.rows = Array.from({ length: 5 }, () => new Float64Array(shape.height * this.validWidth));
  }

  image(first: ArrayLike<number>, second: ArrayLike<number>, offset: number): number {
    let total = 0;
    for (let channel = 0; channel < this.shape.channels; channel++) total += this.channel(first, second, offset + channel);
    return total / this.shape.channels;
  }

  private channel(first: ArrayLike<number>, second: ArrayLike<number>, start: number): number {
    const { weights, validHeight, validWidth, c1, c2 } = this;
    const { height, width, channels } = this.shape;
    const side = weights.length;
    const [rowX, rowY, rowXX, rowYY, rowXY] = this.rows;
    for (let row = 0; row < height; row++) {
      for (let column = 0; column < validWidth; column++) {
        let x = 0;
        let y = 0;
        let xx = 0;
        let yy = 0;
        let xy = 0;
        for (let tap = 0; tap < side; tap++) {
          const index = start + (row * width + column + tap) * channels;
          const a = first[index];
          const b = second[index];
          const weight = weights[tap];
          x += weight * a;
          y += weight * b;
          xx += weight * a * a;
          yy += weight * b * b;
          xy += weight * a * b;
        }
        const target = row * validWidth + column;
        rowX[target] = x;
        rowY[target] = y;
        rowXX[target] = xx;
        rowYY[target] = yy;
        rowXY[target] = xy;
      }
    }
    let total = 0;
    for (let row = 0; row < validHeight; row++) {
      for (let column = 0; column < validWidth; column++) {
        let meanX = 0;
        let meanY = 0;
        let meanXX = 0;
        let meanYY = 0;
        let meanXY = 0;
        for (let tap = 0; tap < side; tap++) {
          const source = (row + tap) * validWidth + column;
          const weight = weights[tap];
          meanX += weight * rowX[source];
          meanY += weight * rowY[source];
          meanXX += weight * rowXX[source];
          meanYY += weight * rowYY[source];
          meanXY += weight * rowXY[source];
        }
        // Population (not sample) covariances, as Wang et al. and use_sample_covariance=False.
        const varianceX = meanXX - meanX * meanX;
        const varianceY = meanYY - meanY * meanY;
        const covariance = meanXY - meanX * meanY;
        const numerator = (2 * meanX * meanY + c1) * (2 * covariance + c2);
        const denominator = (meanX * meanX + meanY * meanY + c1) * (varianceX + varianceY + c2);
        total += numerator / denominator;
      }
    }
    return total / (validHeight * validWidth);
  }
}
