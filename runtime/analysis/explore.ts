/**
 * The explore cell: a split's posterior means projected to 2-D (PCA, UMAP on a subsample, or the
 * code itself when it is 2-d), written to the run folder for numpy and pandas, and drawn as a
 * scatter coloured by label.
 */
import path from 'node:path';
import { PNG } from 'pngjs';
import { UMAP } from 'umap-js';
import type { Dataset } from '../data/dataset';
import type { DataConfig, ExploreConfig } from '../format/schema';
import { writeMatrixFile } from '../format/matrix-file';
import type { Autoencoder } from '../model/build';
import { Random, mixSeed, permutation } from '../util/random';
import type { EncodedSplit } from './latent-codes';
import { encodeSplit } from './latent-codes';
import { principalComponents, project } from './pca';

export interface Exploration {
  /** The encoded examples, in split order (for umap, the subsample's). */
  encoded: EncodedSplit;
  /** Each example's index in the split. */
  indices: Uint32Array;
  /** [count, 2] row-major. */
  projection: Float32Array;
  /** What the two axes are, e.g. `PC1 (41.3% of the variance)`. */
  axes: [string, string];
  method: ExploreConfig['projection'];
}

export interface ExploreProgress {
  signal?: AbortSignal;
  /** A line for the person: what is being done and how far it is. */
  onProgress?: (message: string) => void;
}

/** UMAP's parameters (umap-js's defaults, named here so the README can say them). */
export const UMAP_NEIGHBOURS = 15;
export const UMAP_MIN_DIST = 0.1;

function abortIfAsked(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw Object.assign(new Error('exploring stopped'), { name: 'AbortError' });
}

/** The rows of `encoded` at `rows` (sorted), as a smaller EncodedSplit. */
function selectRows(encoded: EncodedSplit, rows: Uint32Array): EncodedSplit {
  const { latent } = encoded;
  const pick = (values: Float32Array, width: number) => {
    const out = new Float32Array(rows.length * width);
    rows.forEach((row, index) => out.set(values.subarray(row * width, (row + 1) * width), index * width));
    return out;
  };
  return {
    ...encoded,
    count: rows.length,
    means: pick(encoded.means, latent),
    ...(encoded.logVariances ? { logVariances: pick(encoded.logVariances, latent) } : {}),
    labels: Uint8Array.from(rows, (row) => encoded.labels[row]),
    loss: pick(encoded.loss, 1),
    reconstruction: pick(encoded.reconstruction, 1),
    ...(encoded.kl ? { kl: pick(encoded.kl, 1) } : {}),
  };
}

async function umapProjection(points: Float32Array, count: number, latent: number, seed: number, progress: ExploreProgress): Promise<Float32Array> {
  const vectors = Array.from({ length: count }, (_, row) => Array.from(points.subarray(row * latent, (row + 1) * latent)));
  const random = new Random(mixSeed(seed, 613));
  const umap = new UMAP({ nComponents: 2, nNeighbors: Math.min(UMAP_NEIGHBOURS, count - 1), minDist: UMAP_MIN_DIST, random: () => random.next() });
  const epochs = umap.initializeFit(vectors);
  let reported = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    umap.step();
    const percent = Math.floor((100 * (epoch + 1)) / epochs);
    if (percent >= reported + 10 || epoch === epochs - 1) {
      reported = percent;
      progress.onProgress?.(`UMAP of ${count} points: ${percent}% (${epoch + 1}/${epochs} epochs)`);
      // Lets a stop request and the other side's messages through between slices of the layout.
      await new Promise((resolve) => setImmediate(resolve));
      abortIfAsked(progress.signal);
    }
  }
  return Float32Array.from(umap.getEmbedding().flat());
}

