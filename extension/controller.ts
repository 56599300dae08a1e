/**
 * The notebook kernel: runs `.aexp` cells in the runtime child process and streams what it
 * reports (progress, metrics, images, the run folder) into the cells' outputs.
 */
import { randomUUID } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import * as vscode from 'vscode';
import type { CellName, EngineEvent, MetricsRecord, RunOutputs, RunOverrides, RunResult, RunSummary, RuntimeNotification, SerializedError } from '../runtime/protocol';
import { epochLine } from '../runtime/format/epoch-line';
import type { RuntimeProcess } from './runtimeProcess';
import { layoutOf, NOTEBOOK_TYPE, notebookText } from './serializer';

const ANALYSIS: readonly CellName[] = ['evaluate', 'reconstruct', 'sample'];
const ORDER: readonly CellName[] = ['data', 'model', 'train', 'evaluate', 'reconstruct', 'sample'];

export interface RuntimeHost {
  /** The running runtime, started (and initialized) on first use. */
  runtime(): Promise<RuntimeProcess>;
  readonly log: vscode.LogOutputChannel;
}

export interface RunStatus {
  notebook: vscode.NotebookDocument;
  cell?: vscode.NotebookCell;
  text: string;
}

function cellKind(cell: vscode.NotebookCell): CellName | undefined {
  if (cell.kind !== vscode.NotebookCellKind.Code) return undefined;
  const kind = layoutOf(cell)?.kind;
  return kind && (ORDER as readonly string[]).includes(kind) ? (kind as CellName) : undefined;
}

function errorOutput(error: SerializedError | Error): vscode.NotebookCellOutput {
  return new vscode.NotebookCellOutput([vscode.NotebookCellOutputItem.error({ name: error.name, message: error.message, stack: '' })]);
}

function text(value: string): vscode.NotebookCellOutput {
  return new vscode.NotebookCellOutput([vscode.NotebookCellOutputItem.text(value, 'text/plain')]);
}

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
}

function formatNumber(value: unknown): string {
  return typeof value === 'number' ? (Math.abs(value) >= 100 ? value.toFixed(1) : value.toPrecision(4)) : String(value);
}

/** One run of some cells of one notebook: its executions and what has been shown so far. */
class Run {
  readonly id = randomUUID();
  readonly executions = new Map<CellName, vscode.NotebookCellExecution>();
  private readonly progressOutput = text('starting…');
  private readonly epochLines: string[] = [];
  private readonly epochOutput = text('');
  private readonly images = new Map<string, vscode.NotebookCellOutput>();
  /** Outputs of this run already appended to their cells (outputs are cleared when a run starts). */
  private readonly shown = new Set<vscode.NotebookCellOutput>();
  runDir: string | undefined;
  private lastProgress = 0;
  /** Milestones of this run since the person pressed run, for the log (cold start is watched). */
  readonly timeline: string[] = [];
  private readonly started = performance.now();

  mark(what: string): void {
    this.timeline.push(`${what} ${Math.round(performance.now() - this.started)} ms`);
  }

  constructor(readonly notebook: vscode.NotebookDocument, readonly cells: Map<CellName, vscode.NotebookCell>, private readonly interval: () => number, private readonly onStatus: (status: RunStatus | undefined) => void) {}

  get trainCell(): vscode.NotebookCell | undefined {
    return this.cells.get('train');
  }

  private execution(kind: CellName | 'train'): vscode.NotebookCellExecution | undefined {
    return this.executions.get(kind) ?? this.executions.get('train') ?? [...this.executions.values()].at(-1);
  }

