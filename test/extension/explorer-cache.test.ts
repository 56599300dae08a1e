/**
 * The Latent Explorer's points kept across window reloads (extension/explorer-cache.ts), on real
 * files: a kept entry answers while its checkpoint is unchanged, a checkpoint written again or
 * another split or projection is a miss, a torn entry is a miss, and old entries go past the limit.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { checkpointStamp, ExplorerCache } from '../../extension/explorer-cache';
import type { ExplorerChoice } from '../../extension/explorer-protocol';
import type { ExploreResult } from '../../runtime/protocol';
import { temporaryDirectory } from '../helpers/temp';

function runFolder(): string {
  const runDir = path.join(temporaryDirectory('aexp-explorer-cache-'), 'runs', 'tiny', '20260101-000000');
  mkdirSync(path.join(runDir, 'checkpoints', 'weights'), { recursive: true });
  writeFileSync(path.join(runDir, 'checkpoints', 'last.ckpt'), 'weights of epoch 2');
  writeFileSync(path.join(runDir, 'checkpoints', 'weights', 'epoch-0001.ckpt'), 'weights of epoch 1');
  return runDir;
}

function resultOf(count: number): ExploreResult {
  return {
    model: { checkpoint: 'last', epoch: 2, kind: 'vae', variational: true, latent: 2, shape: [16, 16, 1], classes: 0, units: 'nats', decodes: true },
    split: 'test',
    count,
    means: Buffer.from(new Float32Array(count * 2).buffer).toString('base64'),
    labels: Buffer.alloc(count).toString('base64'),
    losses: Buffer.from(new Float32Array(count).buffer).toString('base64'),
    projection: { method: 'identity', points: Buffer.from(new Float32Array(count * 2).buffer).toString('base64'), mean: [0, 0], components: [], explained: [] },
    dimensions: [],
  } as unknown as ExploreResult;
}

test('kept points answer while the checkpoint is unchanged; a checkpoint written again, another split or projection miss', async () => {
  const runDir = runFolder();
  const cache = new ExplorerCache(path.join(temporaryDirectory(), 'storage', 'explorer'));
  const choice: ExplorerChoice = { runDir, checkpoint: 'last', split: 'test' };
  assert.equal(await cache.read(choice), undefined, 'nothing kept yet');
  await cache.write(choice, resultOf(5));
  assert.equal((await cache.read(choice))?.count, 5);
  assert.equal(await cache.read({ ...choice, split: 'train' }), undefined);
  assert.equal(await cache.read({ ...choice, projection: 'umap' }), undefined);
  // A new epoch lands in last.ckpt.
  writeFileSync(path.join(runDir, 'checkpoints', 'last.ckpt'), 'weights of epoch 3, longer');
  assert.equal(await cache.read(choice), undefined, 'a checkpoint written again is computed again');
});

test('an epoch whose weights the run kept is named by its file; a run folder without the checkpoint keeps nothing', async () => {
  const runDir = runFolder();
  assert.match(checkpointStamp(runDir, 'epoch-1') ?? '', /weights[/\\]epoch-0001\.ckpt /);
  assert.equal(checkpointStamp(runDir, 'best'), undefined);
  const cache = new ExplorerCache(path.join(temporaryDirectory(), 'explorer'));
  await cache.write({ runDir, checkpoint: 'best', split: 'test' }, resultOf(3));
  assert.equal(await cache.read({ runDir, checkpoint: 'best', split: 'test' }), undefined);
});

test('a torn entry is a miss, and the oldest entries go past the limit', async () => {
  const runDir = runFolder();
  const folder = path.join(temporaryDirectory(), 'explorer');
  const cache = new ExplorerCache(folder, 2);
  const choices: ExplorerChoice[] = (['test', 'train', 'all'] as const).map((split) => ({ runDir, checkpoint: 'last', split }));
  const past = Date.now() / 1000 - 100;
  for (const [index, choice] of choices.entries()) {
    const before = new Set(existsSync(folder) ? readdirSync(folder) : []);
    await cache.write(choice, resultOf(index + 1));
    // The first two are dated apart, in the past: which one is oldest does not hang on the clock's resolution.
    const written = readdirSync(folder).find((name) => !before.has(name))!;
    if (index < 2) utimesSync(path.join(folder, written), past + index, past + index);
  }
  assert.equal(readdirSync(folder).length, 2);
  assert.equal(await cache.read(choices[0]), undefined, 'the oldest went');
  assert.equal((await cache.read(choices[1]))?.count, 2);
  assert.equal((await cache.read(choices[2]))?.count, 3);
  for (const name of readdirSync(folder)) writeFileSync(path.join(folder, name), '{"version":1,"result":{"count":');
  assert.equal(await cache.read(choices[2]), undefined, 'a torn entry is computed again');
});
