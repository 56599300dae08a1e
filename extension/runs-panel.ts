/**
 * The Runs panel, host side: one webview panel listing every run under the runs folders, with the
 * selected runs' curves and reconstructions, and the actions on a run. It comes back after a window
 * reload (a WebviewPanelSerializer; the page keeps its selection with setState). It reads run
 * folders only in a trusted workspace, and acts only on runs it listed (parsePageMessage).
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import * as vscode from 'vscode';
import { RUN_FILES } from '../runtime/run-folder';
import type { ViewInputs } from '../runtime/views-data';
import { readViewEpochAsync, readViewInputsAsync, viewEpochsAsync } from '../runtime/views-data';
import { TrainingChart } from './chart-output';
import { parseMetricsHistory } from './restore';
import { continueRefusal, differingKeys, listRuns, parsePageMessage, runsCsv, sweepGroups } from './runs-index';
import type { HostMessage, RunAction, RunRow, RunsPanelState, RunViews } from './runs-panel-protocol';
import { pageHtml, webviewOptions } from './webview-page';

export const RUNS_VIEW_TYPE = 'latentLab.runs';
/** Reconstructions shown per run: the first of the fixed test examples. */
const VIEW_IMAGES = 8;
/** How often a selected running run's metrics.jsonl is looked at (a stat; read only when it grew). */
const LIVE_POLL_MS = 1000;
/** File events come in bursts (a run writes several files at once): the table is read again once they settle. */
const REFRESH_SETTLE_MS = 300;

export interface RunsPanelHost {
  /** The runs folders to list (the workspace folders' runs folders). */
  roots(): string[];
  /** Shows a run folder the way Open Run Folder does. */
  reveal(folder: vscode.Uri): Promise<unknown>;
  /** Asks before something that cannot be taken back; true when the person chose `action`. */
  confirm(message: string, detail: string, action: string): Thenable<boolean>;
  /** Where the table's CSV goes; undefined when the person cancelled. */
  chooseCsvFile(): Thenable<vscode.Uri | undefined>;
}

/** A save dialog, starting at `runs.csv` in the first workspace folder. */
export function chooseCsvFileByDialog(): Thenable<vscode.Uri | undefined> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  return vscode.window.showSaveDialog({ title: 'Export the runs table as CSV', filters: { CSV: ['csv'] }, ...(folder ? { defaultUri: vscode.Uri.joinPath(folder, 'runs.csv') } : {}) });
}

/** A modal dialog: the person must answer before going on. */
export async function confirmModal(message: string, detail: string, action: string): Promise<boolean> {
  return (await vscode.window.showWarningMessage(message, { modal: true, detail }, action)) === action;
}

function base64(pixels: Uint8Array): string {
  return Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength).toString('base64');
}

function sameExamples(a: ViewInputs, b: ViewInputs): boolean {
  return a.shape.join() === b.shape.join() && a.examples.length === b.examples.length && a.examples.every((example, index) => example === b.examples[index]);
}

/**
 * A delete to the trash that failed for want of a trash: VS Code's file service refuses it where
 * the provider has none ("… via trash because provider does not support it"; code-server's and
 * remote windows' files), and a desktop's trash can fail on a network drive. Either way the person
 * is asked again, told that it is permanent.
 */
function isTrashUnsupported(error: unknown): boolean {
  return error instanceof Error && /trash/i.test(error.message);
}

/** A run's experiment as it is now, else the snapshot the run kept of it (shown as text: running it there would train into the run folder). */
export async function openRunExperiment(row: Pick<RunRow, 'runDir' | 'sourceFile'>): Promise<void> {
  if (row.sourceFile && existsSync(row.sourceFile)) await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(row.sourceFile), 'latent-lab');
  else await vscode.window.showTextDocument(vscode.Uri.joinPath(vscode.Uri.file(row.runDir), RUN_FILES.experiment), { preview: true });
}

/** The page's state as the serializer hands it back, if it has the shape the page keeps. */
function restoredState(state: unknown): RunsPanelState | undefined {
  if (typeof state !== 'object' || state === null) return undefined;
  const selected = (state as { selected?: unknown }).selected;
  return Array.isArray(selected) && selected.every((run) => typeof run === 'string') ? (state as RunsPanelState) : undefined;
}

/** One panel and everything it watches; disposed with the panel. */
class RunsPanel implements vscode.Disposable {
  private readonly store: vscode.Disposable[] = [];
  private rows = new Map<string, RunRow>();
  private selected: string[] = [];
  private viewsEpoch: number | undefined;
  private ready = false;
  private refreshTimer: NodeJS.Timeout | undefined;
  private readonly livePoll: NodeJS.Timeout;
  /** metrics.jsonl's size and time as last sent, per selected run. */
  private readonly sent = new Map<string, string>();
  private listing: Promise<void> = Promise.resolve();
  readonly disposed: Promise<void>;

