/**
 * Where a window's run folders live. The runtime writes only inside this folder (its
 * `initialize` request names it), so the kernel and the runtime host must agree on it.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The folder holding every experiment's runs for a workspace folder: the setting, relative to the folder, or `.aexp/runs`. */
export function runsRootFor(folder: string, runsFolderSetting: string | undefined): string {
  return runsFolderSetting ? path.resolve(folder, runsFolderSetting) : path.join(folder, '.aexp', 'runs');
}

/**
 * Every runs folder a window's views read, once each: per workspace folder, the runs folder runs go
 * to (the setting) and `.aexp/runs`, then the more folders a person names (a cluster's scratch),
 * each relative to the workspace folder or absolute, with `~` for the home folder.
 */
export function viewedRunsRoots(workspaceFolders: readonly string[], runsFolderSetting: string | undefined, moreRunsFolders: readonly string[]): string[] {
  const more = moreRunsFolders.map((entry) => entry.trim()).filter((entry) => entry.length > 0).map((entry) => (entry === '~' || entry.startsWith('~/') ? path.join(os.homedir(), entry.slice(1)) : entry));
  return [...new Set(workspaceFolders.flatMap((folder) => [runsRootFor(folder, runsFolderSetting), runsRootFor(folder, undefined), ...more.map((entry) => path.resolve(folder, entry))]))];
}

/**
 * Where to watch for `root`: itself if it exists, else its nearest existing parent inside the
 * workspace folder that holds it; nothing for a missing folder outside the workspace (a cluster's
 * scratch not mounted yet), which would otherwise put a recursive watch on `/` or the home folder.
 * Runs there still appear when a run of this window reports or the list is read again.
 */
export function watchedBase(root: string, workspaceFolders: readonly string[], exists: (folder: string) => boolean = existsSync): string | undefined {
  if (exists(root)) return root;
  const holder = workspaceFolders.find((folder) => isInside(folder, root));
  if (!holder) return undefined;
  let current = root;
  while (!exists(current) && isInside(holder, path.dirname(current)) && path.dirname(current) !== current) current = path.dirname(current);
  return exists(current) ? current : undefined;
}

/** Whether `file` is `folder` or inside it. */
export function isInside(folder: string, file: string): boolean {
  const relative = path.relative(folder, file);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}
