/**
 * Procedural dSprites-like images: a white shape (square, ellipse, heart) on black, with known
 * factors shape, scale, rotation, x and y. Deterministic by seed; no download.
 *
 * Two modes. `random` (the default) draws x and y continuously inside a margin that depends on the
 * scale, so position and scale are not independent. `grid` draws every factor uniformly and
 * independently from a fixed set of levels, as dSprites does, so that disentanglement metrics can
 * fix one factor and vary the rest (SpriteGrid).
 */
import type { DataConfig } from '../format/schema';
import type { Dataset } from './dataset';
import { Random, splitExamples } from './dataset';
import { Pacer } from './interrupt';

export const SPRITE_SHAPES = ['square', 'ellipse', 'heart'];
export const SPRITE_FACTORS = ['shape', 'scale', 'rotation', 'x', 'y'];

const SCALE_LEVELS = 6;
const ROTATION_LEVELS = 40;
/** The most grid positions per axis (dSprites has 32). */
const MAX_POSITIONS = 32;
/**
 * How far a sprite reaches from its centre, in radii: a square's corner lies at 0.8·√2 ≈ 1.13.
 * Grid positions keep the largest sprite this far from the edges, whatever its own scale.
 */
const REACH = 1.15;

function scaleOf(level: number): number {
  return 0.5 + level * 0.1;
}

function rotationOf(level: number): number {
  return (level / ROTATION_LEVELS) * 2 * Math.PI;
}

function inside(shape: number, u: number, v: number): boolean {
  if (shape === 0) return Math.abs(u) <= 0.8 && Math.abs(v) <= 0.8;
  if (shape === 1) return (u * u) / 1.0 + (v * v) / 0.36 <= 1;
  // A heart curve: (x² + y² − 1)³ − x² y³ ≤ 0, scaled into the unit box, point up.
  const x = u * 1.2;
  const y = -v * 1.2 + 0.15;
  const a = x * x + y * y - 1;
  return a * a * a - x * x * y * y * y <= 0;
}

/**
 * Draws one sprite sized for a size × size image into a canvas × canvas image (the same by
 * default; a larger canvas shows what the frame would cut off).
 */
export function renderSprite(size: number, shape: number, scale: number, rotation: number, centerX: number, centerY: number, out: Uint8Array, offset: number, canvas = size): void {
  const radius = (size / 2) * scale * 0.5;
  const cos = Math.cos(rotation);
  const sin = Math.sin(rotation);
  const samples = 3;
  for (let row = 0; row < canvas; row++) {
    for (let column = 0; column < canvas; column++) {
      let hits = 0;
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const dx = (column + (sx + 0.5) / samples - centerX) / radius;
          const dy = (row + (sy + 0.5) / samples - centerY) / radius;
          if (inside(shape, cos * dx + sin * dy, -sin * dx + cos * dy)) hits++;
        }
      }
      // Majority of supersamples: binary images, like dSprites.
      out[offset + row * canvas + column] = hits * 2 > samples * samples ? 255 : 0;
    }
  }
}

/** One factor held at one level while the others vary (the FactorVAE score's votes). */
export interface FixedFactor {
  factor: number;
  level: number;
}

/**
 * The factor-grid mode: shape (3), scale (6, 0.5 to 1), rotation (40 steps of 9°), x and y
 * (`positions` each, one pixel apart), every combination reachable and the position range the same
 * for every scale. A sprite at grid position (i, j) is the one at (0, 0) moved by i columns and j
 * rows, so each (shape, scale, rotation) is rendered once and then copied: a FactorVAE score
 * needs about a million images.
 */
export class SpriteGrid {
  readonly names: readonly string[] = SPRITE_FACTORS;
  /** Levels of each factor, in the order of SPRITE_FACTORS. */
  readonly levels: readonly number[];
  /** Grid positions per axis. */
  readonly positions: number;
  /** Centre of the first position, in pixels from the top-left corner (the same on both axes). */
  private readonly firstCenter: number;
  private readonly sprites = new Map<number, Uint8Array>();

  constructor(readonly size: number) {
    const reach = REACH * (size / 2) * scaleOf(SCALE_LEVELS - 1) * 0.5;
    const span = size - 2 * reach;
    if (span < 1) throw new Error(`sprites of ${size}×${size} are too small for the factor grid: the largest sprite leaves no room to move (use size 4 or more)`);
    this.positions = Math.min(MAX_POSITIONS, Math.floor(span) + 1);
    this.firstCenter = size / 2 - (this.positions - 1) / 2;
    this.levels = [SPRITE_SHAPES.length, SCALE_LEVELS, ROTATION_LEVELS, this.positions, this.positions];
  }

