/** Reuse of a finished run (the notebook's semantics) never writes through links that its folder holds. */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { runExperiment } from '../../runtime/engine';
import type { EngineEvent } from '../../runtime/protocol';
import { tinyExperiment } from '../helpers/experiments';
import { temporaryDirectory } from '../helpers/temp';

test('a finished run whose images/ is a symbolic link is not reused: the run trains anew, says why, and writes nothing outside', async () => {
  const directory = temporaryDirectory();
  const file = tinyExperiment(directory, { epochs: 1 });
  const outDir = path.join(directory, 'runs');
  const first = await runExperiment({ file, outDir });
  const outside = path.join(directory, 'outside');
  mkdirSync(outside);
  writeFileSync(path.join(outside, 'kept.txt'), 'kept');
  const images = path.join(first.runDir, 'images');
  renameSync(images, path.join(directory, 'moved-images'));
  symlinkSync(outside, images);

  const events: EngineEvent[] = [];
  const again = await runExperiment({ file, outDir, reuse: true, onEvent: (event) => events.push(event) });
  assert.notEqual(again.runDir, first.runDir);
  assert.equal(again.summary.reused, undefined);
  const warnings = events.filter((event) => event.type === 'log' && event.level === 'warning').map((event) => (event.type === 'log' ? event.message : ''));
  assert.ok(warnings.includes(`not reusing ${first.runDir}: ${images}: a symbolic link; refusing to write through it (a run folder holds only its own files and folders)`), warnings.join('\n'));
  assert.deepEqual(readdirSync(outside), ['kept.txt']);
  assert.equal(readFileSync(path.join(outside, 'kept.txt'), 'utf8'), 'kept');
});
