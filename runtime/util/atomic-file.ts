/**
 * Atomic file writes: the data goes to a temporary sibling, is flushed to disk, then renamed over
 * the target, so a kill at any moment leaves either the old file or the new one, never a partial
 * one. A kill during the write leaves the temporary sibling behind; every write sweeps the folder
 * for such leftovers of dead processes, so they never accumulate.
 *
 * Temporary names are `.<name>~<host>@<identity>~<pid>.tmp` (util/host.ts): they say whose file
 * it is, so on a folder shared by several machines (or containers) a process removes at once only
 * the leftovers of dead processes whose pids it can see, and any other only once it is older than
 * `staleAfterMs`.
 *
 * A temporary file is created exclusively, so a symbolic link planted at its name (a run folder
 * is untrusted input) is removed, never written through.
 */
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { HOST_IDENTITY, HOST_NAME } from './host';
import { isProcessAlive } from './processes';

/** A temporary file untouched this long is a leftover whoever wrote it: no write takes an hour. */
export const STALE_TEMPORARY_FILE_MS = 60 * 60 * 1000;

const OWNER = `${encodeHost(HOST_NAME)}@${HOST_IDENTITY}`;
const TEMPORARY = /^\.(.+)~([^~]+)~(\d+)\.tmp$/;
// Written by versions before the owner was part of the name; whose they are is unknown, so only age removes them.
// (Names with a host but no identity, from versions before that, match TEMPORARY and are never "ours": age too.)
const TEMPORARY_WITHOUT_HOST = /^\.(.+)\.(\d+)\.tmp$/;

/** Host names may hold any character; `~` separates the parts of a temporary name, `@` the host from its identity. */
function encodeHost(host: string): string {
  return encodeURIComponent(host.slice(0, 100)).replace(/~/g, '%7E');
}

export function temporaryPathFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}~${OWNER}~${process.pid}.tmp`);
}

export interface SweepOptions {
  /** Also sweep the folders below `directory`. */
  recursive?: boolean;
  /** Age (from the last write) after which any temporary file counts as abandoned. */
  staleAfterMs?: number;
}

/**
 * Removes the temporary files that writers killed mid-write left in `directory`: those of this
 * host identity whose process no longer runs, and any untouched for `staleAfterMs`. Returns the paths removed.
 * A folder that does not exist holds nothing to remove.
 */
export function removeStaleTemporaryFiles(directory: string, options: SweepOptions = {}): string[] {
  const staleAfterMs = options.staleAfterMs ?? STALE_TEMPORARY_FILE_MS;
  const removed: string[] = [];
  let entries;
  try {
    entries = readdirSync(directory, { withFileTypes: true });
  } catch {
    return removed;
  }
  for (const entry of entries) {
    const file = path.join(directory, entry.name);
    if (entry.isDirectory()) {
      if (options.recursive) removed.push(...removeStaleTemporaryFiles(file, options));
      continue;
    }
    if (!entry.isFile() || !entry.name.endsWith('.tmp')) continue;
    const match = TEMPORARY.exec(entry.name);
    const ours = match !== null && match[2] === OWNER;
    if (match === null && !TEMPORARY_WITHOUT_HOST.test(entry.name)) continue;
    if (ours && Number(match[3]) === process.pid) continue;
    let stale = ours && !isProcessAlive(Number(match[3]));
    if (!stale) {
      try {
        stale = Date.now() - statSync(file).mtimeMs > staleAfterMs;
      } catch {
        continue;
      }
    }
    if (!stale) continue;
    try {
      rmSync(file, { force: true });
      removed.push(file);
    } catch {
      // Another process may be sweeping the same folder, or it is read-only: nothing is lost either way.
    }
  }
  return removed;
}

/**
 * Writes `chunks` to `target` atomically (see above). On failure nothing is left behind: the
 * temporary file is removed and the target keeps its previous content.
 */
export function writeFileAtomic(target: string, chunks: (Buffer | Uint8Array)[]): void {
  removeStaleTemporaryFiles(path.dirname(target));
  const temporary = createTemporaryFile(target);
  let descriptor: number | undefined = temporary.descriptor;
  try {
    for (const chunk of chunks) writeSync(descriptor, chunk);
    fsyncSync(descriptor);
    closeSync(descriptor);
    descriptor = undefined;
    renameSync(temporary.path, target);
  } catch (error) {
    if (descriptor !== undefined) {
      try {
        closeSync(descriptor);
      } catch {
        // The write already failed; that error is the one to report.
      }
    }
    rmSync(temporary.path, { force: true });
    throw error;
  }
  try {
    const directory = openSync(path.dirname(target), 'r');
    fsyncSync(directory);
    closeSync(directory);
  } catch {
    // Some file systems cannot fsync a directory; the rename is still atomic there.
  }
}

/**
 * Opens `temporaryPathFor(target)` for writing, created by this call ('wx'): whatever had that
 * name (a leftover of an earlier process with this pid, or a planted symbolic link) is removed
 * first, and one planted in between makes the open fail rather than be followed.
 */
export function createTemporaryFile(target: string): { path: string; descriptor: number } {
  const temporary = temporaryPathFor(target);
  rmSync(temporary, { force: true });
  return { path: temporary, descriptor: openSync(temporary, 'wx') };
}
