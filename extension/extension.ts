/**
 * Latent Lab's extension host side. Activation only registers things: the runtime process starts
 * on the first run, never here.
 */
import path from 'node:path';
import * as vscode from 'vscode';
import { BACKENDS } from '../runtime/backends/names';
import type { RunOverrides } from '../runtime/protocol';
import { CELL_KINDS } from '../runtime/format/document';
import type { CellKind } from '../runtime/format/document';
import { FRONT_MATTER, withKind } from './cells';
import { AexpController, notebookFromCommandArgument } from './kernel';
import type { RuntimeHost, RuntimePlace } from './kernel';
import { datasetCacheFolder } from './datasetChoices';
import { AexpDiagnostics } from './diagnostics';
import type { ExperimentArguments } from './experiments';
import { EXPLORER_VIEW_ID, exploreRefusal, ExplorerView } from './explorer';
import { ExplorerCache } from './explorer-cache';
import { ExplorerRuntime } from './explorer-runtime';
import { newExperiment, trainVae } from './experiments';
import { registerLanguageFeatures } from './language';
import { installedNativeFolder, installNativeBackend } from './native';
import { epochCount } from './run-text';
import { RuntimeProcess } from './runtimeProcess';
import { RunFolderMenu } from './run-folder-menu';
import { openRunExperiment, RunsPanels } from './runs-panel';
import { readRunRow, runFolderAt } from './runs-index';
import { runsRootFor, viewedRunsRoots } from './runs-root';
import { AexpSerializer, layoutOf, NOTEBOOK_TYPE } from './serializer';

export interface LatentLabApi {
  /** For tests: the runtime's process id, if one is running. */
  runtimePid(): number | undefined;
  /** For tests: the running runtime's backend and device. */
  runtimeBackend(): string | undefined;
  /** For tests: the settings as the extension reads them (restricted ones lose their workspace values in an untrusted workspace). */
  settings(): Settings;
  /** For tests: the dataset cache folder the runtime will read. */
  datasetCacheFolder(): string;
  diagnostics: AexpDiagnostics;
  controller: AexpController;
  /** For tests: the Runs panel's owner. */
  runs: RunsPanels;
  /** For tests: the Latent Explorer's owner. */
  explorer: ExplorerView;
  /** For tests: the run folders the Explorer's menu offers Explore Latent Space on. */
  runFolderMenu: RunFolderMenu;
  /** For tests: the explorer's own runtime's process id, if one is running. */
  explorerRuntimePid(): number | undefined;
  activationMs: number;
}

export type Settings = ReturnType<typeof settings>;

/**
 * `datasetCacheFolder`, `runsFolder` and `moreRunsFolders` name folders, so package.json lists them under
 * `restrictedConfigurations`: in an untrusted workspace `get` ignores the workspace's values.
 */
function settings() {
  const config = vscode.workspace.getConfiguration('latentLab');
  return {
    backend: config.get<RunOverrides['backend']>('backend', 'auto'),
    dataDir: config.get<string>('datasetCacheFolder') || undefined,
    runsFolder: config.get<string>('runsFolder') || undefined,
    moreRunsFolders: config.get<unknown[]>('moreRunsFolders', []).filter((entry): entry is string => typeof entry === 'string'),
    interval: config.get<number>('outputUpdateInterval', 250),
    resumeInterruptedRuns: config.get<boolean>('resumeInterruptedRuns', true),
    nativeThreads: config.get<number>('nativeThreads', 0),
  };
}

class Host implements RuntimeHost, vscode.Disposable {
  private current: { process: RuntimeProcess; ready: Promise<RuntimeProcess>; runsRoot: string } | undefined;
  private readonly backendEmitter = new vscode.EventEmitter<string | undefined>();
  readonly onBackend = this.backendEmitter.event;
  /** The running runtime's backend and device, as the status bar shows them. */
  backend: string | undefined;

  /** Whether a run is going: the runtime is not restarted for another runs folder under it. */
  busy: () => boolean = () => false;

