/** The runs folders a window's views read: the setting's, `.aexp/runs`, and the more folders a person names. */
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { viewedRunsRoots, watchedBase } from '../../extension/runs-root';

test('every workspace folder\'s runs folder and .aexp/runs, then the more folders (relative to each workspace folder, absolute, or under ~), each once', () => {
  const roots = viewedRunsRoots(['/work/a', '/work/b'], 'runs', ['../scratch/runs', '/cluster/scratch/me/runs', '~/runs-elsewhere', ' ', '/cluster/scratch/me/runs']);
  assert.deepEqual(roots, [
    '/work/a/runs',
    '/work/a/.aexp/runs',
    '/work/scratch/runs',
    '/cluster/scratch/me/runs',
    path.join(os.homedir(), 'runs-elsewhere'),
    '/work/b/runs',
    '/work/b/.aexp/runs',
  ]);
  assert.deepEqual(viewedRunsRoots(['/work/a'], undefined, []), ['/work/a/.aexp/runs'], 'without settings: .aexp/runs alone');
  assert.deepEqual(viewedRunsRoots([], 'runs', ['/abs']), [], 'no workspace folder: nothing is read');
});

test('a runs folder is watched where it is, or from its nearest existing parent inside its workspace folder; a missing one outside the workspace is not watched (no recursive watch of / or ~)', () => {
  const existing = new Set(['/work/a', '/work/a/.aexp', '/cluster', '/']);
  const exists = (folder: string) => existing.has(folder);
  assert.equal(watchedBase('/work/a/.aexp', ['/work/a'], exists), '/work/a/.aexp');
  assert.equal(watchedBase('/work/a/.aexp/runs', ['/work/a'], exists), '/work/a/.aexp', 'the first run makes it: its parent is watched until then');
  assert.equal(watchedBase('/work/a/deep/er/runs', ['/work/a'], exists), '/work/a');
  assert.equal(watchedBase('/scratch/me/runs', ['/work/a'], exists), undefined, 'not mounted: not watched from /');
  assert.equal(watchedBase('/cluster/me/runs', ['/work/a'], exists), undefined, 'outside the workspace: only itself, once it exists');
  existing.add('/cluster/me/runs');
  assert.equal(watchedBase('/cluster/me/runs', ['/work/a'], exists), '/cluster/me/runs');
});