export async function explore(model: Autoencoder, dataset: Dataset, data: DataConfig, config: ExploreConfig, seed: number, progress: ExploreProgress = {}): Promise<Exploration> {
  if (config.projection === 'none' && model.latent !== 2) throw new RangeError(`projection none plots the code itself, which needs a 2-d code (this one has ${model.latent} dimensions)`);
  let encoded = await encodeSplit(model, dataset, data, {
    split: config.split,
    limit: config.limit,
    seed,
    signal: progress.signal,
    onProgress: (done, total) => progress.onProgress?.(`encoding the ${config.split} split: ${done}/${total}`),
  });
  let indices = Uint32Array.from({ length: encoded.count }, (_, index) => index);
  if (config.projection === 'umap' && encoded.count > config.subsample) {
    indices = permutation(encoded.count, mixSeed(seed, 612)).slice(0, config.subsample).sort();
    encoded = selectRows(encoded, indices);
  }
  const { latent, count, means } = encoded;
  if (count < 2) throw new RangeError(`the ${config.split} split has ${count} example${count === 1 ? '' : 's'}: a projection needs at least 2`);
  if (config.projection === 'none') return { encoded, indices, projection: Float32Array.from(means), axes: ['z0', 'z1'], method: 'none' };
  if (config.projection === 'umap') return { encoded, indices, projection: await umapProjection(means, count, latent, seed, progress), axes: ['UMAP 1', 'UMAP 2'], method: 'umap' };
  const components = principalComponents(means, count, latent, Math.min(2, latent));
  const projected = project(means, count, components);
  // A 1-d code has one axis: the second is drawn at 0.
  const projection = latent === 1 ? Float32Array.from({ length: count * 2 }, (_, index) => (index % 2 === 0 ? projected[index / 2] : 0)) : projected;
  const share = (index: number) => `PC${index + 1} (${(100 * (components.explained[index] ?? 0)).toFixed(1)}% of the variance)`;
  return { encoded, indices, projection, axes: [share(0), latent === 1 ? 'none (a 1-d code)' : share(1)], method: 'pca' };
}

/** The files the cell writes in `folder` (the run folder's explore/), by name. */
export const EXPLORE_FILES = {
  latents: 'latents.npy',
  projection: 'projection.npy',
  labels: 'labels.npy',
  points: 'points.csv',
} as const;

/** latents.npy [n, latent], projection.npy [n, 2], labels.npy [n, 1] (float32), and points.csv (index, label, x, y). */
export function writeExploration(folder: string, exploration: Exploration): void {
  const { encoded, projection, indices } = exploration;
  const count = encoded.count;
  writeMatrixFile(path.join(folder, EXPLORE_FILES.latents), { rows: count, columns: encoded.latent, values: encoded.means });
  writeMatrixFile(path.join(folder, EXPLORE_FILES.projection), { rows: count, columns: 2, values: projection });
  writeMatrixFile(path.join(folder, EXPLORE_FILES.labels), { rows: count, columns: 1, values: Float32Array.from(encoded.labels) });
  const table = new Float32Array(count * 4);
  for (let row = 0; row < count; row++) table.set([indices[row], encoded.labels[row], projection[row * 2], projection[row * 2 + 1]], row * 4);
  writeMatrixFile(path.join(folder, EXPLORE_FILES.points), { rows: count, columns: 4, values: table, names: ['index', 'label', 'x', 'y'] });
}

/** Tableau's 20 categorical colours (matplotlib's tab20 order: the strong ten, then their light partners). */
export const PALETTE: readonly [number, number, number][] = [
  [31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189],
  [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207],
  [174, 199, 232], [255, 187, 120], [152, 223, 138], [255, 152, 150], [197, 176, 213],
  [196, 156, 148], [247, 182, 210], [199, 199, 199], [219, 219, 141], [158, 218, 229],
];

export const PALETTE_NAMES = [
  'blue', 'orange', 'green', 'red', 'purple', 'brown', 'pink', 'grey', 'olive', 'cyan',
  'light blue', 'light orange', 'light green', 'light red', 'lavender', 'tan', 'light pink', 'light grey', 'khaki', 'light cyan',
];

/** 3×5 digits for the legend's class numbers (rows top to bottom, 3 bits each, high bit left). */
const DIGITS = [
  [7, 5, 5, 5, 7], [2, 6, 2, 2, 7], [7, 1, 7, 4, 7], [7, 1, 7, 1, 7], [5, 5, 7, 1, 1],
  [7, 4, 7, 1, 7], [7, 4, 7, 5, 7], [7, 1, 1, 1, 1], [7, 5, 7, 5, 7], [7, 5, 7, 1, 7],
];

const PLOT = 480;
const MARGIN = 12;
const DOT_RADIUS = 2;
const DIGIT_SCALE = 2;
const LEGEND_ROW = 16;

/**
 * The scatter: points coloured by label (PALETTE, cycled past 20 classes), drawn in a seeded
 * random order so no class always lies on top, on a white square with the axes' ranges padded
 * by 5%; on the right, a legend of swatches and class numbers (one column per 28 classes).
 */
