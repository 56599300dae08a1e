/** The sweep folder's copy of the CLI bundle: a newer build replaces each file by rename, so a task still running keeps the file it loaded. */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { copyCliBundle } from '../../runtime/sweep/sweep-folder';
import { temporaryDirectory } from '../helpers/temp';

test('a rebuilt bundle replaces the copied files by rename, never in place; an unchanged one is not copied again', () => {
  const folder = temporaryDirectory('sweep-folder-');
  const runtime = path.join(folder, 'dist', 'runtime');
  mkdirSync(runtime, { recursive: true });
  mkdirSync(path.join(folder, 'dist', 'native'));
  writeFileSync(path.join(runtime, 'cli.js'), 'first build');
  writeFileSync(path.join(runtime, 'cli.js.map'), 'a source map stays behind');
  writeFileSync(path.join(folder, 'dist', 'native', 'addon.node'), 'first addon');
  const sweep = path.join(folder, 'sweep');
  const cli = copyCliBundle(runtime, sweep);
  assert.equal(readFileSync(cli, 'utf8'), 'first build');
  const addon = path.join(path.dirname(cli), '..', 'native', 'addon.node');
  const before = { cli: statSync(cli).ino, addon: statSync(addon).ino };
  copyCliBundle(runtime, sweep);
  assert.deepEqual({ cli: statSync(cli).ino, addon: statSync(addon).ino }, before, 'unchanged files are kept');

  writeFileSync(path.join(runtime, 'cli.js'), 'second build');
  const later = new Date(Date.now() + 5000);
  utimesSync(path.join(runtime, 'cli.js'), later, later);
  copyCliBundle(runtime, sweep);
  assert.equal(readFileSync(cli, 'utf8'), 'second build');
  // A new file took the name: whoever had the old one open (a running task) still reads the first build.
  assert.notEqual(statSync(cli).ino, before.cli);
  assert.equal(statSync(addon).ino, before.addon);
});
