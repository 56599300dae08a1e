import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import type { RunLockState } from '../../runtime/run-lock';
import { RunLockedError, acquireRunLock, readRunLock } from '../../runtime/run-lock';
import { HOST_IDENTITY } from '../../runtime/util/host';
import { temporaryDirectory } from '../helpers/temp';

const holderScript = path.join(__dirname, '..', 'helpers', 'lock-holder.ts');
const takeOnceScript = path.join(__dirname, '..', 'helpers', 'take-lock-once.ts');
// Small intervals so that abandonment by age can be tested; the tests set ages explicitly rather than wait.
const timing = { heartbeatMs: 200, staleAfterMs: 1000 };
// Racing takers all judge the lock abandoned before any acts on it: they reach it within this pause of each other.
const takeoverPauseMs = 300;

interface Contender {
  child: ChildProcess;
  exited: Promise<unknown>;
  /** The next line the child prints. */
  next(): Promise<string>;
}

async function contender(folder: string): Promise<Contender> {
  const child = spawn(process.execPath, ['--import', 'tsx', holderScript, folder, String(timing.heartbeatMs), String(timing.staleAfterMs), String(takeoverPauseMs)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  // A failed assertion leaves contenders holding on: they must not outlive the test file.
  after(() => child.kill('SIGKILL'));
  const queue: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => (waiting.length > 0 ? waiting.shift()!(line) : queue.push(line)));
  const next = () => (queue.length > 0 ? Promise.resolve(queue.shift()!) : new Promise<string>((resolve) => waiting.push(resolve)));
  assert.equal(await next(), 'ready');
  return { child, exited, next };
}

async function attempt(contestant: Contender): Promise<{ won?: boolean; refused?: string }> {
  contestant.child.stdin!.write('go\n');
  return JSON.parse(await contestant.next()) as { won?: boolean; refused?: string };
}

function lockHolder(folder: string): { pid: number; host: string; token: string } {
  return JSON.parse(readFileSync(path.join(folder, 'lock.json'), 'utf8'));
}

/** A lock left by a holder on another machine, its last heartbeat `ageMs` ago. */
function foreignLock(folder: string, ageMs: number): void {
  const file = path.join(folder, 'lock.json');
  writeFileSync(file, JSON.stringify({ host: 'node-17.cluster.example', pid: 4242, startedAt: '2026-11-30T03:40:00.000Z', token: 'abcdef0123' }));
  const at = new Date(Date.now() - ageMs);
  utimesSync(file, at, at);
}

function assertOnlyLockFile(folder: string): void {
  assert.deepEqual(readdirSync(folder), ['lock.json'], 'no claim, temporary or moved-aside file is left');
}

test('a second process is refused and told who holds the folder; a holder that exits frees it', async () => {
  const folder = temporaryDirectory();
  const holder = await contender(folder);
  assert.deepEqual(await attempt(holder), { won: true });
  assertOnlyLockFile(folder);
  assert.throws(
    () => acquireRunLock(folder, timing),
    (error: unknown) => {
      assert.ok(error instanceof RunLockedError);
      const since = (error.state.holder?.startedAt ?? '').replace(/\.\d+Z$/, 'Z');
      assert.match(error.message, new RegExp(`^${folder} is in use by pid ${holder.child.pid} on host ${os.hostname()} since ${since} \\(heartbeat \\d+ s ago\\)$`));
      assert.ok(since.endsWith('Z'));
      return true;
    },
  );
  holder.child.stdin!.end();
  await holder.exited;
  assert.equal(existsSync(path.join(folder, 'lock.json')), false, 'the exit hook released the lock');
});

test('the heartbeat keeps refreshing the lock, and release is idempotent', async () => {
  const folder = temporaryDirectory();
  const lock = acquireRunLock(folder, timing);
  const file = path.join(folder, 'lock.json');
  const past = new Date(Date.now() - 60_000);
  utimesSync(file, past, past);
  // Waits for the heartbeat: the test times out if it never comes.
  while (statSync(file).mtimeMs < past.getTime() + 30_000) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal((readRunLock(folder, timing) as RunLockState).abandoned, false);
  assert.equal(lock.isHeld, true);
  lock.release();
  lock.release();
  lock.dispose();
  assert.equal(lock.isHeld, false);
  assert.equal(existsSync(file), false);
  acquireRunLock(folder, timing).release();
});

test('a lock taken from its holder is reported through onLost', async () => {
  const folder = temporaryDirectory();
  const lost = new Promise<RunLockState | undefined>((resolve) => acquireRunLock(folder, { ...timing, onLost: resolve }));
  foreignLock(folder, 0);
  // The heartbeat timer does not keep a process alive by itself (a run does).
  const alive = setInterval(() => {}, 1000);
  const now = await lost;
  clearInterval(alive);
  assert.equal(now?.holder?.host, 'node-17.cluster.example');
});

test('the lock of a SIGKILLed holder on this host is taken over at once', async () => {
  const folder = temporaryDirectory();
  const holder = await contender(folder);
  assert.deepEqual(await attempt(holder), { won: true });
  holder.child.kill('SIGKILL');
  await holder.exited;
  // Its heartbeat is fresh; only the pid tells that the holder is gone.
  assert.equal(lockHolder(folder).pid, holder.child.pid);
  assert.ok((readRunLock(folder, timing) as RunLockState).abandoned);
  const lock = acquireRunLock(folder, timing);
  assert.equal(lockHolder(folder).pid, process.pid);
  assertOnlyLockFile(folder);
  lock.release();
});

test('a lock from another host is respected while its heartbeat is fresh and taken over once it is old', () => {
  const folder = temporaryDirectory();
  foreignLock(folder, 100);
  assert.throws(() => acquireRunLock(folder, timing), /is in use by pid 4242 on host node-17\.cluster\.example since 2026-11-30T03:40:00Z \(heartbeat 0 s ago\)$/);
  foreignLock(folder, 5_000);
  const lock = acquireRunLock(folder, timing);
  assert.equal(lockHolder(folder).host, os.hostname());
  assertOnlyLockFile(folder);
  lock.release();
});

for (const [kind, leave] of [
  ['a SIGKILLed holder of this host', (folder: string) => writeFileSync(path.join(folder, 'lock.json'), JSON.stringify({ host: os.hostname(), hostId: HOST_IDENTITY, pid: 999_999_999, startedAt: new Date().toISOString(), token: '0123abcd' }))],
  ['a holder on another host', (folder: string) => foreignLock(folder, 5_000)],
] as const) {
  test(`six processes racing for the abandoned lock of ${kind}: exactly one wins`, async () => {
    const folder = temporaryDirectory();
    leave(folder);
    const contenders = await Promise.all(Array.from({ length: 6 }, () => contender(folder)));
    const results = await Promise.all(contenders.map((contestant) => attempt(contestant)));
    const winners = contenders.filter((_, index) => results[index].won);
    assert.equal(winners.length, 1, JSON.stringify(results));
    const winner = winners[0].child.pid;
    assert.equal(lockHolder(folder).pid, winner);
    for (const result of results.filter((candidate) => !candidate.won)) assert.match(result.refused ?? '', new RegExp(`is in use by pid ${winner} on host `));
    assertOnlyLockFile(folder);
    for (const contestant of contenders) contestant.child.stdin!.end();
    await Promise.all(contenders.map((contestant) => contestant.exited));
    assert.deepEqual(readdirSync(folder), []);
  });
}

test('a claim left by a taker that died mid-takeover does not block the folder', () => {
  const folder = temporaryDirectory();
  const dead = { host: os.hostname(), hostId: HOST_IDENTITY, pid: 999_999_999, startedAt: new Date().toISOString() };
  writeFileSync(path.join(folder, 'lock.json'), JSON.stringify({ ...dead, token: '0123abcd' }));
  writeFileSync(path.join(folder, 'lock.json.takeover-0123abcd'), JSON.stringify({ ...dead, token: '4567ef' }));
  assert.equal(readRunLock(folder, timing)?.abandoned, true);
  const lock = acquireRunLock(folder, timing);
  assert.equal(lockHolder(folder).pid, process.pid);
  assertOnlyLockFile(folder);
  lock.release();
  assert.equal(readRunLock(folder, timing), undefined);
});

test('a lock of this host name but another host identity (a container sharing the name, not the pids) is judged by its heartbeat, not its pid', () => {
  const folder = temporaryDirectory();
  const file = path.join(folder, 'lock.json');
  // pid 999999999 runs nowhere here; from another PID namespace it may well be a live trainer.
  const twin = { host: os.hostname(), hostId: 'another-container', pid: 999_999_999, startedAt: '2026-11-30T03:40:00.000Z', token: 'abcdef0123' };
  writeFileSync(file, JSON.stringify(twin));
  assert.equal(readRunLock(folder, timing)?.abandoned, false);
  assert.throws(() => acquireRunLock(folder, timing), (error: Error) => error.message.includes(`is in use by pid 999999999 on host ${os.hostname()} since 2026-11-30T03:40:00Z (heartbeat `));
  // A lock written before locks named their host identity is judged the same way.
  const { hostId: _, ...older } = twin;
  writeFileSync(file, JSON.stringify(older));
  assert.throws(() => acquireRunLock(folder, timing), RunLockedError);
  // Its heartbeat stopped long ago: abandoned.
  const past = new Date(Date.now() - 5_000);
  utimesSync(file, past, past);
  const lock = acquireRunLock(folder, timing);
  assert.equal(lockHolder(folder).pid, process.pid);
  lock.release();
});

test('a lock.json that is a symbolic link (dangling or not) is refused at once, in one line naming it', () => {
  const folder = temporaryDirectory();
  const outside = temporaryDirectory();
  const file = path.join(folder, 'lock.json');
  symlinkSync(path.join(outside, 'nonexistent'), file);
  // In a child with a time limit: an attempt that never returns must fail this test, not hang it.
  const dangling = spawnSync(process.execPath, ['--import', 'tsx', takeOnceScript, folder], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(dangling.signal, null, 'the attempt returned');
  assert.equal(dangling.stdout, `${file}: a symbolic link; refusing to write through it (a run folder holds only its own files and folders)\n`, dangling.stderr);
  assert.deepEqual(readdirSync(outside), [], 'nothing created through the link');
  // A link to a file that exists: refused as well, the file left as it was.
  writeFileSync(path.join(outside, 'target.json'), 'kept');
  rmSync(file);
  symlinkSync(path.join(outside, 'target.json'), file);
  assert.throws(() => acquireRunLock(folder, timing), (error: Error) => error.message === `${file}: a symbolic link; refusing to write through it (a run folder holds only its own files and folders)`);
  assert.equal(readFileSync(path.join(outside, 'target.json'), 'utf8'), 'kept');
  assert.deepEqual(readdirSync(folder), ['lock.json'], 'no temporary or claim file is left');
});
