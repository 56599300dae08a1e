/**
 * The Explorer's menu on run folders: package.json shows Explore Latent Space on the folders this
 * lists in a context key, every folder under the runs folders that holds a run, kept up to date
 * as runs start and go. Before the extension is active (the key unset) the menu goes by the folder's
 * place and name alone (`.aexp/runs/…/<start time>`). In an untrusted workspace it lists nothing.
 */
import path from 'node:path';
import * as vscode from 'vscode';
import { isRunFolderName, RUN_FILES } from '../runtime/run-folder';
import { runFoldersHoldingRuns } from './runs-index';
import { isInside, watchedBase } from './runs-root';

/** The run folders, as an object whose keys are the paths a when clause's `resourcePath` takes for them. */
export const RUN_FOLDERS_KEY = 'latentLab.runFolders';
/** True once RUN_FOLDERS_KEY has been set: from then on the menu goes by the list alone. */
export const RUN_FOLDERS_KNOWN_KEY = 'latentLab.runFoldersKnown';
/** File events come in bursts (a run writes several files as it starts): the list is read once they settle. */
const SETTLE_MS = 300;
/** How long a file watcher may take to start reporting. */
const WATCHER_START_MS = 3000;

/**
 * The forms of `folder` a when clause compares: `resourcePath` is a file URI's fsPath in a local
 * window and the URI's path in a remote one (code-server, SSH), which differ on Windows.
 */
export function resourcePaths(folder: string): string[] {
  const uri = vscode.Uri.file(folder);
  return [...new Set([folder, uri.fsPath, uri.path])];
}

export class RunFolderMenu implements vscode.Disposable {
  private readonly store: vscode.Disposable[] = [];
  private watchers: vscode.FileSystemWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private rebase = false;
  private startTimer: NodeJS.Timeout | undefined;
  private listing: Promise<void> = Promise.resolve();
  /** For tests: the run folders the menu shows on. */
  folders: string[] = [];

  constructor(private readonly roots: () => string[]) {
    this.store.push(vscode.workspace.onDidGrantWorkspaceTrust(() => this.restart()));
    this.store.push(vscode.workspace.onDidChangeWorkspaceFolders(() => this.restart()));
    this.store.push(vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('latentLab.runsFolder') || event.affectsConfiguration('latentLab.moreRunsFolders')) this.restart();
    }));
    this.restart();
  }

  private restart(): void {
    for (const watcher of this.watchers.splice(0)) watcher.dispose();
    if (vscode.workspace.isTrusted) {
      const roots = this.roots();
      // A watcher on a folder that does not exist yet never fires, and one on a parent is not told
      // of what is made inside a folder made at once (`mkdir -p .aexp/runs/x/y` reports `.aexp`
      // alone): a runs folder the first run makes is watched from its nearest existing parent until
      // then, and from itself after.
      const workspaceFolders = (vscode.workspace.workspaceFolders ?? []).map((folder) => folder.uri.fsPath);
      const bases = [...new Set(roots.flatMap((root) => watchedBase(root, workspaceFolders) ?? []))];
      this.watchers = bases.map((base) => vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(base), '**/*'), false, true, false));
      const changed = (uri: vscode.Uri) => {
        const file = uri.fsPath;
        if (roots.some((root) => isInside(root, file) && file !== root)) {
          // A run folder appearing or going (its name is its start time; a folder copied or deleted
          // whole comes as one event), and a run's config.json; not the files a training run writes.
          const name = path.basename(file);
          if (name === RUN_FILES.config || isRunFolderName(name)) this.soon(false);
        } else if (roots.some((root) => isInside(file, root) && !bases.includes(root))) this.soon(true);
      };
      for (const watcher of this.watchers) {
        watcher.onDidCreate(changed);
        watcher.onDidDelete(changed);
      }
      // A new watcher misses what happens while it starts (half a second and more on a busy
      // machine): the list is read again once it has started.
      clearTimeout(this.startTimer);
      this.startTimer = setTimeout(() => void this.refresh(), WATCHER_START_MS);
    }
    void this.refresh();
  }

  /** A run of this window started, went on or ended: its folder is listed once the news settles, whatever the file watchers saw. */
  runChanged(): void {
    this.soon(false);
  }

  /** Once the events settle: the list read again, or the watchers made again first where a runs folder came into being. */
  private soon(rebase: boolean): void {
    this.rebase ||= rebase;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      const again = this.rebase;
      this.rebase = false;
      if (again) this.restart();
      else void this.refresh();
    }, SETTLE_MS);
  }

  /** Lists the run folders again and sets the context key; listings never overlap. */
  refresh(): Promise<void> {
    this.listing = this.listing.then(async () => {
      const folders = vscode.workspace.isTrusted ? (await runFoldersHoldingRuns(this.roots())).map((run) => run.runDir) : [];
      await vscode.commands.executeCommand('setContext', RUN_FOLDERS_KEY, Object.fromEntries(folders.flatMap(resourcePaths).map((key) => [key, true])));
      await vscode.commands.executeCommand('setContext', RUN_FOLDERS_KNOWN_KEY, true);
      this.folders = folders;
    // A listing that failed leaves the menu as it was: the command refuses a folder that is no run anyway.
    }).catch(() => undefined);
    return this.listing;
  }

  dispose(): void {
    clearTimeout(this.timer);
    clearTimeout(this.startTimer);
    for (const disposable of [...this.watchers.splice(0), ...this.store.splice(0)]) disposable.dispose();
  }
}

