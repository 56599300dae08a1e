/**
 * The run-folder lock: two processes never train into one run folder at once.
 *
 * The lock is `lock.json` in the run folder, naming the holder's host, pid and start time. It
 * appears whole (written to a temporary file, then hard-linked into place, which fails if a lock
 * exists), and its holder refreshes its modification time every `heartbeatMs` from an unref'ed
 * timer. A lock whose holder died does not hold the folder forever:
 * - on the holder's own host (util/host.ts: the same host name, boot and PID namespace), it is
 *   abandoned as soon as that pid no longer runs (or now names a different process);
 * - from any other host (a file system shared by several machines, or a container that shares the
 *   host name but not the pids), once its heartbeat is older than `staleAfterMs`. This assumes the
 *   machines' clocks agree to well within that window (NTP). A lock written before locks named
 *   their host identity is judged this way too: whether its pid is visible here is unknown.
 *
 * A `lock.json` that is a symbolic link or not a regular file is refused (UnsafeEntryError), and
 * every file the lock creates is created exclusively, so a planted link is never followed.
 *
 * Taking over an abandoned lock is race-free among takers: each must first create a claim file
 * named after that very lock (its random token), which only one can; the winner moves the old lock
 * aside, checks that what it moved is the lock it judged abandoned (putting it back otherwise), and
 * then competes for a fresh lock like any newcomer.
 *
 * The one case no lock file can rule out is a holder judged abandoned by another host while it
 * still runs (its clock far off, or the process frozen past `staleAfterMs`): its heartbeat then
 * notices that the lock is no longer its own and calls `onLost`, which should stop the run.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, fsyncSync, linkSync, openSync, readSync, renameSync, rmSync, statSync, utimesSync, writeSync } from 'node:fs';
import path from 'node:path';
import { createTemporaryFile } from './util/atomic-file';
import { HOST_IDENTITY, HOST_NAME } from './util/host';
import { checkPlainEntry } from './util/plain-entries';
import { isProcessAlive, processStartTicks } from './util/processes';

export const RUN_LOCK_FILE = 'lock.json';
export const DEFAULT_HEARTBEAT_MS = 10_000;
/** Giving up on waiting for another taker that is finishing its takeover of the same lock, or for a lock that keeps vanishing. */
const TAKEOVER_WAIT_MS = 5_000;
// Where the platform has no O_NOFOLLOW (Windows), symbolic links need privileges to create.
const NO_FOLLOW = constants.O_NOFOLLOW ?? 0;

/** What `lock.json` holds. */
export interface RunLockHolder {
  host: string;
  /** util/host.ts's HOST_IDENTITY: only a holder with this process's identity is judged by its pid. Absent in older lock files. */
  hostId?: string;
  pid: number;
  /** The pid's start time (Linux clock ticks since boot), so that a reused pid is not taken for the holder. */
  pidStartTicks?: number;
  /** ISO 8601. */
  startedAt: string;
  /** Unique to this acquisition. */
  token: string;
}

export interface RunLockOptions {
  /** How often the holder refreshes its heartbeat. */
  heartbeatMs?: number;
  /** A heartbeat older than this (seen from another host) marks the lock abandoned. Default: 6 × heartbeatMs. */
  staleAfterMs?: number;
  /** Called once if the heartbeat finds that the lock is no longer this holder's (see above). */
  onLost?: (now: RunLockState | undefined) => void;
  /** For tests of racing takers only: a pause between judging a lock abandoned and taking it over, so that the takers overlap. */
  takeoverPauseMs?: number;
}

/** A lock file as found on disk. */
export interface RunLockState {
  /** Undefined when the file cannot be parsed (being written by an older version, or damaged). */
  holder?: RunLockHolder;
  /** Milliseconds since the last heartbeat (the file's modification time). */
  heartbeatAgeMs: number;
  /** Whether it may be taken over (see above). */
  abandoned: boolean;
}

export class RunLockedError extends Error {
  override name = 'RunLockedError';
  constructor(
    readonly folder: string,
    readonly state: RunLockState,
  ) {
    super(describeHolder(folder, state));
  }
}

/** A held lock. Release it when the run ends; `release` and `dispose` may be called any number of times. */
export class RunLock {
  readonly file: string;
  private timer: NodeJS.Timeout | undefined;
  private lost = false;

