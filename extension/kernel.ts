/**
 * The notebook kernel: a NotebookController whose runs go to the runtime child process. It picks
 * the cells a run involves, sends the run request, hands the runtime's events to a RunView, and
 * owns each run's subscriptions in one store that is disposed when the run ends, however it ends.
 * Reopened notebooks get their newest run's outputs back (trusted workspaces only).
 */
import path from 'node:path';
import * as vscode from 'vscode';
import type { CellName, MetricsRecord, RunOverrides, RuntimeNotification } from '../runtime/protocol';
import { ANALYSIS_CELLS, CELL_KINDS } from '../runtime/cells';
import type { ChartHistory } from './chart-output';
import { CHART_RENDERER_ID, ChartChannel } from './chart-output';
import { DisposableStore, toDisposable } from './dispose';
import { IMAGES_RENDERER_ID, ImageChannel } from './image-output';
import { newestRunFolder, readRecordedRun } from './restore';
import type { ContinuationPlan } from './run-text';
import { continuationPlan } from './run-text';
import { RunView } from './run-view';
import { SweepCells } from './sweep-cell';
import type { RunStatus } from './run-view';
import type { RuntimeProcess } from './runtimeProcess';
import { runsRootFor } from './runs-root';
import { layoutOf, NOTEBOOK_TYPE, notebookText } from './serializer';

export type { RunStatus } from './run-view';

/** The folder a runtime runs in (its workspace folder) and the one folder it may write runs into. */
export interface RuntimePlace {
  folder: string;
  runsRoot: string;
}

export interface RuntimeHost {
  /**
   * The running runtime, started (and initialized) on first use. With a place, a runtime that may
   * write runs there: an idle runtime started for another runs folder is started again for this one.
   */
  runtime(place?: RuntimePlace): Promise<RuntimeProcess>;
  readonly log: vscode.LogOutputChannel;
}

function cellKind(cell: vscode.NotebookCell): CellName | undefined {
  if (cell.kind !== vscode.NotebookCellKind.Code) return undefined;
  const kind = layoutOf(cell)?.kind;
  // A sweep cell is run by `aexp sweep` (sweep-cell.ts), not by the runtime.
  return kind && kind !== 'sweep' && (CELL_KINDS as readonly string[]).includes(kind) ? (kind as CellName) : undefined;
}

function cellsByKind(notebook: vscode.NotebookDocument): Map<CellName, vscode.NotebookCell> {
  const byKind = new Map<CellName, vscode.NotebookCell>();
  for (const cell of notebook.getCells()) {
    const kind = cellKind(cell);
    if (kind && !byKind.has(kind)) byKind.set(kind, cell);
  }
  return byKind;
}

/** The model cell's `kind:` as written (what an image grid's rows are depends on it). */
function modelKindOf(cells: ReadonlyMap<CellName, vscode.NotebookCell>): string | undefined {
  return /^kind:\s*([\w-]+)/m.exec(cells.get('model')?.document.getText() ?? '')?.[1];
}

/**
 * The notebook a command was invoked for: the notebook toolbar passes its context
 * (`{ notebookEditor: { notebookUri }, … }`), a notebook argument passes itself; else undefined.
 */
export function notebookFromCommandArgument(argument: unknown): vscode.NotebookDocument | undefined {
  if (typeof argument !== 'object' || argument === null) return undefined;
  const documents = vscode.workspace.notebookDocuments;
  if (documents.includes(argument as vscode.NotebookDocument)) return argument as vscode.NotebookDocument;
  const uri = (argument as { notebookEditor?: { notebookUri?: unknown } }).notebookEditor?.notebookUri;
  if (typeof uri !== 'object' || uri === null) return undefined;
  const target = uri instanceof vscode.Uri ? uri : vscode.Uri.from(uri as vscode.Uri);
  return documents.find((notebook) => notebook.uri.toString() === target.toString());
}

export interface RunRequestOptions {
  /** Resume this run folder from its last checkpoint, to `epochs` in all (default: its own target). */
  continuation?: { resume: string; epochs?: number };
  /** Train from scratch even when a finished run with the same cells could be reused. */
  retrain?: boolean;
}

