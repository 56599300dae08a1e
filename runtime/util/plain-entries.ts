/**
 * Entries of a folder that may come from anyone (a run folder shipped in a repository): before a
 * process writes there by name, each name it writes must be its own plain file or folder, never a
 * symbolic link that sends the write somewhere else.
 */
import { lstatSync } from 'node:fs';
import type { Stats } from 'node:fs';

/**
 * An entry that is a symbolic link, or not the kind expected. Its name stays `Error`: front ends
 * print such errors as the one line they are (the entry and what it is).
 */
export class UnsafeEntryError extends Error {
  constructor(readonly entry: string, reason: string) {
    super(`${entry}: ${reason}`);
  }
}

/** The entry's lstat, or undefined when it does not exist; throws UnsafeEntryError when it is a link or not a `kind`. */
export function checkPlainEntry(entry: string, kind: 'file' | 'folder'): Stats | undefined {
  let stats: Stats;
  try {
    stats = lstatSync(entry);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (stats.isSymbolicLink()) throw new UnsafeEntryError(entry, 'a symbolic link; refusing to write through it (a run folder holds only its own files and folders)');
  if (kind === 'file' && !stats.isFile()) throw new UnsafeEntryError(entry, 'not a regular file; refusing to use it');
  if (kind === 'folder' && !stats.isDirectory()) throw new UnsafeEntryError(entry, 'not a folder; refusing to use it');
  return stats;
}
