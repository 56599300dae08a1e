/**
 * Where a window's run folders live. The runtime writes only inside this folder (its
 * `initialize` request names it), so the kernel and the runtime host must agree on it.
 */
import path from 'node:path';

/** The folder holding every experiment's runs for a workspace folder: the setting, relative to the folder, or `.aexp/runs`. */
export function runsRootFor(folder: string, runsFolderSetting: string | undefined): string {
  return runsFolderSetting ? path.resolve(folder, runsFolderSetting) : path.join(folder, '.aexp', 'runs');
}