/** What reopening a notebook found in its newest run folder. */
export type Restored = 'nothing' | 'shown' | 'resumed';

export class AexpController implements vscode.Disposable {
  private readonly store = new DisposableStore();
  private readonly controller: vscode.NotebookController;
  private readonly runs = new Map<string, RunView>();
  private executionOrder = 0;
  private readonly statusEmitter = this.store.add(new vscode.EventEmitter<RunStatus | undefined>());
  readonly onStatus = this.statusEmitter.event;
  /** The last run folder of each notebook (by URI), for "Open Run Folder" and "Continue training". */
  readonly lastRunDir = new Map<string, string>();
  /** The milestones of the last run that ended (the log has them too). */
  lastTimeline: string[] = [];
  /** Notebooks (by URI) whose outputs were restored or produced since they opened. */
  private readonly restored = new Set<string>();
  /** Notebooks (by URI) a run was asked of since they opened: a restore still going writes nothing more. */
  private readonly runAsked = new Set<string>();
  /** The train cells' charts' messaging, one channel for every run. */
  private readonly charts: ChartChannel;
  /** The cells' image views' messaging, one channel for every run: a view answers until its cell shows another or its notebook closes. */
  private readonly images: ImageChannel;
  private readonly sweeps: SweepCells;

  constructor(private readonly host: RuntimeHost, private readonly settings: () => { backend: RunOverrides['backend']; dataDir?: string; runsFolder?: string; interval: number; resumeInterruptedRuns: boolean }) {
    this.controller = this.store.add(vscode.notebooks.createNotebookController('latent-lab-runtime', NOTEBOOK_TYPE, 'Latent Lab runtime'));
    this.controller.supportedLanguages = ['yaml'];
    this.controller.supportsExecutionOrder = true;
    this.controller.description = 'trains in a separate Node process';
    this.controller.executeHandler = (cells, notebook) => this.run(cells, notebook);
    this.controller.interruptHandler = (notebook) => this.interrupt(notebook);
    this.charts = this.store.add(new ChartChannel(vscode.notebooks.createRendererMessaging(CHART_RENDERER_ID), this.host.log));
    this.images = this.store.add(new ImageChannel(vscode.notebooks.createRendererMessaging(IMAGES_RENDERER_ID), this.host.log));
    this.sweeps = new SweepCells(this.controller, () => ({ backend: this.settings().backend, dataDir: this.settings().dataDir }), (notebook) => this.runsFolder(notebook), this.host.log, this.store);
    // Outputs come back when a notebook opens; the controller may be selected for it only later.
    const restoreSoon = (notebook: vscode.NotebookDocument) => {
      if (notebook.notebookType !== NOTEBOOK_TYPE) return;
      this.controller.updateNotebookAffinity(notebook, vscode.NotebookControllerAffinity.Preferred);
      void this.restore(notebook).catch((error: Error) => this.host.log.warn(`could not show the last outputs of ${notebook.uri.fsPath}: ${error.message}`));
    };
    this.store.add(vscode.workspace.onDidOpenNotebookDocument(restoreSoon));
    this.store.add(this.controller.onDidChangeSelectedNotebooks(({ notebook, selected }) => selected && restoreSoon(notebook)));
    this.store.add(vscode.workspace.onDidCloseNotebookDocument((notebook) => {
      this.restored.delete(notebook.uri.toString());
      this.runAsked.delete(notebook.uri.toString());
      this.images.forgetNotebook(notebook.uri.toString());
    }));
    this.store.add(vscode.workspace.onDidGrantWorkspaceTrust(() => vscode.workspace.notebookDocuments.forEach(restoreSoon)));
    for (const notebook of vscode.workspace.notebookDocuments) restoreSoon(notebook);
  }

  /** The folder that holds this notebook's run folders. */
  runsFolder(notebook: vscode.NotebookDocument): string {
    return path.join(this.place(notebook).runsRoot, path.basename(notebook.uri.fsPath).replace(/\.aexp$/i, ''));
  }