  constructor(readonly panel: vscode.WebviewPanel, bundle: vscode.Uri, private readonly host: RunsPanelHost, state?: RunsPanelState) {
    panel.webview.options = webviewOptions(bundle);
    // A restored panel's state goes in too, for a page whose webview kept none.
    panel.webview.html = pageHtml({ title: 'Runs', rootId: 'runs-root', script: panel.webview.asWebviewUri(vscode.Uri.joinPath(bundle, 'runs.js')).toString(), cspSource: panel.webview.cspSource, ...(state ? { data: { state: JSON.stringify(state) } } : {}) });
    this.store.push(panel.webview.onDidReceiveMessage((value) => this.receive(value)));
    this.store.push(vscode.workspace.onDidGrantWorkspaceTrust(() => {
      this.watch();
      void this.refresh();
    }));
    // A hidden panel's page is discarded: it says `ready` again when shown, and gets nothing before.
    this.store.push(panel.onDidChangeViewState(() => {
      if (!panel.visible) this.ready = false;
    }));
    this.store.push(vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('latentLab.runsFolder') || event.affectsConfiguration('latentLab.moreRunsFolders')) {
        this.watch();
        void this.refresh();
      }
    }));
    this.watch();
    this.livePoll = setInterval(() => void this.pollLive(), LIVE_POLL_MS);
    this.disposed = new Promise((resolve) => this.store.push(panel.onDidDispose(() => {
      this.dispose();
      resolve();
    })));
  }

  private watchers: vscode.FileSystemWatcher[] = [];

  /** Runs appearing, ending or being deleted under the runs folders read the table again. */
  private watch(): void {
    for (const watcher of this.watchers) watcher.dispose();
    if (!vscode.workspace.isTrusted) return;
    this.watchers = this.host.roots().map((root) => vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(root), `**/{${RUN_FILES.config},${RUN_FILES.summary},lock.json,sweep.json}`)));
    for (const watcher of this.watchers) {
      const later = () => this.refreshSoon();
      watcher.onDidCreate(later);
      watcher.onDidChange(later);
      watcher.onDidDelete(later);
    }
  }

  private refreshSoon(): void {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => void this.refresh(), REFRESH_SETTLE_MS);
  }

  private post(message: HostMessage): void {
    if (this.ready) void this.panel.webview.postMessage(message);
  }

  /** Reads the table again and sends it; listings never overlap (the newest waits for the one before). */
  refresh(): Promise<void> {
    this.listing = this.listing.then(async () => {
      if (!vscode.workspace.isTrusted) {
        this.rows.clear();
        this.post({ type: 'untrusted', message: 'This workspace is not trusted, so the Runs panel reads none of its run folders: a repository\'s run folders are its own files, and trusting the folder (Manage Workspace Trust) lists them.' });
        return;
      }
      const roots = this.host.roots();
      const rows = await listRuns(roots);
      this.rows = new Map(rows.map((row) => [row.runDir, row]));
      const sweeps = await sweepGroups(rows);
      const problems = [...rows, ...sweeps].flatMap((entry) => (entry.problem ? [entry.problem] : []));
      this.post({ type: 'runs', rows, roots, problems, sweeps });
      const before = this.selected;
      this.selected = this.selected.filter((run) => this.rows.has(run));
      if (before.length !== this.selected.length) await this.sendSelection();
      else this.sendColumns();
    }).catch((error: Error) => this.post({ type: 'notice', message: `The runs could not be listed: ${error.message}` }));
    return this.listing;
  }

  private async receive(value: unknown): Promise<void> {
    const message = parsePageMessage(value, new Set(this.rows.keys()));
    if (!message) return;
    switch (message.type) {
      case 'ready':
        this.ready = true;
        this.sent.clear();
        await this.refresh();
        return;
      case 'refresh':
        return this.refresh();
      case 'select':
        this.selected = message.runs;
        // The page drops the curves of runs it no longer shows: one selected again is sent again.
        for (const run of [...this.sent.keys()]) if (!this.selected.includes(run)) this.sent.delete(run);
        return this.sendSelection();
      case 'viewsEpoch':
        this.viewsEpoch = message.epoch;
        return this.sendViews();
      case 'action':
        return this.act(message.action, this.rows.get(message.run)!).catch((error: Error) => {
          void vscode.window.showErrorMessage(`Latent Lab: ${error.message}`);
        });
      case 'exportCsv':
        return this.exportCsv(message.runs, message.keys);
    }
  }

  /** The config columns: the keys that differ between the selected runs, or between every run while fewer than two are selected. */
  private sendColumns(): void {
    const selected = this.selected.map((run) => this.rows.get(run)!);
    this.post({ type: 'columns', keys: differingKeys(selected.length >= 2 ? selected : [...this.rows.values()]) });
  }

  private async sendSelection(): Promise<void> {
    this.sendColumns();
    for (const run of this.selected) await this.sendCurve(run);
    await this.sendViews();
  }

  /** A run's whole curve, when its metrics.jsonl changed since it was last sent. */
  private async sendCurve(run: string): Promise<void> {
    const file = path.join(run, RUN_FILES.metrics);
    const info = await stat(file).catch(() => undefined);
    const stamp = info ? `${info.size}:${info.mtimeMs}` : 'none';
    if (this.sent.get(run) === stamp) return;
    this.sent.set(run, stamp);
    const text = await readFile(file, 'utf8').catch(() => '');
    const live = this.rows.get(run)?.status === 'running';
    this.post({ type: 'curve', run, snapshot: new TrainingChart(run, parseMetricsHistory(text), live).snapshot() });
  }

  /** The selected running runs' curves follow their metrics.jsonl; a new epoch brings its reconstructions. */
  private async pollLive(): Promise<void> {
    if (!this.ready || !this.panel.visible) return;
    const running = this.selected.filter((run) => this.rows.get(run)?.status === 'running');
    if (running.length === 0) return;
    for (const run of running) await this.sendCurve(run);
    if (this.viewsEpoch === undefined) await this.sendViews();
  }

  /** The selected runs' reconstructions at one epoch they all have: on the same test images when their data split is the same. */
  private async sendViews(): Promise<void> {
    const notes: string[] = [];
    const found: { run: string; inputs: ViewInputs; epochs: number[] }[] = [];
    for (const run of this.selected) {
      try {
        const inputs = await readViewInputsAsync(run);
        if (!inputs) {
          notes.push(`${path.basename(path.dirname(run))}/${path.basename(run)} has no views/ (written before run folders kept them)`);
          continue;
        }
        found.push({ run, inputs, epochs: await viewEpochsAsync(run) });
      } catch (error) {
        notes.push((error as Error).message);
      }
    }
    const epochs = found.length === 0 ? [] : found.map((entry) => entry.epochs).reduce((common, list) => common.filter((epoch) => list.includes(epoch)));
    const epoch = this.viewsEpoch !== undefined && epochs.includes(this.viewsEpoch) ? this.viewsEpoch : epochs.at(-1);
    if (found.length > 0 && epoch === undefined) notes.push('the selected runs have no epoch in common yet');
    const shared = found.length > 0 && found.every((entry) => sameExamples(entry.inputs, found[0].inputs));
    if (found.length > 1 && !shared) notes.push('these runs were tested on different images (their data splits differ): each shows its own inputs');
    const runs: RunViews[] = [];
    if (epoch !== undefined) {
      for (const { run, inputs } of found) {
        try {
          const view = await readViewEpochAsync(run, epoch, inputs);
          if (!view) continue;
          const count = Math.min(VIEW_IMAGES, inputs.examples.length);
          const bytes = inputs.shape[0] * inputs.shape[1] * inputs.shape[2] * count;
          runs.push({ run, epoch, count, shape: inputs.shape, reconstructions: base64(view.reconstructions.subarray(0, bytes)), ...(shared ? {} : { inputs: base64(inputs.inputs.subarray(0, bytes)) }) });
        } catch (error) {
          notes.push((error as Error).message);
        }
      }
    }
    const first = found[0]?.inputs;
    const sharedCount = first ? Math.min(VIEW_IMAGES, first.examples.length) : 0;
    this.post({
      type: 'views', epoch, epochs, runs, notes,
      ...(shared && first ? { sharedInputs: base64(first.inputs.subarray(0, first.shape[0] * first.shape[1] * first.shape[2] * sharedCount)), shape: first.shape } : {}),
    });
  }

  private async act(action: RunAction, row: RunRow): Promise<void> {
    const folder = vscode.Uri.file(row.runDir);
    switch (action) {
      case 'openFolder':
        await this.host.reveal(folder);
        return;
      case 'openExperiment':
        await openRunExperiment(row);
        return;
      case 'continue': {
        const refusal = continueRefusal(row, [...this.rows.values()], existsSync);
        if (refusal) {
          void vscode.window.showInformationMessage(`Latent Lab: ${refusal}`);
          return;
        }
        const notebookUri = vscode.Uri.file(row.sourceFile!);
        await vscode.commands.executeCommand('vscode.openWith', notebookUri, 'latent-lab');
        await vscode.commands.executeCommand('latentLab.continueTraining', { notebookEditor: { notebookUri } });
        return;
      }
      case 'delete':
        await this.delete(row);
        return;
    }
  }

  /** To the trash where the file system has one; otherwise only after a modal confirmation that it is permanent. */
  private async delete(row: RunRow): Promise<void> {
    if (row.status === 'running') {
      void vscode.window.showWarningMessage('Latent Lab: this run is training now; stop it before deleting it.');
      return;
    }
    const name = `${row.experiment}/${path.basename(row.runDir)}`;
    const folder = vscode.Uri.file(row.runDir);
    if (!(await this.host.confirm(`Move the run ${name} to the trash?`, row.runDir, 'Move to Trash'))) return;
    try {
      await vscode.workspace.fs.delete(folder, { recursive: true, useTrash: true });
    } catch (error) {
      if (!isTrashUnsupported(error)) throw error;
      if (!(await this.host.confirm(`This file system has no trash: delete the run ${name} permanently? It cannot be undone.`, row.runDir, 'Delete Permanently'))) return;
      await vscode.workspace.fs.delete(folder, { recursive: true, useTrash: false });
    }
    this.selected = this.selected.filter((run) => run !== row.runDir);
    await this.refresh();
  }

  private async exportCsv(runs: string[], keys: string[]): Promise<void> {
    const rows = runs.map((run) => this.rows.get(run)!).filter(Boolean);
    const target = await this.host.chooseCsvFile();
    if (!target) return;
    await vscode.workspace.fs.writeFile(target, Buffer.from(runsCsv(rows, keys)));
    void vscode.window.showInformationMessage(`Latent Lab: ${rows.length} runs written to ${target.fsPath}`);
  }

  /** For tests: the runs listed and selected as the host sees them. */
  get state(): { listed: string[]; selected: string[] } {
    return { listed: [...this.rows.keys()], selected: this.selected.slice() };
  }

  dispose(): void {
    clearInterval(this.livePoll);
    clearTimeout(this.refreshTimer);
    for (const watcher of this.watchers) watcher.dispose();
    for (const disposable of this.store.splice(0)) disposable.dispose();
  }
}