  constructor(private readonly serverScript: string, readonly log: vscode.LogOutputChannel, private readonly nativeFolder: () => string | undefined) {}

  /** Where runs go when no notebook names its folder yet (a cancel, or the first start). */
  private defaultPlace(): RuntimePlace {
    // Without a workspace folder, runs go beside the notebook that is open.
    const notebook = vscode.window.activeNotebookEditor?.notebook.uri;
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? (notebook?.scheme === 'file' ? path.dirname(notebook.fsPath) : process.cwd());
    return { folder, runsRoot: runsRootFor(folder, settings().runsFolder) };
  }

  runtime(place?: RuntimePlace): Promise<RuntimeProcess> {
    const runsRoot = place?.runsRoot;
    if (this.current && !this.current.process.exited) {
      if (runsRoot === undefined || runsRoot === this.current.runsRoot) return this.current.ready;
      // The runtime writes only inside the runs folder it was started with (a notebook of another
      // workspace folder, or a changed latentLab.runsFolder): an idle one starts again with the new one.
      if (this.busy()) return Promise.reject(new Error(`the runtime is training into ${this.current.runsRoot}; run this notebook, whose runs go to ${runsRoot}, when that run has ended`));
    }
    this.current?.process.dispose();
    // Relative settings (the dataset folder) resolve against the runtime's folder: the workspace folder.
    const { folder, runsRoot: root } = place ?? this.defaultPlace();
    const runtimeProcess = new RuntimeProcess(this.serverScript, { cwd: folder, env: this.runtimeEnvironment() }, this.log);
    runtimeProcess.onExit(() => {
      this.backend = undefined;
      this.backendEmitter.fire(undefined);
    });
    const { backend, dataDir } = settings();
    const ready = runtimeProcess.request({ type: 'initialize', backend, runsRoot: root, ...(dataDir ? { dataDir } : {}) }).then((info) => {
      this.log.info(`backend ${info.backend} · ${info.device}`);
      this.backend = `${info.backend} · ${info.device}`;
      this.backendEmitter.fire(this.backend);
      return runtimeProcess;
    }, (error: Error) => {
      runtimeProcess.dispose();
      throw error;
    });
    this.current = { process: runtimeProcess, ready, runsRoot: root };
    return ready;
  }

  /** What the runtime reads from its environment: the update interval, tfjs-node's folder, the native thread count. */
  private runtimeEnvironment(): NodeJS.ProcessEnv {
    const { interval, nativeThreads } = settings();
    const nativeFolder = this.nativeFolder();
    return {
      AEXP_PROGRESS_INTERVAL_MS: String(interval),
      ...(nativeFolder ? { AEXP_TFJS_NODE_PATH: nativeFolder } : {}),
      ...(nativeThreads > 0 ? { AEXP_NATIVE_THREADS: String(nativeThreads) } : {}),
    };
  }

  get pid(): number | undefined {
    return this.current && !this.current.process.exited ? this.current.process.pid : undefined;
  }

  restart(): void {
    this.current?.process.dispose();
    this.current = undefined;
    this.backendEmitter.fire(undefined);
  }

  dispose(): void {
    this.current?.process.dispose();
    this.backendEmitter.dispose();
  }
}

function activeNotebook(): vscode.NotebookDocument | undefined {
  const notebook = vscode.window.activeNotebookEditor?.notebook;
  return notebook?.notebookType === NOTEBOOK_TYPE ? notebook : undefined;
}

/**
 * Shows a run folder: in the system's file manager where the editor runs on the desktop with the
 * files, else (a browser, code-server, a remote window, where `revealFileInOS` is missing or would
 * look on the wrong machine) in the Explorer, or by its path when it lies outside the workspace.
 * Answers which, for tests.
 */
