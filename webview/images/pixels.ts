/**
 * Pixels to RGBA: one image of a [n, h, w, c] uint8 array, and the error heatmap of two of them.
 * The heatmap is continuous (|x − x̂| per pixel, the channels' mean for colour images) on the
 * inferno colour map, perceptually uniform and readable in every theme, whose zero colour is its
 * darkest: an image against itself is all that colour.
 */

/** Inferno as a degree-6 polynomial per channel (Matt Zucker's fit to matplotlib's map). */
const INFERNO = [
  [0.0002189403691192265, 0.001651004631001012, -0.01948089843709184],
  [0.1065134194856116, 0.5639564367884091, 3.932712388889277],
  [11.60249308247187, -3.972853965665698, -15.9423941062914],
  [-41.70399613139459, 17.43639888205313, 44.35414519872813],
  [77.162935699427, -33.40235894210092, -81.80730925738993],
  [-71.31942824499214, 32.62606426397723, 73.20951985803202],
  [25.13112622477341, -12.24266895238567, -23.07032500287172],
];

/** 256 RGB triples, index 0 = no error. */
export const COLOUR_MAP: Uint8Array = (() => {
  const table = new Uint8Array(256 * 3);
  for (let step = 0; step < 256; step++) {
    const t = step / 255;
    for (let channel = 0; channel < 3; channel++) {
      let value = 0;
      for (let power = INFERNO.length - 1; power >= 0; power--) value = value * t + INFERNO[power][channel];
      table[step * 3 + channel] = Math.round(Math.min(1, Math.max(0, value)) * 255);
    }
  }
  return table;
})();

export function colourAt(fraction: number): string {
  const step = Math.round(Math.min(1, Math.max(0, fraction)) * 255) * 3;
  return `rgb(${COLOUR_MAP[step]}, ${COLOUR_MAP[step + 1]}, ${COLOUR_MAP[step + 2]})`;
}

export interface Shape {
  height: number;
  width: number;
  channels: number;
}

/** Image `index` of `pixels` into `target` (RGBA of the same height and width); grey images spread to three channels. */
export function paintImage(target: ImageData, pixels: Uint8Array, index: number, shape: Shape): void {
  const size = shape.height * shape.width;
  const start = index * size * shape.channels;
  const out = target.data;
  for (let pixel = 0; pixel < size; pixel++) {
    const from = start + pixel * shape.channels;
    const to = pixel * 4;
    if (shape.channels === 1) {
      out[to] = out[to + 1] = out[to + 2] = pixels[from];
    } else {
      out[to] = pixels[from];
      out[to + 1] = pixels[from + 1];
      out[to + 2] = pixels[from + 2];
    }
    out[to + 3] = 255;
  }
}

/** Per pixel, mean over channels of |a − b| in [0, 255]. */
export function errorOf(a: Uint8Array, aIndex: number, b: Uint8Array, bIndex: number, shape: Shape): Float32Array {
  const size = shape.height * shape.width;
  const aStart = aIndex * size * shape.channels;
  const bStart = bIndex * size * shape.channels;
  const error = new Float32Array(size);
  for (let pixel = 0; pixel < size; pixel++) {
    let sum = 0;
    for (let channel = 0; channel < shape.channels; channel++) {
      const offset = pixel * shape.channels + channel;
      sum += Math.abs(a[aStart + offset] - b[bStart + offset]);
    }
    error[pixel] = sum / shape.channels;
  }
  return error;
}

/** The error map coloured on a scale from 0 to `top` (values past it take the map's last colour). */
export function paintHeatmap(target: ImageData, error: Float32Array, top: number): void {
  const out = target.data;
  const scale = top > 0 ? 255 / top : 0;
  for (let pixel = 0; pixel < error.length; pixel++) {
    const step = Math.min(255, Math.round(error[pixel] * scale)) * 3;
    const to = pixel * 4;
    out[to] = COLOUR_MAP[step];
    out[to + 1] = COLOUR_MAP[step + 1];
    out[to + 2] = COLOUR_MAP[step + 2];
    out[to + 3] = 255;
  }
}

/** The largest value, for a scale shared by every heatmap in the grid. */
export function largest(errors: Iterable<Float32Array>): number {
  let top = 0;
  for (const error of errors) for (const value of error) if (value > top) top = value;
  return top;
}

/** A round top for the legend's scale (a fraction of full intensity): the next of 1, 2, 2.5, 5 × 10ⁿ at or above `value`, at most 1. */
export function niceTop(value: number): number {
  if (value <= 0) return 0;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value - 1e-12) return Math.min(1, step * power);
  return 1;
}
