/** The runs folders a window's views read: the setting's, `.aexp/runs`, and the more folders a person names. */
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { viewedRunsRoots } from '../../extension/runs-root';

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