  constructor(
    readonly folder: string,
    readonly holder: RunLockHolder,
    private readonly options: RunLockOptions,
  ) {
    this.file = path.join(folder, RUN_LOCK_FILE);
    this.timer = setInterval(() => this.beat(), options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
    this.timer.unref();
    held.add(this);
  }

  /** False once released, or once the heartbeat found the lock taken from it. */
  get isHeld(): boolean {
    return this.timer !== undefined && !this.lost;
  }

  release(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    held.delete(this);
    if (this.lost) return;
    try {
      if (readLockFile(this.file)?.identity === this.holder.token) rmSync(this.file, { force: true });
    } catch {
      // Unreadable now (a file system gone away): the lock is left to be judged abandoned.
    }
  }

  dispose(): void {
    this.release();
  }

  private beat(): void {
    let found: LockFile | undefined;
    try {
      found = readLockFile(this.file);
    } catch {
      // A passing I/O error: the next beat tries again, well within the staleness window.
      return;
    }
    if (found?.identity === this.holder.token) {
      try {
        const now = new Date();
        utimesSync(this.file, now, now);
      } catch {
        // As above.
      }
      return;
    }
    this.lost = true;
    clearInterval(this.timer);
    held.delete(this);
    this.options.onLost?.(found && toState(found, staleAfter(this.options)));
  }
}

const held = new Set<RunLock>();
// A process that ends without releasing (process.exit, an uncaught error) still frees its folders.
process.on('exit', () => {
  for (const lock of [...held]) lock.release();
});

/**
 * Takes the lock of `folder` (which must exist) or throws `RunLockedError`, whose one-line message
 * names the holder: `<folder> is in use by pid 1234 on host h since 2026-11-30T03:40:00Z (heartbeat 3 s ago)`.
 * An abandoned lock is taken over (see above).
 */
export function acquireRunLock(folder: string, options: RunLockOptions = {}): RunLock {
  const file = path.join(folder, RUN_LOCK_FILE);
  const holder = newHolder(randomBytes(12).toString('hex'));
  const deadline = Date.now() + TAKEOVER_WAIT_MS;
  for (;;) {
    // A link would make `create` fail (the name exists) and `readLockFile` find nothing, for ever.
    checkPlainEntry(file, 'file');
    if (create(folder, file, holder)) return new RunLock(folder, holder, options);
    let found: LockFile | undefined;
    try {
      found = readLockFile(file);
    } catch (error) {
      throw new Error(`${folder}: cannot read its ${RUN_LOCK_FILE} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { cause: error });
    }
    if (found === undefined) {
      // Released between our attempt and our look: try again, but not for ever.
      if (Date.now() > deadline) throw new Error(`${folder}: its ${RUN_LOCK_FILE} keeps appearing and vanishing; cannot take it`);
      continue;
    }
    const state = toState(found, staleAfter(options));
    if (!state.abandoned) throw new RunLockedError(folder, state);
    if (options.takeoverPauseMs) pause(options.takeoverPauseMs);
    const claimant = takeOver(folder, file, found, holder.token, staleAfter(options));
    if (claimant) {
      // Another process is taking it over: it will hold the folder in a moment.
      if (Date.now() > deadline) throw new RunLockedError(folder, toState(claimant, staleAfter(options)));
      pause(5);
    } else if (Date.now() > deadline) {
      // This process removed an abandoned lock, yet each attempt since finds another one.
      throw new Error(`${folder}: its abandoned ${RUN_LOCK_FILE} could not be taken over within ${TAKEOVER_WAIT_MS / 1000} s`);
    }
  }
}

function newHolder(token: string): RunLockHolder {
  return { host: HOST_NAME, hostId: HOST_IDENTITY, pid: process.pid, pidStartTicks: processStartTicks(process.pid), startedAt: new Date().toISOString(), token };
}

/** The lock of `folder` as it stands, or undefined when there is none. */
export function readRunLock(folder: string, options: RunLockOptions = {}): RunLockState | undefined {
  const found = readLockFile(path.join(folder, RUN_LOCK_FILE));
  return found && toState(found, staleAfter(options));
}

function staleAfter(options: RunLockOptions): number {
  return options.staleAfterMs ?? 6 * (options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
}

function describeHolder(folder: string, state: RunLockState): string {
  const age = `heartbeat ${Math.max(0, Math.round(state.heartbeatAgeMs / 1000))} s ago`;
  const holder = state.holder;
  if (!holder) return `${folder} is in use: its ${RUN_LOCK_FILE} cannot be read (${age})`;
  const since = holder.startedAt.replace(/\.\d+Z$/, 'Z');
  return `${folder} is in use by pid ${holder.pid} on host ${holder.host} since ${since} (${age})`;
}

interface LockFile {
  holder?: RunLockHolder;
  /** The holder's token; for a file that cannot be parsed, its inode, time and size. */
  identity: string;
  modifiedMs: number;
}

/** Reads a lock (or claim) file; undefined when it does not exist. */
function readLockFile(file: string): LockFile | undefined {
  let descriptor: number;
  try {
    descriptor = openSync(file, constants.O_RDONLY | NO_FOLLOW);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    // Opening first makes a shared file system revalidate what it cached of the file.
    const stat = fstatSync(descriptor);
    const bytes = Buffer.alloc(Math.min(stat.size, 64 * 1024));
    const length = readSync(descriptor, bytes, 0, bytes.length, 0);
    const holder = parseHolder(bytes.subarray(0, length).toString('utf8'));
    return { holder, identity: holder?.token ?? `unreadable-${stat.ino}-${stat.mtimeMs}-${stat.size}`, modifiedMs: stat.mtimeMs };
  } finally {
    closeSync(descriptor);
  }
}

function parseHolder(text: string): RunLockHolder | undefined {
  try {
    const value = JSON.parse(text) as Partial<RunLockHolder>;
    if (typeof value.host === 'string' && (value.hostId === undefined || typeof value.hostId === 'string') && Number.isInteger(value.pid) && typeof value.startedAt === 'string' && typeof value.token === 'string' && /^[0-9a-f]+$/.test(value.token)) return value as RunLockHolder;
  } catch {
    // Unparsable: judged by its age alone.
  }
  return undefined;
}

function toState(found: LockFile, staleAfterMs: number): RunLockState {
  const heartbeatAgeMs = Date.now() - found.modifiedMs;
  return { holder: found.holder, heartbeatAgeMs, abandoned: isAbandoned(found, heartbeatAgeMs, staleAfterMs) };
}

function isAbandoned(found: LockFile, heartbeatAgeMs: number, staleAfterMs: number): boolean {
  const holder = found.holder;
  if (holder && holder.host === HOST_NAME && holder.hostId === HOST_IDENTITY) {
    if (!isProcessAlive(holder.pid)) return true;
    const startTicks = processStartTicks(holder.pid);
    // A live local holder keeps its lock however late its heartbeat: a long synchronous step may delay the timer.
    return holder.pidStartTicks !== undefined && startTicks !== undefined && startTicks !== holder.pidStartTicks;
  }
  return heartbeatAgeMs > staleAfterMs;
}

/**
 * Puts `content` at `file` only if nothing is there, whole: a reader never sees a half-written
 * lock. Returns false when `file` exists.
 */
function createExclusive(file: string, content: string): boolean {
  const { path: temporary, descriptor } = createTemporaryFile(file);
  try {
    writeSync(descriptor, content);
    fsyncSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
  try {
    linkSync(temporary, file);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    // Over NFS a link can succeed while its reply is lost: two links to the file mean it did.
    if (statSync(temporary).nlink === 2) return true;
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'ENOSYS' || code === 'EOPNOTSUPP') return createWithoutLink(file, content);
    throw error;
  } finally {
    rmSync(temporary, { force: true });
  }
}

/** For file systems without hard links: exclusive create, then write (a reader may briefly see it empty). */
function createWithoutLink(file: string, content: string): boolean {
  let descriptor: number;
  try {
    descriptor = openSync(file, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(descriptor, content);
    fsyncSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
  return true;
}

function create(folder: string, file: string, holder: RunLockHolder): boolean {
  try {
    return createExclusive(file, `${JSON.stringify(holder)}\n`);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new Error(`${folder}: cannot create its ${RUN_LOCK_FILE} (${code})`, { cause: error });
  }
}

/**
 * Removes the abandoned lock `found`, if this process wins the claim on it. Returns the claim of
 * another process that holds it (wait for it to finish), or undefined: try to acquire again.
 */
function takeOver(folder: string, file: string, found: LockFile, token: string, staleAfterMs: number): LockFile | undefined {
  const claim = path.join(folder, `${RUN_LOCK_FILE}.takeover-${found.identity}`);
  if (!createExclusive(claim, JSON.stringify(newHolder(token)))) {
    const other = readLockFile(claim);
    // A claimant that died mid-takeover leaves its claim: abandoned by the same rules as a lock.
    if (other && isAbandoned(other, Date.now() - other.modifiedMs, staleAfterMs)) removeIfStill(claim, other.identity, token);
    return other;
  }
  try {
    removeIfStill(file, found.identity, token);
    return undefined;
  } finally {
    rmSync(claim, { force: true });
  }
}

/**
 * Removes `file` if it is still the one with `identity`: moved aside first (atomic), then checked,
 * and put back if a newcomer's file was moved instead, so that a newcomer's lock is never deleted.
 */
function removeIfStill(file: string, identity: string, token: string): void {
  if (readLockFile(file)?.identity !== identity) return;
  const aside = path.join(path.dirname(file), `.${path.basename(file)}.${token}.abandoned`);
  try {
    renameSync(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (readLockFile(aside)?.identity !== identity) {
    try {
      linkSync(aside, file);
    } catch {
      // Another newcomer took the name meanwhile; the displaced holder's heartbeat reports the loss.
    }
  }
  rmSync(aside, { force: true });
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
function pause(milliseconds: number): void {
  Atomics.wait(sleeper, 0, 0, milliseconds);
}