  /** The factor's value at a level, in the units of a dataset's `factors` (x and y as fractions of the size). */
  value(factor: number, level: number): number {
    switch (factor) {
      case 0:
        return level;
      case 1:
        return scaleOf(level);
      case 2:
        return rotationOf(level);
      default:
        return (this.firstCenter + level) / this.size;
    }
  }

  /** Draws the sprite whose factor levels are `levels` (shape, scale, rotation, x, y) into out at offset. */
  render(levels: ArrayLike<number>, out: Uint8Array, offset: number): void {
    const { size } = this;
    const sprite = this.spriteAtOrigin(levels[0], levels[1], levels[2]);
    const column = levels[3];
    const row = levels[4];
    out.fill(0, offset, offset + size * size);
    // The margin keeps the columns and rows that the shift pushes out of the frame empty.
    for (let source = 0; source + row < size; source++) {
      out.set(sprite.subarray(source * size, source * size + size - column), offset + (source + row) * size + column);
    }
  }

  /** count × 5 factor levels, each drawn uniformly and independently, except the fixed one. */
  sampleLevels(count: number, random: Random, fixed?: FixedFactor): Int32Array {
    const factors = this.levels.length;
    const levels = new Int32Array(count * factors);
    for (let index = 0; index < count; index++) {
      for (let factor = 0; factor < factors; factor++) {
        levels[index * factors + factor] = fixed?.factor === factor ? fixed.level : random.int(this.levels[factor]);
      }
    }
    return levels;
  }

  /** count images (count × size × size uint8) and their factor levels, optionally with one factor fixed. */
  sample(count: number, random: Random, fixed?: FixedFactor): { images: Uint8Array; levels: Int32Array } {
    const factors = this.levels.length;
    const pixels = this.size * this.size;
    const levels = this.sampleLevels(count, random, fixed);
    const images = new Uint8Array(count * pixels);
    for (let index = 0; index < count; index++) this.render(levels.subarray(index * factors, (index + 1) * factors), images, index * pixels);
    return { images, levels };
  }

  private spriteAtOrigin(shape: number, scale: number, rotation: number): Uint8Array {
    const key = (shape * SCALE_LEVELS + scale) * ROTATION_LEVELS + rotation;
    let sprite = this.sprites.get(key);
    if (!sprite) {
      sprite = new Uint8Array(this.size * this.size);
      renderSprite(this.size, shape, scaleOf(scale), rotationOf(rotation), this.firstCenter, this.firstCenter, sprite, 0);
      this.sprites.set(key, sprite);
    }
    return sprite;
  }
}

export interface SpriteOptions {
  size: number;
  count: number;
  seed: number;
  testFraction: number;
  /** random (the default) or grid: see the top of this file. */
  mode?: DataConfig['factors'];
  signal?: AbortSignal;
}

export async function generateSprites(options: SpriteOptions): Promise<Dataset> {
  const { size, count } = options;
  const pacer = new Pacer(options.signal, 'generating sprites');
  const random = new Random(options.seed ^ 0x5eed);
  const grid = options.mode === 'grid' ? new SpriteGrid(size) : undefined;
  const pixels = size * size;
  const images = new Uint8Array(count * pixels);
  const labels = new Uint8Array(count);
  const factors = new Float32Array(count * 5);
  for (let index = 0; index < count; index++) {
    await pacer.step();
    if (grid) {
      const levels = grid.sampleLevels(1, random);
      grid.render(levels, images, index * pixels);
      labels[index] = levels[0];
      levels.forEach((level, factor) => (factors[index * 5 + factor] = grid.value(factor, level)));
      continue;
    }
    const shape = random.int(3);
    const scale = scaleOf(random.int(SCALE_LEVELS));
    const rotation = rotationOf(random.int(ROTATION_LEVELS));
    const margin = (size / 2) * scale * 0.5 * 1.1;
    const x = margin + random.next() * (size - 2 * margin);
    const y = margin + random.next() * (size - 2 * margin);
    renderSprite(size, shape, scale, rotation, x, y, images, index * pixels);
    labels[index] = shape;
    factors.set([shape, scale, rotation, x / size, y / size], index * 5);
  }
  const { train, test, trainIndices, testIndices } = splitExamples(images, labels, pixels, options.testFraction, options.seed);
  const pick = (indices: Uint32Array) => {
    const out = new Float32Array(indices.length * 5);
    indices.forEach((source, target) => out.set(factors.subarray(source * 5, source * 5 + 5), target * 5));
    return out;
  };
  const layout = grid ? `; factor grid ${grid.levels.join(' × ')}` : '';
  return {
    name: 'sprites',
    shape: [size, size, 1],
    classes: SPRITE_SHAPES,
    train,
    test,
    description: `procedural sprites: ${train.count} train / ${test.count} test images of ${size}×${size} (seed ${options.seed}${layout})`,
    factors: { names: SPRITE_FACTORS, train: pick(trainIndices), test: pick(testIndices) },
  };
}
