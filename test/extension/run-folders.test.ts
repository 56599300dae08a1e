/** The run folders the Explorer's menu offers Explore Latent Space on: found by name, holding a run. */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { findRunFolders, runFoldersHoldingRuns } from '../../extension/runs-index';
import { temporaryDirectory } from '../helpers/temp';
import { runFolderName, writeRun } from '../helpers/written-runs';

test('a run folder holds a run once it has config.json; folders named otherwise, or empty ones, are not runs', async () => {
  const root = temporaryDirectory();
  const run = writeRun(root, { experiment: 'vae', start: new Date(Date.UTC(2026, 10, 1, 12, 1, 0)), status: 'completed', epochs: 1 });
  const starting = path.join(root, 'vae', runFolderName(new Date(Date.UTC(2026, 10, 1, 12, 2, 0))));
  mkdirSync(starting);
  const notes = path.join(root, 'vae', 'notes');
  mkdirSync(notes);
  writeFileSync(path.join(notes, 'config.json'), '{}');
  const cli = path.join(root, runFolderName(new Date(Date.UTC(2026, 10, 1, 12, 3, 0))));
  mkdirSync(cli);
  writeFileSync(path.join(cli, 'config.json'), '{}');
  assert.deepEqual((await findRunFolders([root])).map((found) => found.runDir).sort(), [cli, run, starting].sort(), 'found by name');
  assert.deepEqual((await runFoldersHoldingRuns([root])).map((found) => found.runDir).sort(), [cli, run].sort(), 'holding config.json');
});
