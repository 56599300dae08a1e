/**
 * Procedural dSprites-like images: a white shape (square, ellipse, heart) on black, with known
 * factors shape, scale, rotation, x and y. Deterministic by seed; no download.
 */
import type { Dataset } from './dataset';
import { Random, splitExamples } from './dataset';
import { Pacer } from './interrupt';

export const SPRITE_SHAPES = ['square', 'ellipse', 'heart'];
export const SPRITE_FACTORS = ['shape', 'scale', 'rotation', 'x', 'y'];

function inside(shape: number, u: number, v: number): boolean {
  if (shape === 0) return Math.abs(u) <= 0.8 && Math.abs(v) <= 0.8;
  if (shape === 1) return (u * u) / 1.0 + (v * v) / 0.36 <= 1;
  // A heart curve: (x² + y² − 1)³ − x² y³ ≤ 0, scaled into the unit box, point up.
  const x = u * 1.2;
  const y = -v * 1.2 + 0.15;
  const a = x * x + y * y - 1;
  return a * a * a - x * x * y * y * y <= 0;
}

export function renderSprite(size: number, shape: number, scale: number, rotation: number, centerX: number, centerY: number, out: Uint8Array, offset: number): void {
  const radius = (size / 2) * scale * 0.5;
  const cos = Math.cos(rotation);
  const sin = Math.sin(rotation);
  const samples = 3;
  for (let row = 0; row < size; row++) {
    for (let column = 0; column < size; column++) {
      let hits = 0;
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const dx = (column + (sx + 0.5) / samples - centerX) / radius;
          const dy = (row + (sy + 0.5) / samples - centerY) / radius;
          if (inside(shape, cos * dx + sin * dy, -sin * dx + cos * dy)) hits++;
        }
      }
      // Majority of supersamples: binary images, like dSprites.
      out[offset + row * size + column] = hits * 2 > samples * samples ? 255 : 0;
    }
  }
}

export async function generateSprites(options: { size: number; count: number; seed: number; testFraction: number; signal?: AbortSignal }): Promise<Dataset> {
  const { size, count } = options;
  const pacer = new Pacer(options.signal, 'generating sprites');
  const random = new Random(options.seed ^ 0x5eed);
  const pixels = size * size;
  const images = new Uint8Array(count * pixels);
  const labels = new Uint8Array(count);
  const factors = new Float32Array(count * 5);
  for (let index = 0; index < count; index++) {
    await pacer.step();
    const shape = random.int(3);
    const scale = 0.5 + random.int(6) * 0.1;
    const rotation = (random.int(40) / 40) * 2 * Math.PI;
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
  return {
    name: 'sprites',
    shape: [size, size, 1],
    classes: SPRITE_SHAPES,
    train,
    test,
    description: `procedural sprites: ${train.count} train / ${test.count} test images of ${size}×${size} (seed ${options.seed})`,
    factors: { names: SPRITE_FACTORS, train: pick(trainIndices), test: pick(testIndices) },
  };
}