  /** The notebook's workspace folder (or its own folder, outside any) and that folder's runs folder. */
  private place(notebook: vscode.NotebookDocument): RuntimePlace {
    const folder = vscode.workspace.getWorkspaceFolder(notebook.uri)?.uri.fsPath ?? path.dirname(notebook.uri.fsPath);
    return { folder, runsRoot: runsRootFor(folder, this.settings().runsFolder) };
  }

  /**
   * Shows the newest run's outputs again in a notebook that has none. A run that stopped because
   * its runtime shut down (a window reload, a dropped remote connection) resumes from its
   * checkpoint, when `latentLab.resumeInterruptedRuns` allows it.
   */
  async restore(notebook: vscode.NotebookDocument): Promise<Restored> {
    // In an untrusted workspace the run folders are the repository's files: nothing is read from them.
    if (!vscode.workspace.isTrusted) return 'nothing';
    const key = notebook.uri.toString();
    if (this.restored.has(key) || notebook.getCells().some((cell) => cell.outputs.length > 0)) return 'nothing';
    const runDir = await newestRunFolder(this.runsFolder(notebook));
    if (!runDir || this.restored.has(key)) return 'nothing';
    const recorded = await readRecordedRun(runDir);
    if (this.restored.has(key)) return 'nothing';
    this.restored.add(key);
    for (const problem of recorded.problems) this.host.log.warn(`not restored: ${problem}`);
    const byKind = cellsByKind(notebook);
    const kinds = new Set<CellName>(['train']);
    for (const event of recorded.events) if (event.type === 'cellOutput' || event.type === 'image') kinds.add(event.cell);
    const store = new DisposableStore();
    try {
      // The epoch lines are known up front: written once, at the last epoch's event, rather than once per epoch (T6: 60 writes held the image view back by seconds).
      const shownEpochs = recorded.events.flatMap((event) => (event.type === 'metrics' && event.record.kind === 'epoch' ? [event.record] : []));
      const lastEpochEvent = recorded.events.map((event) => event.type).lastIndexOf('metrics');
      const view = new RunView({ controller: this.controller, notebook, cells: byKind, involved: CELL_KINDS.filter((kind) => kinds.has(kind)), mode: 'restore', store, log: this.host.log, modelKind: recorded.modelKind, runDir, charts: this.charts, chartHistory: recorded, images: this.images, history: shownEpochs, superseded: () => this.runAsked.has(key) });
      const summary = recorded.summary;
      try {
        await view.open();
        for (const [index, event] of recorded.events.entries()) {
          if (event.type === 'metrics' && index !== lastEpochEvent) continue;
          await view.handle(event).catch((error: Error) => {
            // Before any cell could be given an execution it is the controller not selected yet: tried again then, whole.
            if (!view.touchedCells) throw error;
            this.host.log.warn(`${runDir}: ${error.message}`);
          });
        }
        if (summary) await view.finish({ runDir, status: summary.status, summary }, recorded.when);
        else await view.endUnfinished(`last run, ${recorded.when.toLocaleString()}: it did not finish (its runtime ended without a word, or it is still running elsewhere). Continue Training resumes it from its last checkpoint.\nrun folder: ${runDir}`);
      } catch (error) {
        if (view.touchedCells) throw error;
        // Not this notebook's selected controller yet (no cell could get an execution): onDidChangeSelectedNotebooks tries again.
        this.restored.delete(key);
        return 'nothing';
      }
      this.lastRunDir.set(key, runDir);
      const resume = summary?.status === 'stopped' && summary.stoppedBy === 'shutdown' && this.settings().resumeInterruptedRuns;
      if (!resume) return 'shown';
      void vscode.window.showInformationMessage(`Latent Lab: resuming ${path.basename(notebook.uri.fsPath)}, whose training stopped when its runtime shut down (at epoch ${summary.epochs + 1}).`, 'Stop Training').then((choice) => choice && this.interrupt(notebook));
      const train = byKind.get('train');
      if (train) void this.run([train], notebook, { continuation: { resume: runDir } });
      return 'resumed';
    } finally {
      store.dispose();
    }
  }