  async handle(event: EngineEvent): Promise<void> {
    switch (event.type) {
      case 'cellOutput':
        await this.executions.get(event.cell)?.appendOutput(text(event.text));
        return;
      case 'progress': {
        if (this.lastProgress === 0) this.mark('first progress');
        const now = Date.now();
        if (now - this.lastProgress < this.interval()) return;
        this.lastProgress = now;
        const line = `epoch ${event.epoch}/${event.epochs} · step ${event.step}/${event.stepsPerEpoch} · loss ${formatNumber(event.loss)} · ${Math.round(event.samplesPerSecond)} samples/s · ETA ${formatSeconds(event.etaSeconds)}`;
        const execution = this.executions.get('train');
        if (execution) {
          await this.show(execution, this.progressOutput);
          await execution.replaceOutputItems(vscode.NotebookCellOutputItem.text(line, 'text/plain'), this.progressOutput);
        }
        this.onStatus({ notebook: this.notebook, cell: this.trainCell, text: `epoch ${event.epoch}/${event.epochs} · step ${event.step}/${event.stepsPerEpoch} · loss ${formatNumber(event.loss)} · ETA ${formatSeconds(event.etaSeconds)}` });
        return;
      }
      case 'metrics': {
        const record = event.record;
        if (record.kind !== 'epoch') return;
        this.epochLines.push(epochLine(record));
        const execution = this.executions.get('train');
        if (!execution) return;
        await this.show(execution, this.epochOutput);
        await execution.replaceOutputItems(vscode.NotebookCellOutputItem.text(this.epochLines.join('\n'), 'text/plain'), this.epochOutput);
        return;
      }
      case 'image': {
        const execution = this.execution(event.cell);
        if (!execution) return;
        const bytes = await readFile(event.path);
        const item = vscode.NotebookCellOutputItem.json({ kind: event.kind, epoch: event.epoch, path: event.path }, 'application/vnd.latent-lab.image+json');
        const items = [new vscode.NotebookCellOutputItem(bytes, 'image/png'), item];
        // During training the newest grid of each kind replaces the previous one.
        const key = `${event.cell}:${event.kind}`;
        const existing = this.images.get(key);
        if (existing) {
          await execution.replaceOutputItems(items, existing);
        } else {
          const output = new vscode.NotebookCellOutput(items, { kind: event.kind, epoch: event.epoch });
          this.images.set(key, output);
          await this.show(execution, output);
        }
        return;
      }
      case 'log': {
        const match = /^run folder (.+)$/.exec(event.message);
        if (match) this.runDir = match[1];
        if (event.level !== 'info') await this.execution('train')?.appendOutput(text(`${event.level}: ${event.message}`));
        return;
      }
    }
  }

  private async show(execution: vscode.NotebookCellExecution, output: vscode.NotebookCellOutput): Promise<void> {
    if (this.shown.has(output)) return;
    this.shown.add(output);
    await execution.appendOutput(output);
  }

  async finish(result: RunResult | undefined, error: SerializedError | undefined, restoredFrom?: Date): Promise<void> {
    if (error) {
      const first = [...this.executions.values()][0];
      await first?.appendOutput(errorOutput(error));
      for (const execution of this.executions.values()) execution.end(false, Date.now());
      return;
    }
    const summary = result!.summary;
    const train = this.executions.get('train');
    if (train) {
      const lines = [
        restoredFrom ? `last run, ${restoredFrom.toLocaleString()} (shown again from its run folder)` : '',
        summary.reused ? `reused: ${summary.epochs}/${summary.targetEpochs} epochs, ${summary.steps} steps, trained in ${formatSeconds(summary.reused.trainedSeconds)} on ${summary.backend} (${summary.device})` : '',
        summary.reused ? '' : `${summary.status}: ${summary.epochs}/${summary.targetEpochs} epochs, ${summary.steps} steps in ${formatSeconds(summary.durationSeconds)}${summary.samplesPerSecond ? ` (${Math.round(summary.samplesPerSecond)} samples/s)` : ''} on ${summary.backend} (${summary.device})`,
        summary.test ? `test: ${Object.entries(summary.test).map(([key, value]) => `${key} ${formatNumber(value)}`).join(' · ')} (${summary.units})` : '',
        summary.message ?? '',
        result!.runDir ? `run folder: ${result!.runDir}` : '',
      ].filter((line) => line);
      if (this.shown.has(this.progressOutput)) await train.replaceOutputItems(vscode.NotebookCellOutputItem.text(lines.join('\n'), 'text/plain'), this.progressOutput);
      else await train.appendOutput(text(lines.join('\n')));
    }
    this.runDir = result!.runDir || this.runDir;
    for (const execution of this.executions.values()) execution.end(result!.status !== 'diverged', restoredFrom ? undefined : Date.now());
  }

