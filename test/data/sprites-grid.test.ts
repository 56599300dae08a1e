import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadDataset } from '../../runtime/data/index';
import { SPRITE_FACTORS, SpriteGrid, generateSprites, renderSprite } from '../../runtime/data/sprites';
import { cellConfig, loadExperiment } from '../../runtime/format/validate';
import { Random } from '../../runtime/util/random';

/** Each example's level of every factor, recovered from the factor values the dataset records. */
function levelsOf(grid: SpriteGrid, values: Float32Array): Int32Array {
  const factors = grid.levels.length;
  const levels = new Int32Array(values.length);
  for (let index = 0; index < values.length; index++) {
    const factor = index % factors;
    const level = Array.from({ length: grid.levels[factor] }, (_, candidate) => candidate).find((candidate) => Math.fround(grid.value(factor, candidate)) === values[index]);
    assert.notEqual(level, undefined, `factor ${SPRITE_FACTORS[factor]} has value ${values[index]}, which is none of the grid's levels`);
    levels[index] = level!;
  }
  return levels;
}

describe('sprites factor grid', () => {
  test('is deterministic by seed and labels each image with its shape', async () => {
    const first = await generateSprites({ size: 32, count: 300, seed: 3, testFraction: 0.1, mode: 'grid' });
    const again = await generateSprites({ size: 32, count: 300, seed: 3, testFraction: 0.1, mode: 'grid' });
    const other = await generateSprites({ size: 32, count: 300, seed: 4, testFraction: 0.1, mode: 'grid' });
    assert.deepEqual(first.train.images, again.train.images);
    assert.deepEqual(first.factors, again.factors);
    assert.notDeepEqual(first.train.images, other.train.images);
    assert.match(first.description, /factor grid 3 × 6 × 40 × 14 × 14/);
    const grid = new SpriteGrid(32);
    const levels = levelsOf(grid, first.factors!.train);
    const image = new Uint8Array(32 * 32);
    for (let index = 0; index < first.train.count; index++) {
      assert.equal(first.train.labels[index], levels[index * 5]);
      grid.render(levels.subarray(index * 5, index * 5 + 5), image, 0);
      assert.deepEqual(first.train.images.subarray(index * 1024, index * 1024 + 1024), image, `train image ${index} is not the grid's image of its factors`);
    }
  });

  test('draws the factors independently: every pair of levels occurs as often as independence predicts, x and y over the same range at every scale', async () => {
    const grid = new SpriteGrid(32);
    const count = 12000;
    const dataset = await generateSprites({ size: 32, count, seed: 11, testFraction: 0.5, mode: 'grid' });
    const levels = new Int32Array([...levelsOf(grid, dataset.factors!.train), ...levelsOf(grid, dataset.factors!.test)]);
    for (let a = 0; a < 5; a++) {
      for (let b = a + 1; b < 5; b++) {
        const joint = new Float64Array(grid.levels[a] * grid.levels[b]);
        for (let index = 0; index < count; index++) joint[levels[index * 5 + a] * grid.levels[b] + levels[index * 5 + b]]++;
        const expected = count / joint.length;
        assert.ok(joint.every((cell) => cell > 0), `some pair of ${SPRITE_FACTORS[a]} and ${SPRITE_FACTORS[b]} levels never occurs`);
        // Pearson's χ² against the uniform product of marginals: a dependence (x's range shrinking with the
        // scale, as in the random mode) puts it far above its mean (the degrees of freedom).
        const chiSquare = joint.reduce((sum, cell) => sum + (cell - expected) ** 2 / expected, 0);
        const freedom = joint.length - 1;
        assert.ok(chiSquare < freedom + 5 * Math.sqrt(2 * freedom), `${SPRITE_FACTORS[a]} × ${SPRITE_FACTORS[b]}: χ² ${chiSquare.toFixed(0)} with ${freedom} degrees of freedom`);
      }
    }
    for (let scale = 0; scale < 6; scale++) {
      for (const axis of [3, 4]) {
        const seen = new Set<number>();
        for (let index = 0; index < count; index++) if (levels[index * 5 + 1] === scale) seen.add(levels[index * 5 + axis]);
        assert.equal(seen.size, grid.positions, `scale level ${scale} reaches ${seen.size} of the ${grid.positions} ${SPRITE_FACTORS[axis]} positions`);
      }
    }
  });

  test('every combination is drawn whole at the position it states, even the largest sprite at the far corners', () => {
    for (const size of [4, 16, 32]) {
      const grid = new SpriteGrid(size);
      assert.ok(grid.positions >= 2 && grid.positions <= 32, `size ${size}: ${grid.positions} positions`);
      const last = grid.positions - 1;
      // A canvas with room on every side for whatever the frame would cut off (a sprite reaches 0.29 × size from its centre).
      const pad = Math.ceil(size / 3);
      const wide = size + 2 * pad;
      const canvas = new Uint8Array(wide * wide);
      const image = new Uint8Array(size * size);
      let differing = 0;
      for (let shape = 0; shape < 3; shape++) {
        for (let scale = 0; scale < 6; scale++) {
          for (let rotation = 0; rotation < 40; rotation++) {
            for (const [x, y] of [[0, 0], [last, 0], [0, last], [last, last]]) {
              const levels = [shape, scale, rotation, x, y];
              grid.render(levels, image, 0);
              const centerX = grid.value(3, x) * size;
              const centerY = grid.value(4, y) * size;
              renderSprite(size, shape, grid.value(1, scale), grid.value(2, rotation), centerX + pad, centerY + pad, canvas, 0, wide);
              let outside = 0;
              let inside = 0;
              for (let row = 0; row < wide; row++) {
                for (let column = 0; column < wide; column++) {
                  const value = canvas[row * wide + column];
                  if (row >= pad && row < pad + size && column >= pad && column < pad + size) {
                    if (value !== image[(row - pad) * size + column - pad]) inside++;
                  } else if (value) outside++;
                }
              }
              assert.equal(outside, 0, `size ${size}, levels ${levels}: ${outside} pixels of the sprite fall outside the frame`);
              // The grid moves one drawing by whole pixels; drawing anew at the moved centre rounds the
              // supersample positions differently, which can flip a supersample lying on the outline.
              assert.ok(inside <= 1, `size ${size}, levels ${levels}: the grid's image differs from the sprite drawn at its stated position in ${inside} pixels`);
              differing += inside;
            }
          }
        }
      }
      assert.ok(differing <= 3, `size ${size}: ${differing} pixels differ over 2880 images`);
    }
  });

  test('samples with one factor held at a level and the others varying', () => {
    const grid = new SpriteGrid(32);
    const { images, levels } = grid.sample(500, new Random(7), { factor: 2, level: 13 });
    assert.equal(images.length, 500 * 1024);
    const varying = [0, 1, 3, 4].map((factor) => new Set(Array.from({ length: 500 }, (_, index) => levels[index * 5 + factor])).size);
    assert.deepEqual(varying, [3, 6, 14, 14]);
    for (let index = 0; index < 500; index++) assert.equal(levels[index * 5 + 2], 13);
  });

  test('`factors: grid` in a data cell validates and reaches the generator; a wrong value is an error at the key', async () => {
    const text = (mode: string) => `\`\`\`data\ndataset: sprites\nsize: 16\ncount: 200\nfactors: ${mode}\n\`\`\`\n`;
    const experiment = loadExperiment(text('grid'), 'grid.aexp');
    assert.deepEqual(experiment.diagnostics, []);
    const data = cellConfig(experiment, 'data')!;
    const dataset = await loadDataset(data, { dataDir: '.', baseDir: '.', seed: 1 });
    assert.match(dataset.description, /factor grid 3 × 6 × 40 × 7 × 7/);
    const wrong = loadExperiment(text('grids'), 'wrong.aexp').diagnostics;
    assert.equal(wrong.length, 1);
    assert.equal(wrong[0].severity, 'error');
    assert.equal(wrong[0].start.line, 5);
    assert.match(wrong[0].message, /grid/);
  });
});