  get isRunning(): boolean {
    return this.runs.size > 0;
  }

  async interrupt(notebook?: vscode.NotebookDocument): Promise<void> {
    const runtime = await this.host.runtime().catch(() => undefined);
    for (const run of this.runs.values()) {
      if (notebook && run.notebook !== notebook) continue;
      await runtime?.request({ type: 'cancel', runId: run.id }).catch(() => undefined);
    }
  }

  /** Where the notebook's last run stands, and how many epochs Continue Training offers (see continuationPlan). */
  async continuationPlan(notebook: vscode.NotebookDocument): Promise<ContinuationPlan & { runDir: string }> {
    if (!vscode.workspace.isTrusted) throw new Error('Latent Lab does not train in an untrusted workspace');
    const runDir = this.lastRunDir.get(notebook.uri.toString());
    if (!runDir) throw new Error('this notebook has no run to continue yet: run its train cell first');
    const recorded = await readRecordedRun(runDir);
    return { runDir, ...continuationPlan({ summary: recorded.summary, lastEpoch: recorded.epochs.at(-1)?.epoch, configEpochs: recorded.configEpochs }) };
  }

  /** "Continue training": `more` epochs on the notebook's last run, from its checkpoint, in the same run folder. */
  async continueTraining(notebook: vscode.NotebookDocument, more: number): Promise<void> {
    const plan = await this.continuationPlan(notebook);
    const train = cellsByKind(notebook).get('train');
    if (!train) throw new Error('this notebook has no train cell');
    await this.run([train], notebook, { continuation: { resume: plan.runDir, epochs: plan.done + more } });
  }

  /** For tests: how many listeners the runtime's events have now (a run must leave none behind). */
  async runtimeListenerCount(): Promise<number> {
    return (await this.host.runtime()).listenerCount;
  }

  /** Runs cells (and the cells they depend on); resolves when the run has ended. */
  async run(selected: readonly vscode.NotebookCell[], notebook: vscode.NotebookDocument, options: RunRequestOptions = {}): Promise<void> {
    const store = new DisposableStore();
    try {
      await this.runOwned(selected, notebook, options, store);
    } finally {
      store.dispose();
    }
  }