  /** A restored run that has no summary: says so on the training cell. */
  async endUnfinished(message: string): Promise<void> {
    await this.executions.get('train')?.appendOutput(text(message));
    for (const execution of this.executions.values()) execution.end(undefined);
  }

  /** The runtime went away mid-run: say so in every cell still running. */
  async abandon(message: string, name = 'RuntimeExited'): Promise<void> {
    // Said where the person looks: the training cell when there is one, else the first cell of the run.
    const main = this.executions.get('train') ?? [...this.executions.values()][0];
    await main?.appendOutput(errorOutput({ name, message }));
    for (const execution of this.executions.values()) execution.end(false, Date.now());
  }
}

function cellsByKind(notebook: vscode.NotebookDocument): Map<CellName, vscode.NotebookCell> {
  const byKind = new Map<CellName, vscode.NotebookCell>();
  for (const cell of notebook.getCells()) {
    const kind = cellKind(cell);
    if (kind && !byKind.has(kind)) byKind.set(kind, cell);
  }
  return byKind;
}

export interface RunRequestOptions {
  /** Resume this run folder from its last checkpoint, to `epochs` in all (default: its own target). */
  continuation?: { resume: string; epochs?: number };
  /** Train from scratch even when a finished run with the same cells could be reused. */
  retrain?: boolean;
}

/** What reopening a notebook found in its newest run folder. */
export type Restored = 'nothing' | 'shown' | 'resumed';

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** The newest run folder under `parent` (run folder names sort by time). */
async function newestRunFolder(parent: string): Promise<string | undefined> {
  const entries = await readdir(parent, { withFileTypes: true }).catch(() => []);
  const names = entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort().reverse();
  for (const name of names) {
    const candidate = path.join(parent, name);
    if (await stat(path.join(candidate, 'config.json')).then(() => true, () => false)) return candidate;
  }
  return undefined;
}

/** A run folder's cell outputs: outputs.json when the run ended, else its epoch records and newest grids. */
async function recordedOutputs(runDir: string, summary: RunSummary | undefined): Promise<EngineEvent[]> {
  const outputs = await readJson<RunOutputs>(path.join(runDir, 'outputs.json'));
  if (outputs?.version === 1 && Array.isArray(outputs.events)) return outputs.events;
  const metrics = await readFile(path.join(runDir, 'metrics.jsonl'), 'utf8').catch(() => '');
  const epochs = metrics.split('\n').flatMap((line) => {
    try {
      const record = JSON.parse(line) as MetricsRecord;
      return record.kind === 'epoch' ? [record] : [];
    } catch {
      return [];
    }
  });
  const events: EngineEvent[] = epochs.map((record) => ({ type: 'metrics', record }));
  const last = summary?.epochs ?? epochs.at(-1)?.epoch;
  for (const kind of ['reconstructions', 'samples'] as const) {
    const file = path.join(runDir, 'images', `epoch-${String(last).padStart(3, '0')}-${kind}.png`);
    if (last && await stat(file).then(() => true, () => false)) events.push({ type: 'image', cell: 'train', kind, epoch: last, path: file });
  }
  return events;
}

