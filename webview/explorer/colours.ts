/**
 * The points' colours: classes from Tableau 10 (then hues around the wheel), a loss or a latent
 * dimension on a ramp from its 2nd to 98th percentile, so a few outliers do not wash the rest out.
 * Tableau 10 and not the theme's chart colours: those are six, and the hues that followed them made
 * 0, 7 and 4 (blues and purples) and 2, 6 and 5 (greens and olive) hard to tell apart. Its ten
 * colours lie 26 or more apart in CIE Lab (ΔE76) and between L* 50 and 82, so they read on dark,
 * light and high-contrast backgrounds alike.
 */
const TABLEAU_10: [number, number, number][] = [
  [0x4e, 0x79, 0xa7], [0xf2, 0x8e, 0x2b], [0xe1, 0x57, 0x59], [0x76, 0xb7, 0xb2], [0x59, 0xa1, 0x4f],
  [0xed, 0xc9, 0x48], [0xb0, 0x7a, 0xa1], [0xff, 0x9d, 0xa7], [0x9c, 0x75, 0x5f], [0xba, 0xb0, 0xac],
];
const HUE_STEP = 137.5;

function hsl(hue: number, saturation: number, lightness: number): [number, number, number] {
  const chroma = (1 - Math.abs(2 * lightness - 1)) * saturation;
  const x = chroma * (1 - Math.abs(((hue / 60) % 2) - 1));
  const m = lightness - chroma / 2;
  const [r, g, b] = hue < 60 ? [chroma, x, 0] : hue < 120 ? [x, chroma, 0] : hue < 180 ? [0, chroma, x] : hue < 240 ? [0, x, chroma] : hue < 300 ? [x, 0, chroma] : [chroma, 0, x];
  return [Math.round((r + m) * 255), Math.round((g + m) * 255), Math.round((b + m) * 255)];
}

/** One colour per class, [r, g, b]. */
export function classColours(classes: number): [number, number, number][] {
  return Array.from({ length: classes }, (_, index) => index < TABLEAU_10.length ? TABLEAU_10[index] : hsl((index * HUE_STEP) % 360, 0.65, 0.55));
}

/** A perceptually ordered ramp (viridis' ends and middle), t in [0, 1]. */
export function ramp(t: number): [number, number, number] {
  const stops: [number, number, number][] = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  const at = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const low = Math.floor(at), high = Math.min(stops.length - 1, low + 1), f = at - low;
  return [0, 1, 2].map((channel) => Math.round(stops[low][channel] * (1 - f) + stops[high][channel] * f)) as [number, number, number];
}

/** The 2nd and 98th percentiles of `values`. */
export function robustRange(values: ArrayLike<number>): [number, number] {
  const sorted = Float32Array.from(values).sort();
  if (sorted.length === 0) return [0, 1];
  const low = sorted[Math.floor(0.02 * (sorted.length - 1))], high = sorted[Math.ceil(0.98 * (sorted.length - 1))];
  return high > low ? [low, high] : [low, low + 1];
}
