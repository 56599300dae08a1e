import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { lstatSync, mkdirSync, readFileSync, readdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { removeStaleTemporaryFiles, temporaryPathFor, writeFileAtomic } from '../../runtime/util/atomic-file';
import { temporaryDirectory } from '../helpers/temp';

const writer = path.join(__dirname, '..', 'helpers', 'atomic-writer.ts');

function temporaryFiles(directory: string): string[] {
  return readdirSync(directory).filter((name) => name.endsWith('.tmp'));
}

/** Starts a child that writes `target` in a loop and SIGKILLs it while a write is under way. */
async function killMidWrite(target: string): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', writer, target], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  while (temporaryFiles(path.dirname(target)).length === 0) {
    if (child.exitCode !== null) throw new Error(`the writer exited with ${child.exitCode}`);
    await sleep(2);
  }
  child.kill('SIGKILL');
  await exited;
}

test('a writer killed mid-write leaves a temporary file that the next write removes', async () => {
  const directory = temporaryDirectory();
  const target = path.join(directory, 'last.ckpt');
  // The kill may land between two writes (no temporary file then): try again until it lands in one.
  for (let attempt = 0; attempt < 10 && temporaryFiles(directory).length === 0; attempt++) await killMidWrite(target);
  assert.equal(temporaryFiles(directory).length, 1, 'the kill left a temporary file behind');
  writeFileAtomic(path.join(directory, 'other.json'), [Buffer.from('{}')]);
  assert.deepEqual(temporaryFiles(directory), []);
  assert.equal(readFileSync(path.join(directory, 'other.json'), 'utf8'), '{}');
});

test('a sweep keeps the temporary files of live writers and of other hosts, until they are old', () => {
  const directory = temporaryDirectory();
  mkdirSync(path.join(directory, 'images'));
  const mine = temporaryPathFor(path.join(directory, 'mine.ckpt'));
  // The parent of this process is alive, on this host.
  const live = mine.replace(`~${process.pid}.tmp`, `~${process.ppid}.tmp`);
  const foreign = path.join(directory, '.last.ckpt~other-host.example~1.tmp');
  const foreignOld = path.join(directory, '.best.ckpt~other-host.example~2.tmp');
  const legacy = path.join(directory, '.summary.json.12345.tmp');
  const legacyOld = path.join(directory, '.outputs.json.12346.tmp');
  // A writer of this host identity that no longer runs.
  const nested = temporaryPathFor(path.join(directory, 'images', 'epoch-001.png')).replace(`~${process.pid}.tmp`, '~999999999.tmp');
  const unrelated = path.join(directory, 'notes.tmp');
  for (const file of [mine, live, foreign, foreignOld, legacy, legacyOld, nested, unrelated]) writeFileSync(file, 'x');
  const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
  for (const file of [foreignOld, legacyOld, unrelated]) utimesSync(file, twoHoursAgo, twoHoursAgo);

  assert.deepEqual(removeStaleTemporaryFiles(directory).sort(), [foreignOld, legacyOld].sort());
  assert.deepEqual(removeStaleTemporaryFiles(directory, { recursive: true }), [nested]);
  assert.deepEqual(readdirSync(directory).sort(), [path.basename(mine), path.basename(live), path.basename(foreign), path.basename(legacy), 'images', 'notes.tmp'].sort());
});

test('a write that fails leaves no temporary file and keeps the old content', () => {
  const directory = temporaryDirectory();
  const target = path.join(directory, 'config.json');
  writeFileAtomic(target, [Buffer.from('old')]);
  // Renaming a file over a folder fails after the data was written.
  mkdirSync(path.join(directory, 'folder'));
  assert.throws(() => writeFileAtomic(path.join(directory, 'folder'), [Buffer.from('new')]), /EISDIR|EEXIST|ENOTEMPTY|EPERM/);
  assert.deepEqual(temporaryFiles(directory), []);
  assert.equal(readFileSync(target, 'utf8'), 'old');
});

test('a temporary file of this host name but another host identity (a container sharing the name, not the pids) is removed only once old', () => {
  const directory = temporaryDirectory();
  const host = encodeURIComponent(os.hostname());
  // pid 999999999 runs nowhere here, but may from another PID namespace; the second name is that of a version before identities.
  const twin = path.join(directory, `.last.ckpt~${host}@another-container~999999999.tmp`);
  const older = path.join(directory, `.best.ckpt~${host}~999999999.tmp`);
  for (const file of [twin, older]) writeFileSync(file, 'x');
  assert.deepEqual(removeStaleTemporaryFiles(directory), []);
  const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
  for (const file of [twin, older]) utimesSync(file, twoHoursAgo, twoHoursAgo);
  assert.deepEqual(removeStaleTemporaryFiles(directory).sort(), [older, twin].sort());
});

test('a symbolic link planted at the temporary name is replaced, never written through', () => {
  const directory = temporaryDirectory();
  const outside = path.join(temporaryDirectory(), 'outside.txt');
  writeFileSync(outside, 'kept');
  const target = path.join(directory, 'summary.json');
  symlinkSync(outside, temporaryPathFor(target));
  writeFileAtomic(target, [Buffer.from('new')]);
  assert.equal(readFileSync(outside, 'utf8'), 'kept');
  assert.ok(lstatSync(target).isFile(), 'the target is a file of its own, not the planted link');
  assert.equal(readFileSync(target, 'utf8'), 'new');
  assert.deepEqual(temporaryFiles(directory), []);
});
