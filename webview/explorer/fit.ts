/**
 * The camera that frames a projection's points: every point but the farthest 0.1% at each end of
 * each axis, with a margin of a few pixels, so the cloud's edges are on the canvas. A range cut at
 * the 2nd and 98th percentiles cut off the edges of a PCA cloud (its tails are long): a new user's
 * cloud spanned 328 px of a 281 px canvas.
 */
import type { Camera } from '../../extension/explorer-protocol';

/** The fraction of the points that may fall outside each end of each axis (a few far outliers would otherwise shrink the rest to a dot). */
const OUTSIDE = 0.001;
/** CSS pixels kept clear between the framed points and the canvas's edges (more than a point's radius). */
const FIT_MARGIN = 8;

function span(values: Float32Array): [number, number] {
  values.sort();
  const low = values[Math.floor(OUTSIDE * (values.length - 1))], high = values[Math.ceil((1 - OUTSIDE) * (values.length - 1))];
  return high > low ? [low, high] : [low - 0.5, low + 0.5];
}

/** The camera for `count` points (x, y interleaved in `projected`) on a canvas of `width` × `height` CSS pixels. */
export function fitCamera(projected: Float32Array, count: number, width: number, height: number): Camera {
  if (count === 0) return { x: 0, y: 0, scale: 1 };
  const [left, right] = span(Float32Array.from({ length: count }, (_, index) => projected[index * 2]));
  const [bottom, top] = span(Float32Array.from({ length: count }, (_, index) => projected[index * 2 + 1]));
  const room = (pixels: number) => Math.max(1, pixels - 2 * FIT_MARGIN);
  return { x: (left + right) / 2, y: (bottom + top) / 2, scale: Math.min(room(width) / (right - left), room(height) / (top - bottom)) };
}
