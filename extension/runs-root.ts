/**
 * Where a window's run folders live. The runtime writes only inside this folder (its
 * `initialize` request names it), so the kernel and the runtime host must agree on it.
 */
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
