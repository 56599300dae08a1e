/**
 * The points' colours: classes from the theme's chart colours (then hues around the wheel), a
 * loss or a latent dimension on a ramp from its 2nd to 98th percentile, so a few outliers do not
 * wash the rest out.
 */
const THEME_COLOURS = ['--vscode-charts-blue', '--vscode-charts-orange', '--vscode-charts-green', '--vscode-charts-red', '--vscode-charts-purple', '--vscode-charts-yellow'];
const FALLBACK = ['#3794ff', '#d18616', '#89d185', '#f14c4c', '#b180d7', '#cca700'];
const HUE_STEP = 137.5;

function hex(text: string): [number, number, number] | undefined {
  const match = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})/i.exec(text.trim());
  return match ? [parseInt(match[1], 16), parseInt(match[2], 16), parseInt(match[3], 16)] : undefined;
}

function hsl(hue: number, saturation: number, lightness: number): [number, number, number] {
  const chroma = (1 - Math.abs(2 * lightness - 1)) * saturation;
  const x = chroma * (1 - Math.abs(((hue / 60) % 2) - 1));
  const m = lightness - chroma / 2;
  const [r, g, b] = hue < 60 ? [chroma, x, 0] : hue < 120 ? [x, chroma, 0] : hue < 180 ? [0, chroma, x] : hue < 240 ? [0, x, chroma] : hue < 300 ? [x, 0, chroma] : [chroma, 0, x];
  return [Math.round((r + m) * 255), Math.round((g + m) * 255), Math.round((b + m) * 255)];
}

/** One colour per class, [r, g, b]. */
export function classColours(classes: number): [number, number, number][] {
  const style = getComputedStyle(document.documentElement);
  return Array.from({ length: classes }, (_, index) => index < THEME_COLOURS.length
    ? hex(style.getPropertyValue(THEME_COLOURS[index])) ?? hex(FALLBACK[index])!
    : hsl((index * HUE_STEP) % 360, 0.65, 0.55));
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