export class AexpController implements vscode.Disposable {
  private readonly controller: vscode.NotebookController;
  private readonly runs = new Map<string, Run>();
  private executionOrder = 0;
  private readonly statusEmitter = new vscode.EventEmitter<RunStatus | undefined>();
  readonly onStatus = this.statusEmitter.event;
  /** The last run folder of each notebook (by URI), for "Open Run Folder" and "Continue training". */
  readonly lastRunDir = new Map<string, string>();
  /** The milestones of the last run that ended (the log has them too). */
  lastTimeline: string[] = [];
  /** Notebooks (by URI) whose outputs were restored or produced since they opened. */
  private readonly restored = new Set<string>();
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly host: RuntimeHost, private readonly settings: () => { backend: RunOverrides['backend']; dataDir?: string; runsFolder?: string; interval: number; resumeInterruptedRuns: boolean }) {
    this.controller = vscode.notebooks.createNotebookController('latent-lab-runtime', NOTEBOOK_TYPE, 'Latent Lab runtime');
    this.controller.supportedLanguages = ['yaml'];
    this.controller.supportsExecutionOrder = true;
    this.controller.description = 'trains in a separate Node process';
    this.controller.executeHandler = (cells, notebook) => this.run(cells, notebook);
    this.controller.interruptHandler = (notebook) => this.interrupt(notebook);
    // Outputs come back when a notebook opens; the controller may be selected for it only later.
    const restoreSoon = (notebook: vscode.NotebookDocument) => {
      if (notebook.notebookType !== NOTEBOOK_TYPE) return;
      this.controller.updateNotebookAffinity(notebook, vscode.NotebookControllerAffinity.Preferred);
      void this.restore(notebook).catch((error: Error) => this.host.log.warn(`could not show the last outputs of ${notebook.uri.fsPath}: ${error.message}`));
    };
    this.subscriptions.push(
      vscode.workspace.onDidOpenNotebookDocument(restoreSoon),
      this.controller.onDidChangeSelectedNotebooks(({ notebook, selected }) => selected && restoreSoon(notebook)),
      vscode.workspace.onDidCloseNotebookDocument((notebook) => this.restored.delete(notebook.uri.toString())),
    );
    for (const notebook of vscode.workspace.notebookDocuments) restoreSoon(notebook);
  }

  /** The folder that holds this notebook's run folders. */
  runsFolder(notebook: vscode.NotebookDocument): string {
    const { runsFolder } = this.settings();
    const folder = vscode.workspace.getWorkspaceFolder(notebook.uri)?.uri.fsPath ?? path.dirname(notebook.uri.fsPath);
    const runsRoot = runsFolder ? path.resolve(folder, runsFolder) : path.join(folder, '.aexp', 'runs');
    return path.join(runsRoot, path.basename(notebook.uri.fsPath).replace(/\.aexp$/i, ''));
  }

  /**
   * Shows the newest run's outputs again in a notebook that has none. A run that stopped because
   * its runtime shut down (a window reload, a dropped remote connection) resumes from its
   * checkpoint, when the workspace is trusted and `latentLab.resumeInterruptedRuns` allows it.
   */
  async restore(notebook: vscode.NotebookDocument): Promise<Restored> {
    const key = notebook.uri.toString();
    if (this.restored.has(key) || notebook.getCells().some((cell) => cell.outputs.length > 0)) return 'nothing';
    const runDir = await newestRunFolder(this.runsFolder(notebook));
    if (!runDir || this.restored.has(key)) return 'nothing';
    const summary = await readJson<RunSummary>(path.join(runDir, 'summary.json'));
    const events = await recordedOutputs(runDir, summary);
    const byKind = cellsByKind(notebook);
    const run = new Run(notebook, byKind, () => 0, () => undefined);
    const kinds = new Set<CellName>(['train']);
    for (const event of events) if (event.type === 'cellOutput' || event.type === 'image') kinds.add(event.cell);
    try {
      for (const kind of ORDER) {
        const cell = byKind.get(kind);
        if (!cell || !kinds.has(kind)) continue;
        const execution = this.controller.createNotebookCellExecution(cell);
        execution.start();
        run.executions.set(kind, execution);
      }
    } catch {
      // Not this notebook's selected controller yet: onDidChangeSelectedNotebooks tries again.
      for (const execution of run.executions.values()) execution.end(undefined);
      return 'nothing';
    }
    this.restored.add(key);
    this.lastRunDir.set(key, runDir);
    for (const event of events) await run.handle(event).catch((error: Error) => this.host.log.warn(`${runDir}: ${error.message}`));
    const when = await stat(path.join(runDir, summary ? 'summary.json' : 'metrics.jsonl')).then((info) => info.mtime, () => new Date());
    if (summary) await run.finish({ runDir, status: summary.status, summary }, undefined, when);
    else await run.endUnfinished(`last run, ${when.toLocaleString()}: it did not finish (its runtime ended without a word, or it is still running elsewhere). Continue Training resumes it from its last checkpoint.\nrun folder: ${runDir}`);
    const resume = summary?.status === 'stopped' && summary.stoppedBy === 'shutdown' && vscode.workspace.isTrusted && this.settings().resumeInterruptedRuns;
    if (!resume) return 'shown';
    void vscode.window.showInformationMessage(`Latent Lab: resuming ${path.basename(notebook.uri.fsPath)}, whose training stopped when its runtime shut down (at epoch ${summary.epochs + 1}).`, 'Stop Training').then((choice) => choice && this.interrupt(notebook));
    void this.run([...byKind.values()].filter((cell) => cellKind(cell) === 'train'), notebook, { continuation: { resume: runDir } });
    return 'resumed';
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

  /** "Continue training": more epochs on the notebook's last run, from its checkpoint. */
  async continueTraining(notebook: vscode.NotebookDocument, epochs: number): Promise<void> {
    const runDir = this.lastRunDir.get(notebook.uri.toString());
    if (!runDir) throw new Error('this notebook has no run to continue yet: run its train cell first');
    // The new target counts from where the run is: epochs finished so far (summary) or planned (config).
    const read = async (name: string) => JSON.parse(await readFile(path.join(runDir, name), 'utf8').catch(() => 'null')) as Record<string, unknown> | null;
    const summary = await read('summary.json') as { epochs?: number } | null;
    const config = await read('config.json') as { train?: { epochs?: number } } | null;
    const done = summary?.epochs ?? config?.train?.epochs ?? 0;
    await this.run(notebook.getCells().filter((cell) => cellKind(cell) === 'train'), notebook, { continuation: { resume: runDir, epochs: done + epochs } });
  }

  /** Runs cells (and the cells they depend on); resolves when the run has ended. */
  async run(selected: readonly vscode.NotebookCell[], notebook: vscode.NotebookDocument, options: RunRequestOptions = {}): Promise<void> {
    const { continuation } = options;
    this.restored.add(notebook.uri.toString());
    const wanted = new Set(selected.map(cellKind).filter((kind): kind is CellName => kind !== undefined));
    // Markdown and front matter have nothing to run; they succeed at once.
    for (const cell of selected.filter((candidate) => cellKind(candidate) === undefined && candidate.kind === vscode.NotebookCellKind.Code)) {
      const execution = this.controller.createNotebookCellExecution(cell);
      execution.start(Date.now());
      execution.end(true, Date.now());
    }
    if (wanted.size === 0) return;

    const byKind = cellsByKind(notebook);
    // Upstream cells run first: data and model always, training when anything downstream needs it.
    const involved = new Set<CellName>(['data', 'model', ...wanted]);
    if (byKind.has('train') && (wanted.has('train') || ANALYSIS.some((kind) => wanted.has(kind)))) involved.add('train');
    const run = new Run(notebook, byKind, () => this.settings().interval, (status) => this.statusEmitter.fire(status));
    // The runtime starts while the cells are being prepared: both take a while.
    const trusted = vscode.workspace.isTrusted;
    const starting = trusted ? this.host.runtime().then((process) => ({ process }), (error: Error) => ({ error })) : undefined;
    const cleared: Thenable<void>[] = [];
    for (const kind of ORDER) {
      const cell = byKind.get(kind);
      if (!cell || !involved.has(kind)) continue;
      const execution = this.controller.createNotebookCellExecution(cell);
      execution.executionOrder = ++this.executionOrder;
      execution.token.onCancellationRequested(() => void this.interrupt(notebook));
      execution.start(Date.now());
      cleared.push(execution.clearOutput());
      run.executions.set(kind, execution);
    }
    // Cleared outputs are waited for only before the first new output, not before the runtime starts.
    const outputsCleared: Promise<void> = Promise.all(cleared).then(() => undefined);
    if (run.executions.size === 0) return;

    if (!starting) {
      await outputsCleared;
      await run.abandon('Latent Lab does not train in an untrusted workspace: training reads datasets and writes run folders in this folder. Trust it (Manage Workspace Trust) to run experiments.', 'UntrustedWorkspace');
      return;
    }

    run.mark('cells started');
    const started = await starting;
    if ('error' in started) {
      await outputsCleared;
      await run.abandon(`The runtime could not start: ${started.error.message}`, 'RuntimeStartFailed');
      return;
    }
    const runtime = started.process;
    run.mark('runtime ready');
    this.runs.set(run.id, run);
    const settings = this.settings();
    const finished = new Promise<void>((resolve) => {
      let chain = outputsCleared;
      const subscription = runtime.onNotification((message: RuntimeNotification) => {
        if (message.type === 'log' || message.runId !== run.id) return;
        // The run's end is known now, even while earlier outputs are still being shown: a runtime
        // that exits right after (a shutdown) has not crashed this run.
        if (message.type === 'runEnded') {
          subscription.dispose();
          exitSubscription.dispose();
        }
        // Outputs are applied in order: an image must not overtake the epoch line before it.
        chain = chain.then(async () => {
          if (message.type === 'event') await run.handle(message.event);
          else {
            await run.finish(message.result, message.error);
            run.mark('ended');
            this.lastTimeline = run.timeline;
            this.host.log.info(`run of ${path.basename(notebook.uri.fsPath)}: ${run.timeline.join(', ')}`);
            if (run.runDir) this.lastRunDir.set(notebook.uri.toString(), run.runDir);
            resolve();
          }
        }).catch((error: Error) => this.host.log.error(`showing runtime output failed: ${error.stack ?? error.message}`));
      });
      const exitSubscription = runtime.onExit(({ code, signal }) => {
        subscription.dispose();
        exitSubscription.dispose();
        chain = chain.then(() => run.abandon(`The runtime stopped unexpectedly (${signal ? `signal ${signal}` : `exit code ${code}`}). Nothing written to the run folder is lost${run.runDir ? ` (${run.runDir}; resume from its last checkpoint with "Continue training")` : ''}. The next run starts a new runtime; details are in the Latent Lab Runtime log.`));
        if (run.runDir) this.lastRunDir.set(notebook.uri.toString(), run.runDir);
        void chain.then(resolve);
      });
    });
    try {
      run.mark('run requested');
      await runtime.request({
        type: 'run',
        runId: run.id,
        file: notebook.uri.fsPath,
        text: notebookText(notebook),
        cells: ORDER.filter((kind) => involved.has(kind)),
        overrides: { backend: settings.backend, ...(settings.dataDir ? { dataDir: settings.dataDir } : {}), ...(continuation?.epochs ? { epochs: continuation.epochs } : {}) },
        outDir: this.runsFolder(notebook),
        ...(continuation ? { resume: continuation.resume } : { reuse: !options.retrain }),
      });
    } catch (error) {
      await outputsCleared;
      await run.abandon((error as Error).message);
      this.runs.delete(run.id);
      return;
    }
    await finished;
    this.runs.delete(run.id);
    this.statusEmitter.fire(undefined);
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    this.controller.dispose();
    this.statusEmitter.dispose();
  }
}