async function revealRunFolder(folder: vscode.Uri): Promise<'os' | 'explorer' | 'message'> {
  const desktop = vscode.env.uiKind === vscode.UIKind.Desktop && vscode.env.remoteName === undefined;
  if (desktop && (await vscode.commands.getCommands(true)).includes('revealFileInOS')) {
    await vscode.commands.executeCommand('revealFileInOS', folder);
    return 'os';
  }
  if (vscode.workspace.getWorkspaceFolder(folder)) {
    await vscode.commands.executeCommand('revealInExplorer', folder);
    return 'explorer';
  }
  void vscode.window.showInformationMessage(`Latent Lab: the run folder is ${folder.fsPath}`);
  return 'message';
}

export function activate(context: vscode.ExtensionContext): LatentLabApi {
  const started = performance.now();
  const log = vscode.window.createOutputChannel('Latent Lab Runtime', { log: true });
  context.subscriptions.push(log);
  const host = new Host(context.asAbsolutePath(path.join('dist', 'runtime', 'server.js')), log, () => installedNativeFolder(context));
  context.subscriptions.push(host);
  const controller = new AexpController(host, settings);
  host.busy = () => controller.isRunning;
  context.subscriptions.push(controller);
  const diagnostics = new AexpDiagnostics();
  context.subscriptions.push(diagnostics, registerLanguageFeatures());
  context.subscriptions.push(vscode.workspace.registerNotebookSerializer(NOTEBOOK_TYPE, new AexpSerializer(), { transientOutputs: true }));

  // The status bar: backend and device when idle, epoch, loss and ETA while training.
  const status = vscode.window.createStatusBarItem('latentLab.status', vscode.StatusBarAlignment.Left, 50);
  status.name = 'Latent Lab';
  status.command = 'latentLab.revealRunningCell';
  let backendText: string | undefined;
  let running: { notebook: vscode.NotebookDocument; cell?: vscode.NotebookCell } | undefined;
  const showIdle = () => {
    status.text = backendText ? `$(circuit-board) ${backendText.split(' · ')[0]}` : '$(circuit-board) Latent Lab';
    status.tooltip = backendText ? `Latent Lab runtime: ${backendText}` : 'Latent Lab: the runtime starts when a cell runs';
  };
  showIdle();
  context.subscriptions.push(status, host.onBackend((text) => {
    backendText = text;
    if (!running) showIdle();
  }), controller.onStatus((update) => {
    running = update;
    if (!update) showIdle();
    else {
      status.text = `$(sync~spin) ${update.text}`;
      status.tooltip = `Latent Lab is training ${path.basename(update.notebook.uri.fsPath)} on ${backendText ?? 'the runtime'}: click to show the cell`;
    }
  }));
  const updateVisibility = () => {
    if (activeNotebook() || controller.isRunning) status.show();
    else status.hide();
  };
  updateVisibility();
  context.subscriptions.push(vscode.window.onDidChangeActiveNotebookEditor(updateVisibility), controller.onStatus(updateVisibility));

  // Each code cell says what kind it is; clicking changes the kind.
  context.subscriptions.push(vscode.notebooks.registerNotebookCellStatusBarItemProvider(NOTEBOOK_TYPE, {
    provideCellStatusBarItems(cell) {
      const kind = layoutOf(cell)?.kind;
      if (cell.kind !== vscode.NotebookCellKind.Code || !kind) return [];
      if (kind === FRONT_MATTER) return [new vscode.NotebookCellStatusBarItem('front matter', vscode.NotebookCellStatusBarAlignment.Left)];
      const item = new vscode.NotebookCellStatusBarItem(`$(symbol-class) ${kind} cell`, vscode.NotebookCellStatusBarAlignment.Left);
      item.command = { title: 'Change Cell Kind', command: 'latentLab.changeCellKind', arguments: [cell] };
      item.tooltip = 'The kind of this cell (the word after the opening ``` in the file): click to change it';
      return [item];
    },
  }));

  const register = (command: string, callback: (...args: never[]) => unknown) => context.subscriptions.push(vscode.commands.registerCommand(command, callback));
  register('latentLab.changeCellKind', async (cell?: vscode.NotebookCell, kind?: CellKind) => {
    const target = cell ?? vscode.window.activeNotebookEditor?.notebook.cellAt(vscode.window.activeNotebookEditor.selection.start);
    const layout = target && layoutOf(target);
    if (!target || !layout || layout.kind === FRONT_MATTER) return;
    const chosen = kind ?? await vscode.window.showQuickPick(CELL_KINDS.map((candidate) => ({ label: candidate, picked: candidate === layout.kind })), { title: 'Cell kind' }).then((pick) => pick?.label as CellKind | undefined);
    if (!chosen) return;
    const edit = new vscode.WorkspaceEdit();
    edit.set(target.notebook.uri, [vscode.NotebookEdit.updateCellMetadata(target.index, { ...target.metadata, aexp: withKind(layout, chosen) })]);
    await vscode.workspace.applyEdit(edit);
  });
  register('latentLab.stopTraining', () => controller.interrupt());
  register('latentLab.restartRuntime', () => {
    host.restart();
    void vscode.window.showInformationMessage('Latent Lab: the runtime will restart on the next run.');
  });
  register('latentLab.showRuntimeLog', () => log.show());
  register('latentLab.selectBackend', async () => {
    const current = settings().backend;
    const pick = await vscode.window.showQuickPick(BACKENDS.map((name) => ({ label: name, description: name === current ? 'current' : undefined })), { title: 'Training backend (takes effect when the runtime restarts)' });
    if (!pick) return;
    await vscode.workspace.getConfiguration('latentLab').update('backend', pick.label, vscode.ConfigurationTarget.Workspace);
    host.restart();
  });
  register('latentLab.openRunFolder', async () => {
    const notebook = activeNotebook();
    const runDir = notebook && controller.lastRunDir.get(notebook.uri.toString());
    if (!runDir) {
      void vscode.window.showInformationMessage('Latent Lab: this notebook has no run folder yet. Run its train cell first.');
      return undefined;
    }
    return revealRunFolder(vscode.Uri.file(runDir));
  });
  register('latentLab.continueTraining', async (first?: unknown, second?: unknown) => {
    // The notebook toolbar passes its context ({ notebookEditor: { notebookUri }, … }) first, the
    // palette nothing; a number of epochs is taken only where one is given.
    const notebook = notebookFromCommandArgument(first) ?? activeNotebook();
    if (!notebook) return;
    try {
      const plan = await controller.continuationPlan(notebook);
      const given = epochCount(first) ?? epochCount(second);
      const count = given ?? epochCount(Number(await vscode.window.showInputBox({
        title: `Continue training: how many more epochs? (${plan.done} of ${plan.target} done)`,
        value: String(plan.more),
        validateInput: (value) => (epochCount(Number(value)) ? undefined : 'a positive whole number'),
      })));
      if (!count) return;
      await controller.continueTraining(notebook, count);
    } catch (error) {
      void vscode.window.showWarningMessage(`Latent Lab: ${(error as Error).message}`);
    }
  });
  const datasetFolder = () => datasetCacheFolder(settings().dataDir, vscode.workspace.workspaceFolders?.[0]?.uri.fsPath);
  register('latentLab.trainVae', (args?: ExperimentArguments) => trainVae(args ?? {}, datasetFolder(), (notebook) => controller.run(notebook.getCells(), notebook)));
  register('latentLab.newExperiment', (args?: ExperimentArguments) => newExperiment(args ?? {}, datasetFolder()));
  register('latentLab.installNativeBackend', () => installNativeBackend(context, () => host.restart()));
  register('latentLab.trainAgain', async () => {
    const notebook = activeNotebook();
    if (notebook) await controller.run(notebook.getCells(), notebook, { retrain: true });
  });
  register('latentLab.revealRunningCell', async () => {
    if (!running?.cell) return log.show();
    const editor = await vscode.window.showNotebookDocument(running.notebook);
    editor.revealRange(new vscode.NotebookRange(running.cell.index, running.cell.index + 1), vscode.NotebookEditorRevealType.InCenterIfOutsideViewport);
  });

  // The runs folders the Runs panel and the explorer list, and the only ones the explorer's runtime opens.
  const runsRoots = () => viewedRunsRoots((vscode.workspace.workspaceFolders ?? []).map((folder) => folder.uri.fsPath), settings().runsFolder, settings().moreRunsFolders);
  const runs = new RunsPanels(context.extensionUri, { roots: runsRoots, reveal: revealRunFolder });
  context.subscriptions.push(runs);
  register('latentLab.showRuns', () => void runs.show());
  // The activity bar's Runs view is its welcome text alone (a button that opens the panel): it lists nothing itself.
  context.subscriptions.push(vscode.window.registerTreeDataProvider('latentLab.runsHome', { getTreeItem: (item: vscode.TreeItem) => item, getChildren: () => [] }));

  const explorerRuntime = new ExplorerRuntime(context.asAbsolutePath(path.join('dist', 'runtime', 'server.js')), log, () => {
    const notebook = vscode.window.activeNotebookEditor?.notebook.uri;
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? (notebook?.scheme === 'file' ? path.dirname(notebook.fsPath) : process.cwd());
    const { dataDir } = settings();
    return { folder, roots: runsRoots(), ...(dataDir ? { dataDir } : {}) };
  });
  context.subscriptions.push(explorerRuntime);
  const currentRun = () => {
    const notebook = activeNotebook();
    return notebook && controller.lastRunDir.get(notebook.uri.toString());
  };
  const explorer = new ExplorerView(vscode.Uri.joinPath(context.extensionUri, 'dist', 'webview'), { roots: runsRoots, runtime: () => explorerRuntime.runtime(), release: () => explorerRuntime.stop(), cache: new ExplorerCache(path.join((context.storageUri ?? context.globalStorageUri).fsPath, 'explorer')), currentRun, onCurrentRunChange: (listener) => vscode.Disposable.from(vscode.window.onDidChangeActiveNotebookEditor(listener), controller.onStatus(listener)) });
  context.subscriptions.push(explorer, vscode.window.registerWebviewViewProvider(EXPLORER_VIEW_ID, explorer));
  const runFolderMenu = new RunFolderMenu(runsRoots);
  // The watchers miss events while they start, and on a busy machine for longer: the runs trained here are not left to them.
  context.subscriptions.push(runFolderMenu, controller.onStatus(() => runFolderMenu.runChanged()));
  // The Explorer's menu passes the run folder clicked; the notebook toolbar its context; the palette nothing (the notebook's run).
  register('latentLab.exploreLatentSpace', async (target?: unknown) => {
    if (!(target instanceof vscode.Uri)) return explorer.show(currentRun());
    // An untrusted workspace's folder is not looked at: the view says why it shows nothing.
    if (!vscode.workspace.isTrusted) return explorer.show();
    const refusal = await exploreRefusal(target.fsPath, runsRoots());
    if (refusal) {
      void vscode.window.showWarningMessage(`Latent Lab: ${refusal}`);
      return refusal;
    }
    return explorer.show(target.fsPath);
  });
  register('latentLab.openRunExperiment', async (target?: unknown) => {
    if (!(target instanceof vscode.Uri)) return undefined;
    // The run's config.json names the experiment's file: a workspace not trusted does not choose what opens.
    const run = vscode.workspace.isTrusted ? await runFolderAt(target.fsPath, runsRoots()) : 'this workspace is not trusted, so its run folders are not read: trust it (Manage Workspace Trust) to open a run\'s experiment.';
    if (typeof run === 'string') {
      void vscode.window.showWarningMessage(`Latent Lab: ${run}`);
      return run;
    }
    return openRunExperiment(await readRunRow(run.runDir, run.experiment));
  });

  return { runtimePid: () => host.pid, runtimeBackend: () => host.backend, settings, datasetCacheFolder: datasetFolder, diagnostics, controller, runs, explorer, runFolderMenu, explorerRuntimePid: () => explorerRuntime.pid, activationMs: performance.now() - started };
}

export function deactivate(): void {
  // Everything is owned by context.subscriptions.
}