export function scatterPng(projection: Float32Array, labels: Uint8Array, classCount: number, seed: number): Buffer {
  const count = labels.length;
  const legendColumns = Math.max(1, Math.ceil(classCount / 28));
  const legendWidth = legendColumns * 56;
  const png = new PNG({ width: MARGIN * 3 + PLOT + legendWidth, height: MARGIN * 2 + PLOT });
  png.data.fill(255);
  const paint = (x: number, y: number, colour: readonly number[], alpha = 1) => {
    if (x < 0 || y < 0 || x >= png.width || y >= png.height) return;
    const offset = (y * png.width + x) * 4;
    for (let channel = 0; channel < 3; channel++) png.data[offset + channel] = Math.round(alpha * colour[channel] + (1 - alpha) * png.data[offset + channel]);
  };
  const frame = [160, 160, 160];
  for (let index = 0; index <= PLOT; index++) {
    paint(MARGIN + index, MARGIN, frame);
    paint(MARGIN + index, MARGIN + PLOT, frame);
    paint(MARGIN, MARGIN + index, frame);
    paint(MARGIN + PLOT, MARGIN + index, frame);
  }
  const bounds = [0, 1].map((axis) => {
    let low = Infinity;
    let high = -Infinity;
    for (let row = 0; row < count; row++) {
      const value = projection[row * 2 + axis];
      if (Number.isFinite(value)) {
        low = Math.min(low, value);
        high = Math.max(high, value);
      }
    }
    if (!Number.isFinite(low)) return [-1, 1];
    const pad = (high - low) * 0.05 || 1;
    return [low - pad, high + pad];
  });
  const toPixel = (value: number, axis: number) => {
    const [low, high] = bounds[axis];
    const unit = (value - low) / (high - low);
    return Math.round(MARGIN + (axis === 0 ? unit : 1 - unit) * PLOT);
  };
  for (const row of permutation(count, mixSeed(seed, 614))) {
    const x = projection[row * 2];
    const y = projection[row * 2 + 1];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    const colour = PALETTE[labels[row] % PALETTE.length];
    const cx = toPixel(x, 0);
    const cy = toPixel(y, 1);
    for (let dy = -DOT_RADIUS; dy <= DOT_RADIUS; dy++) {
      for (let dx = -DOT_RADIUS; dx <= DOT_RADIUS; dx++) if (dx * dx + dy * dy <= DOT_RADIUS * DOT_RADIUS + 1) paint(cx + dx, cy + dy, colour, 0.75);
    }
  }
  const text = [40, 40, 40];
  for (let label = 0; label < classCount; label++) {
    const left = MARGIN * 2 + PLOT + Math.floor(label / 28) * 56;
    const top = MARGIN + (label % 28) * LEGEND_ROW;
    const colour = PALETTE[label % PALETTE.length];
    for (let y = 0; y < 10; y++) for (let x = 0; x < 10; x++) paint(left + x, top + y, colour);
    String(label).split('').forEach((character, place) => {
      const glyph = DIGITS[Number(character)];
      for (let y = 0; y < 5; y++) {
        for (let x = 0; x < 3; x++) {
          if (!((glyph[y] >> (2 - x)) & 1)) continue;
          for (let sy = 0; sy < DIGIT_SCALE; sy++) for (let sx = 0; sx < DIGIT_SCALE; sx++) paint(left + 14 + place * 8 + x * DIGIT_SCALE + sx, top + y * DIGIT_SCALE + sy, text);
        }
      }
    });
  }
  return PNG.sync.write(png);
}

/** The caption's rows: what the axes are, then the legend's class names by colour. */
export function explorationRows(exploration: Exploration, classes: readonly string[], split: string): string[] {
  const { encoded, axes, method } = exploration;
  const what = method === 'none' ? 'the 2-d code' : method === 'umap' ? 'UMAP' : 'PCA';
  return [
    `${what} of ${encoded.count} ${encoded.logVariances ? 'posterior means' : 'codes'} (${split === 'all' ? 'train and test' : split}): ${axes[0]} across, ${axes[1]} up`,
    ...classes.slice(0, 63).map((name, label) => `${label} ${PALETTE_NAMES[label % PALETTE_NAMES.length]}: ${name}`.slice(0, 100)),
  ];
}