  private async runOwned(selected: readonly vscode.NotebookCell[], notebook: vscode.NotebookDocument, options: RunRequestOptions, store: DisposableStore): Promise<void> {
    const { continuation } = options;
    this.restored.add(notebook.uri.toString());
    this.runAsked.add(notebook.uri.toString());
    const wanted = new Set(selected.map(cellKind).filter((kind): kind is CellName => kind !== undefined));
    // Markdown and front matter have nothing to run; they succeed at once. A sweep cell offers to run its sweep.
    for (const cell of selected.filter((candidate) => cellKind(candidate) === undefined && candidate.kind === vscode.NotebookCellKind.Code)) {
      if (layoutOf(cell)?.kind === 'sweep') {
        void this.sweeps.offer(cell);
        continue;
      }
      const execution = this.controller.createNotebookCellExecution(cell);
      execution.start(Date.now());
      execution.end(true, Date.now());
    }
    if (wanted.size === 0) return;

    const byKind = cellsByKind(notebook);
    // Upstream cells run first: data and model always, training when anything downstream needs it.
    const requested = new Set<CellName>(['data', 'model', ...wanted]);
    if (byKind.has('train') && (wanted.has('train') || ANALYSIS_CELLS.some((kind) => wanted.has(kind)))) requested.add('train');
    // A continued run trains on: the data and model cells' outputs (and their ✓) stay as they are.
    const involved = continuation ? CELL_KINDS.filter((kind) => kind === 'train') : CELL_KINDS.filter((kind) => requested.has(kind));
    let history: MetricsRecord[] | undefined;
    let chartHistory: ChartHistory | undefined;
    if (continuation) {
      const recorded = await readRecordedRun(continuation.resume);
      for (const problem of recorded.problems) this.host.log.warn(problem);
      history = recorded.epochs;
      chartHistory = recorded;
    }
    // The runtime starts while the cells are being prepared: both take a while.
    const trusted = vscode.workspace.isTrusted;
    const starting = trusted ? this.host.runtime(this.place(notebook)).then((process) => ({ process }), (error: Error) => ({ error })) : undefined;
    const view = new RunView({
      controller: this.controller,
      notebook,
      cells: byKind,
      involved,
      mode: continuation ? 'continue' : 'run',
      store,
      log: this.host.log,
      nextExecutionOrder: () => ++this.executionOrder,
      onCancel: () => void this.interrupt(notebook),
      interval: () => this.settings().interval,
      onStatus: (status) => this.statusEmitter.fire(status),
      history,
      modelKind: modelKindOf(byKind),
      runDir: continuation?.resume,
      charts: this.charts,
      chartHistory,
      images: this.images,
    });
    if (view.size === 0) return;
    await view.open();

    if (!starting) {
      await view.refuse({ name: 'UntrustedWorkspace', message: 'Latent Lab does not train in an untrusted workspace: training reads datasets and writes run folders in this folder. Trust it (Manage Workspace Trust) to run experiments.' });
      return;
    }
    view.mark('cells started');
    const started = await starting;
    if ('error' in started) {
      await view.refuse({ name: 'RuntimeStartFailed', message: `The runtime could not start: ${started.error.message}` });
      return;
    }
    const runtime = started.process;
    view.mark('runtime ready');
    this.runs.set(view.id, view);
    store.add(toDisposable(() => {
      this.runs.delete(view.id);
      this.statusEmitter.fire(undefined);
    }));
    const settings = this.settings();
    // Outputs are applied in order: an image must not overtake the epoch line before it.
    let chain: Promise<void> = view.beginFirst();
    const enqueue = (work: () => Promise<void>) => {
      chain = chain.then(work).catch((error: Error) => this.host.log.error(`showing runtime output failed: ${error.stack ?? error.message}`));
      return chain;
    };
    // Events arrive before the run request's answer, which is the run's result (the runEnded
    // notification that follows repeats it and is not needed here).
    store.add(runtime.onNotification((message: RuntimeNotification) => {
      if (message.type !== 'event' || message.runId !== view.id) return;
      // A logged step reaches the live chart at once; the outputs keep their order in the queue.
      if (message.event.type === 'metrics' && view.chartNow(message.event.record)) return;
      void enqueue(() => view.handle(message.event));
    }));
    // A runtime that goes away mid-run is said so first; the request's own rejection then finds the run ended.
    store.add(runtime.onExit(({ code, signal }) => {
      const where = view.runDir ? ` (${view.runDir}; Continue Training resumes from its last checkpoint)` : '';
      void enqueue(() => view.fail({ name: 'RuntimeExited', message: `The runtime stopped unexpectedly (${signal ? `signal ${signal}` : `exit code ${code}`}). Nothing written to the run folder is lost${where}. The next run starts a new runtime; details are in the Latent Lab Runtime log.` }));
    }));
    try {
      view.mark('run requested');
      const result = await runtime.request({
        type: 'run',
        runId: view.id,
        file: notebook.uri.fsPath,
        text: notebookText(notebook),
        cells: CELL_KINDS.filter((kind) => requested.has(kind)),
        overrides: { backend: settings.backend, ...(settings.dataDir ? { dataDir: settings.dataDir } : {}), ...(continuation?.epochs ? { epochs: continuation.epochs } : {}) },
        outDir: this.runsFolder(notebook),
        ...(continuation ? { resume: continuation.resume } : { reuse: !options.retrain }),
      });
      await enqueue(() => view.finish(result));
    } catch (error) {
      await enqueue(() => view.fail(error as Error));
    }
    view.mark('ended');
    this.lastTimeline = view.timeline;
    this.host.log.info(`run of ${path.basename(notebook.uri.fsPath)}: ${view.timeline.join(', ')}`);
    if (view.runDir) this.lastRunDir.set(notebook.uri.toString(), view.runDir);
  }

  dispose(): void {
    this.store.dispose();
  }
}
