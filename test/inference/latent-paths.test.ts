import assert from 'node:assert/strict';
import { test } from 'node:test';
import { interpolationPath, traversalPath } from '../../runtime/inference/latent-paths';

function close(actual: ArrayLike<number>, expected: number[], tolerance = 1e-6): void {
  assert.equal(actual.length, expected.length);
  for (let index = 0; index < expected.length; index++) assert.ok(Math.abs(actual[index] - expected[index]) <= tolerance, `[${index}]: ${actual[index]} ≠ ${expected[index]}`);
}

test('lerp walks the straight line, both ends included', () => {
  const path = interpolationPath(Float32Array.of(0, 2), Float32Array.of(4, -2), 5, 'lerp');
  close(path, [0, 2, 1, 1, 2, 0, 3, -1, 4, -2]);
});

test('slerp walks the arc: orthogonal unit vectors meet at (a + b)/√2, and every point keeps the norm', () => {
  const from = Float32Array.of(1, 0, 0);
  const to = Float32Array.of(0, 1, 0);
  const path = interpolationPath(from, to, 3, 'slerp');
  close(path, [1, 0, 0, Math.SQRT1_2, Math.SQRT1_2, 0, 0, 1, 0]);
  const long = interpolationPath(Float32Array.of(3, 0), Float32Array.of(0, -3), 7, 'slerp');
  for (let step = 0; step < 7; step++) assert.ok(Math.abs(Math.hypot(long[2 * step], long[2 * step + 1]) - 3) < 1e-5);
  // lerp's midpoint of the same endpoints falls inside the shell.
  const chord = interpolationPath(from, to, 3, 'lerp');
  assert.ok(Math.hypot(chord[3], chord[4], chord[5]) < 0.75);
});

test('slerp between parallel, opposite or zero endpoints falls back to lerp instead of dividing by sin 0', () => {
  close(interpolationPath(Float32Array.of(1, 1), Float32Array.of(2, 2), 3, 'slerp'), [1, 1, 1.5, 1.5, 2, 2]);
  close(interpolationPath(Float32Array.of(1, 0), Float32Array.of(-1, 0), 3, 'slerp'), [1, 0, 0, 0, -1, 0]);
  close(interpolationPath(Float32Array.of(0, 0), Float32Array.of(2, 0), 3, 'slerp'), [0, 0, 1, 0, 2, 0]);
});

test('a traversal changes one dimension over evenly spaced values and keeps the others', () => {
  const { z, values } = traversalPath(Float32Array.of(0.5, -1, 2), 1, -3, 3, 4);
  close(values, [-3, -1, 1, 3]);
  close(z, [0.5, -3, 2, 0.5, -1, 2, 0.5, 1, 2, 0.5, 3, 2]);
  assert.throws(() => traversalPath(Float32Array.of(0, 0), 2, -1, 1, 3), /dimension 2 is past the code's 2 dimensions \(0–1\)/);
});