/** Owns the one Runs panel: opens it, brings it back after a reload, and disposes it. */
export class RunsPanels implements vscode.Disposable, vscode.WebviewPanelSerializer {
  private current: RunsPanel | undefined;
  private readonly registration: vscode.Disposable;
  private readonly host: RunsPanelHost;
  /**
   * How a delete is confirmed (a modal dialog) and where a CSV goes (a save dialog). Tests answer
   * here instead, since VS Code refuses every dialog while extension tests run.
   */
  confirm: RunsPanelHost['confirm'] = confirmModal;
  chooseCsvFile: RunsPanelHost['chooseCsvFile'] = chooseCsvFileByDialog;

  constructor(private readonly extensionUri: vscode.Uri, host: Omit<RunsPanelHost, 'confirm' | 'chooseCsvFile'>) {
    this.host = { ...host, confirm: (message, detail, action) => this.confirm(message, detail, action), chooseCsvFile: () => this.chooseCsvFile() };
    this.registration = vscode.window.registerWebviewPanelSerializer(RUNS_VIEW_TYPE, this);
  }

  private get bundle(): vscode.Uri {
    return vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview');
  }

  show(): RunsPanel {
    if (this.current) {
      this.current.panel.reveal();
      // Asked for again, it reads the runs folders again: a watcher can miss a folder written meanwhile.
      void this.current.refresh();
      return this.current;
    }
    const panel = vscode.window.createWebviewPanel(RUNS_VIEW_TYPE, 'Runs', vscode.ViewColumn.Active, webviewOptions(this.bundle));
    return this.adopt(panel);
  }

  /** After a window reload: the panel VS Code kept, with the state its page last saved (selection, sort, filters, chart settings). */
  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    this.current?.panel.dispose();
    this.adopt(panel, restoredState(state));
  }

  private adopt(panel: vscode.WebviewPanel, state?: RunsPanelState): RunsPanel {
    const created = new RunsPanel(panel, this.bundle, this.host, state);
    this.current = created;
    void created.disposed.then(() => {
      if (this.current === created) this.current = undefined;
    });
    return created;
  }

  /** For tests. */
  get panel(): RunsPanel | undefined {
    return this.current;
  }

  dispose(): void {
    this.current?.panel.dispose();
    this.registration.dispose();
  }
}
