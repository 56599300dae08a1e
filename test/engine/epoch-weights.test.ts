/**
 * Each epoch's weights beside the checkpoints: what a 3-epoch run keeps for epoch 2 is exactly
 * what a 2-epoch run of the same experiment ends with (training is deterministic), and
 * `--checkpoint epoch-N` finds it.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { selectBackend } from '../../runtime/backends/select';
import { runExperiment } from '../../runtime/engine';
import { checkpointFile } from '../../runtime/run-folder';
import { resolveCheckpoint } from '../../runtime/run/load-run';
import { loadCheckpoint } from '../../runtime/train/checkpoint';
import { epochWeightsFile, epochWeightsStride, epochsWithWeights, keepsEpochWeights, truncateEpochWeights } from '../../runtime/train/epoch-weights';
import { tinyExperiment } from '../helpers/experiments';
import { temporaryDirectory } from '../helpers/temp';

const folder = temporaryDirectory('epoch-weights-');

test('every epoch keeps its weights while they fit the budget; a large model keeps every k-th and the last', () => {
  assert.equal(epochWeightsStride(1_000_000, 100, 256_000_000), 1);
  assert.equal(epochWeightsStride(10_000_000, 100, 256_000_000), 4);
  assert.deepEqual([1, 2, 3, 4, 5, 8, 9, 10].filter((epoch) => keepsEpochWeights(epoch, 4, 10)), [4, 8, 10]);
});

test('a run keeps each epoch\'s weights (no optimizer state), equal to a shorter run\'s final weights, and resolves epoch-N to them', async () => {
  await selectBackend('cpu');
  const file = tinyExperiment(folder, { epochs: 3, count: 400 });
  const long = await runExperiment({ file, backend: 'cpu', outDir: path.join(folder, 'long') });
  const short = await runExperiment({ file, backend: 'cpu', epochs: 2, outDir: path.join(folder, 'short') });
  assert.deepEqual(epochsWithWeights(long.runDir), [1, 2, 3]);
  const kept = loadCheckpoint(epochWeightsFile(long.runDir, 2));
  assert.equal(kept.position.epoch, 2);
  assert.deepEqual(kept.optimizer.slots, []);
  const final = loadCheckpoint(checkpointFile(short.runDir, 'last'));
  assert.equal(kept.weights.length, final.weights.length);
  kept.weights.forEach((weight, index) => assert.deepEqual(weight.values, final.weights[index].values, `weight ${index}`));
  assert.notDeepEqual(loadCheckpoint(epochWeightsFile(long.runDir, 3)).weights[0].values, kept.weights[0].values);

  assert.equal(resolveCheckpoint(long.runDir, 'epoch-2'), epochWeightsFile(long.runDir, 2));
  assert.throws(() => resolveCheckpoint(long.runDir, 'epoch-9'), /no epoch-9 checkpoint; it keeps best, last; weights of epochs 1-3$/);
  assert.equal(truncateEpochWeights(long.runDir, 1), 2);
  assert.deepEqual(epochsWithWeights(long.runDir), [1]);
  assert.ok(!existsSync(epochWeightsFile(long.runDir, 3)));
});
