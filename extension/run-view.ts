/**
 * How one run's events become cell outputs: one execution per involved cell, started when that
 * cell's work starts and ended when it is done (so each cell shows its own duration, and only the
 * running cell spins), placeholders instead of blank cells, captioned image grids, and an honest end
 * (a stopped train cell is not a failure; analysis cells that did not run say so).
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import * as vscode from 'vscode';
import { CELL_KINDS, isAnalysisCell } from '../runtime/cells';
import { epochLine } from '../runtime/format/epoch-line';
import type { CellName, EngineEvent, ImageEvent, MetricsRecord, RunResult, SerializedError } from '../runtime/protocol';
import { cellAtLine } from './cells';
import type { ChartChannel, ChartHistory } from './chart-output';
import { TrainingChart } from './chart-output';
import type { DisposableStore } from './dispose';
import type { ImageChannel } from './image-output';
import { IMAGES_MIME, ImageView } from './image-output';
import type { ImageViewMode } from './images-protocol';
import { readImageInside } from './restore';
import { notebookCells } from './serializer';
import { settleEach } from './settle';
import { gridCaption, notRunLine, progressLine, progressStatus, summaryLines } from './run-text';

const IMAGE_MIME = 'application/vnd.latent-lab.image+json';
/** The cells that show an image view when their run folder has views. */
const IMAGE_VIEW_MODES: Partial<Record<CellName, ImageViewMode>> = { train: 'history', reconstruct: 'reconstruct', sample: 'sample' };

function imageViewItem(model: ImageView): vscode.NotebookCellOutputItem {
  return vscode.NotebookCellOutputItem.json(model.snapshot(), IMAGES_MIME);
}

export interface RunStatus {
  notebook: vscode.NotebookDocument;
  cell?: vscode.NotebookCell;
  text: string;
}

function text(value: string): vscode.NotebookCellOutput {
  return new vscode.NotebookCellOutput([vscode.NotebookCellOutputItem.text(value, 'text/plain')]);
}

/**
 * Sets a cell's outputs by clearing them and appending these. (Replacing a cell's outputs with a
 * non-empty list rewrites the existing ones in place under new ids, and VS Code's extension-side
 * copy of the cell then ignores later item updates to them: a progress line would stop moving.)
 */
async function setOutputs(execution: vscode.NotebookCellExecution, outputs: vscode.NotebookCellOutput[]): Promise<void> {
  await execution.replaceOutput([]);
  if (outputs.length > 0) await execution.appendOutput(outputs);
}

function errorOutput(error: SerializedError | Error): vscode.NotebookCellOutput {
  return new vscode.NotebookCellOutput([vscode.NotebookCellOutputItem.error({ name: error.name, message: error.message, stack: '' })]);
}

/** One cell of the run: its execution, where it is in its life, and the outputs this run gave it. */
class CellView {
  state: 'pending' | 'running' | 'ended' = 'pending';
  startedAt: number | undefined;
  endedAt: number | undefined;
  executionOrder: number | undefined;
  readonly outputs: vscode.NotebookCellOutput[] = [];
  /** Outputs of a restored run gathered but not yet written: they go to the cell in one edit. */
  unwritten = false;
  /** "queued…" / "running…" until the cell's first real output takes its place. */
  placeholder: vscode.NotebookCellOutput | undefined;

  private current: vscode.NotebookCellExecution | undefined;
  private readonly create: (() => vscode.NotebookCellExecution) | undefined;

  /** An execution, or how to create one when it is first used (a restored cell's, started then). */
  constructor(readonly kind: CellName, readonly cell: vscode.NotebookCell, execution: vscode.NotebookCellExecution | (() => vscode.NotebookCellExecution)) {
    if (typeof execution === 'function') this.create = execution;
    else this.current = execution;
  }

  /** Whether the cell has its execution yet (a restored cell's is created when its outputs are written). */
  get hasExecution(): boolean {
    return this.current !== undefined;
  }

  get execution(): vscode.NotebookCellExecution {
    this.current ??= this.create!();
    return this.current;
  }

  set execution(execution: vscode.NotebookCellExecution) {
    this.current = execution;
  }
}

/**
 * `run`: a new run (outputs replaced by placeholders at once); `continue`: more epochs on the train
 * cell, its earlier epochs kept; `restore`: a finished run shown again (no timing: nothing runs).
 */
export type RunMode = 'run' | 'continue' | 'restore';

export interface RunViewOptions {
  controller: vscode.NotebookController;
  notebook: vscode.NotebookDocument;
  cells: ReadonlyMap<CellName, vscode.NotebookCell>;
  /** The cells that get an execution, in run order. */
  involved: readonly CellName[];
  mode: RunMode;
  /** Owns this run's subscriptions; disposed by the caller when the run ends, however it ends. */
  store: DisposableStore;
  log: vscode.LogOutputChannel;
  nextExecutionOrder?: () => number;
  onCancel?: () => void;
  interval?: () => number;
  onStatus?: (status: RunStatus) => void;
  /** Epoch records shown before the new ones (a continued run's history). */
  history?: readonly MetricsRecord[];
  modelKind?: string;
  runDir?: string;
  /** Where the train cell's chart gets its messages; without it the cell shows no chart. */
  charts?: ChartChannel;
  /** What the chart starts from: the run folder's logged steps and epochs (a continued or restored run). */
  chartHistory?: ChartHistory;
  /** Where the cells' image views get their messages; without it the cells show their PNG grids. */
  images?: ImageChannel;
  /** A restore: true once a run of the notebook started, whose outputs the restore must not write over. */
  superseded?: () => boolean;
}

export class RunView {
  readonly id = randomUUID();
  readonly notebook: vscode.NotebookDocument;
  private readonly views = new Map<CellName, CellView>();
  private readonly progressOutput = text('');
  private readonly epochOutput = text('');
  private readonly epochLines = new Map<number, string>();
  private readonly grids = new Map<string, { caption: vscode.NotebookCellOutput; image: vscode.NotebookCellOutput }>();
  private lastProgress = 0;
  /** The train cell's chart: one output, created when training starts, then patched in place. */
  private chart: { model: TrainingChart; output: vscode.NotebookCellOutput } | undefined;
  /** Each cell's image view, in place of its PNG grids: one output, patched in place as epochs come. */
  private readonly imageViews = new Map<CellName, { model: ImageView; output: vscode.NotebookCellOutput }>();
  /** Cells whose views were refused (said once, in the cell): they show their PNG grids. */
  private readonly imageViewsRefused = new Set<CellName>();
  /** Set once the runtime reports cell lifecycle events; until then a cell starts at its first output. */
  private lifecycleSeen = false;
  private ended = false;
  private opened: Promise<void> = Promise.resolve();
  runDir: string | undefined;
  /** Milestones of this run since the person pressed run, for the log (cold start is watched). */
  readonly timeline: string[] = [];
  private readonly started = performance.now();
  /**
   * A restored run's outputs are all known at once: each cell's are gathered, then written in one
   * edit when the cell ends (T6: one edit per output kept the image view seconds behind the chart
   * under load, each edit a round trip to the notebook's webview).
   */
  private readonly gathering: boolean;
  /** The notebook's cells and their text when the run was asked for: what the runtime's line numbers count in. */
  private readonly cellsAtStart: readonly vscode.NotebookCell[];
  private readonly textAtStart: ReturnType<typeof notebookCells>;

  constructor(private readonly options: RunViewOptions) {
    this.notebook = options.notebook;
    this.runDir = options.runDir;
    this.gathering = options.mode === 'restore';
    this.cellsAtStart = options.notebook.getCells();
    this.textAtStart = notebookCells(options.notebook);
    for (const record of options.history ?? []) this.epochLines.set(record.epoch, epochLine(record));
  }

  /** Whether any cell got an execution yet: a restore that failed before that can be tried again. */
  get touchedCells(): boolean {
    return [...this.views.values()].some((view) => view.hasExecution);
  }

  /** The involved cells this notebook has. */
  get size(): number {
    return this.options.involved.filter((kind) => this.options.cells.has(kind)).length;
  }

  get trainCell(): vscode.NotebookCell | undefined {
    return this.options.cells.get('train');
  }

  mark(what: string): void {
    this.timeline.push(`${what} ${Math.round(performance.now() - this.started)} ms`);
  }

  /**
   * Creates the cells' executions. A new run first replaces each cell's outputs, never with
   * nothing: "starting…" on the first cell, "queued…" on the rest, a continued train cell keeping its
   * epoch lines. VS Code lets only a started execution change outputs, and a started execution
   * spins, so each cell gets a brief execution that only sets its placeholder, then the one that
   * waits (queued, not spinning) until the cell's work starts. Every later change waits for this.
   */
  open(): Promise<void> {
    this.opened = this.createExecutions();
    return this.opened;
  }

  private async createExecutions(): Promise<void> {
    const { controller, mode } = this.options;
    const kinds = this.options.involved.filter((kind) => this.options.cells.has(kind));
    try {
      for (const kind of kinds) {
        const cell = this.options.cells.get(kind)!;
        if (mode === 'restore') {
          // A cell with an execution is left out of Run All: a restored cell has one only while its outputs are written.
          const view = new CellView(kind, cell, () => {
            const execution = controller.createNotebookCellExecution(cell);
            execution.start();
            return execution;
          });
          this.views.set(kind, view);
          view.state = 'running';
          continue;
        }
        const outputs: vscode.NotebookCellOutput[] = [];
        let placeholder: vscode.NotebookCellOutput | undefined = text(kind === kinds[0] ? 'starting…' : 'queued…');
        if (mode === 'continue' && kind === 'train') {
          // The earlier epochs stay, and the progress line says what happens until progress replaces it.
          if (this.epochLines.size > 0) {
            this.setItems(this.epochOutput, this.epochText());
            outputs.push(this.epochOutput);
          }
          this.setItems(this.progressOutput, `resuming after epoch ${Math.max(0, ...this.epochLines.keys())}…`);
          outputs.push(this.progressOutput);
          placeholder = undefined;
        } else outputs.push(placeholder);
        const placing = controller.createNotebookCellExecution(cell);
        try {
          placing.start();
          await setOutputs(placing, outputs);
        } finally {
          placing.end(undefined);
        }
        const execution = controller.createNotebookCellExecution(cell);
        const view = new CellView(kind, cell, execution);
        view.outputs.push(...outputs);
        view.placeholder = placeholder;
        this.views.set(kind, view);
        if (this.options.nextExecutionOrder) execution.executionOrder = view.executionOrder = this.options.nextExecutionOrder();
        if (this.options.onCancel) this.options.store.add(execution.token.onCancellationRequested(this.options.onCancel));
      }
    } catch (error) {
      // Not this notebook's selected controller (yet): nothing of this run may stay pending.
      for (const view of this.views.values()) if (view.hasExecution) view.execution.end(undefined);
      this.views.clear();
      this.ended = true;
      throw error;
    }
  }

  private epochText(): string {
    return [...this.epochLines.entries()].sort(([a], [b]) => a - b).map(([, line]) => line).join('\n');
  }

  private setItems(output: vscode.NotebookCellOutput, value: string): void {
    output.items.splice(0, output.items.length, vscode.NotebookCellOutputItem.text(value, 'text/plain'));
  }

  /** Starts a cell's execution when its work starts; without lifecycle events, the cells before it are done by then. */
  private async begin(kind: CellName, at = Date.now()): Promise<CellView | undefined> {
    const view = this.views.get(kind);
    if (!view || view.state !== 'pending') return view;
    if (!this.lifecycleSeen) {
      for (const earlier of CELL_KINDS.slice(0, CELL_KINDS.indexOf(kind))) {
        const before = this.views.get(earlier);
        if (before?.state === 'running') await this.endCell(before, true, at);
      }
    }
    view.execution.start(at);
    view.startedAt = at;
    view.state = 'running';
    if (view.placeholder) await view.execution.replaceOutputItems(vscode.NotebookCellOutputItem.text('running…', 'text/plain'), view.placeholder);
    if (kind !== 'train') this.options.onStatus?.({ notebook: this.notebook, cell: view.cell, text: `running the ${kind} cell` });
    return view;
  }

  /** The first cell starts when the runtime takes the run (its work is loading data). */
  async beginFirst(): Promise<void> {
    await this.opened;
    const first = [...this.views.keys()][0];
    if (first) await this.begin(first);
  }

  private async endCell(view: CellView, success: boolean | undefined, at: number | undefined): Promise<void> {
    if (view.state === 'ended') return;
    // However the last outputs fare (a deleted cell, a refused edit), the execution ends: nothing spins.
    try {
      if (view.state === 'pending' && this.options.mode !== 'restore') {
        view.execution.start(at);
        view.startedAt = at;
      }
      if (view.placeholder) {
        view.outputs.splice(view.outputs.indexOf(view.placeholder), 1);
        view.placeholder = undefined;
        await setOutputs(view.execution, view.outputs);
      } else if (view.unwritten) await this.writeGathered(view);
    } finally {
      view.state = 'ended';
      view.endedAt = at;
      // A restored cell that was given nothing to show never had an execution: nothing to end.
      if (view.hasExecution || !this.gathering) view.execution.end(success, at);
    }
  }

  /**
   * Lets an ended cell's outputs change once more, keeping its execution order and its own start
   * and end: the train cell ends when the cell after it starts, and its summary arrives with the run's end.
   */
  private reopen(view: CellView): number | undefined {
    const execution = this.options.controller.createNotebookCellExecution(view.cell);
    if (view.executionOrder !== undefined) execution.executionOrder = view.executionOrder;
    execution.start(view.startedAt);
    view.execution = execution;
    view.state = 'running';
    return view.endedAt;
  }

  /** Only a started execution may change outputs: a cell that never ran, saying why, starts and ends at once. */
  private startToWrite(view: CellView): void {
    if (view.state !== 'pending') return;
    view.startedAt = Date.now();
    view.execution.start(view.startedAt);
    view.state = 'running';
  }

  /** A restored cell's gathered outputs, written at once: appended to a cell that shows none yet, else in place of what it shows. */
  private async writeGathered(view: CellView): Promise<void> {
    view.unwritten = false;
    // A run started since: its outputs are not written over with the last run's.
    if (this.options.superseded?.()) return;
    if (view.cell.outputs.length === 0) await view.execution.appendOutput(view.outputs);
    else await setOutputs(view.execution, view.outputs);
  }

  /** Shows an output in its cell: in place of the placeholder if one is still there, else after the others. */
  private async show(view: CellView, output: vscode.NotebookCellOutput): Promise<void> {
    if (view.outputs.includes(output)) return;
    this.startToWrite(view);
    if (this.gathering) {
      view.outputs.push(output);
      view.unwritten = true;
      return;
    }
    if (view.placeholder) {
      view.outputs.splice(view.outputs.indexOf(view.placeholder), 1, output);
      view.placeholder = undefined;
      await setOutputs(view.execution, view.outputs);
      return;
    }
    view.outputs.push(output);
    await view.execution.appendOutput(output);
  }

  private async update(view: CellView, output: vscode.NotebookCellOutput, value: string): Promise<void> {
    this.setItems(output, value);
    this.startToWrite(view);
    if (view.outputs.includes(output) && this.gathering) view.unwritten = true;
    else if (view.outputs.includes(output)) await view.execution.replaceOutputItems(output.items, output);
    else await this.show(view, output);
  }

  async handle(event: EngineEvent): Promise<void> {
    await this.opened;
    if (this.ended) return;
    switch (event.type) {
      case 'cell': {
        // The runtime says when each cell's work starts and ends: from now on only it does.
        this.lifecycleSeen = true;
        const view = this.views.get(event.cell);
        if (!view) return;
        if (event.state === 'started') await this.begin(event.cell);
        else if (event.state === 'finished') await this.endCell(view, true, Date.now());
        else {
          if (event.reason) await this.show(view, text(`not run: ${event.reason}`));
          await this.endCell(view, undefined, Date.now());
        }
        return;
      }
      case 'cellOutput': {
        const view = await this.begin(event.cell);
        if (view) await this.show(view, text(event.text));
        return;
      }
      case 'progress': {
        const view = await this.begin('train');
        if (this.lastProgress === 0) this.mark('first progress');
        const now = Date.now();
        if (now - this.lastProgress < (this.options.interval?.() ?? 0)) return;
        this.lastProgress = now;
        if (view) await this.update(view, this.progressOutput, progressLine(event));
        if (view) await this.showChart(view);
        this.options.onStatus?.({ notebook: this.notebook, cell: this.trainCell, text: progressStatus(event) });
        return;
      }
      case 'metrics': {
        await this.chartRecord(event.record);
        if (event.record.kind !== 'epoch') return;
        this.epochLines.set(event.record.epoch, epochLine(event.record));
        const view = await this.begin('train');
        if (view) await this.update(view, this.epochOutput, this.epochText());
        return;
      }
      case 'image':
        await this.showImage(event);
        return;
      case 'runFolder':
        this.runDir = event.runDir;
        return;
      case 'log': {
        if (event.level === 'info') return;
        const view = this.runningView() ?? this.views.get('train');
        if (view) await this.show(view, text(`${event.level}: ${event.message}`));
        return;
      }
    }
  }

  /**
   * The train cell's chart, shown once (after the progress line). A restored run's chart is its
   * whole recorded history, drawn from the output item alone.
   */
  private async showChart(view: CellView): Promise<void> {
    if (this.chart || !this.options.charts || view.kind !== 'train') return;
    const history = this.options.chartHistory;
    if (this.options.mode === 'restore' && !history?.steps.length && !history?.epochs.length) return;
    const model = new TrainingChart(this.id, this.options.chartHistory, this.options.mode !== 'restore');
    if (model.live) this.options.store.add(this.options.charts.register(model));
    this.chart = { model, output: new vscode.NotebookCellOutput([model.item()]) };
    await this.show(view, this.chart.output);
  }

  /**
   * A logged step goes to the live chart as it arrives, ahead of the output writes queued before it
   * (T2: the progress line's and the views' writes can hold that queue for seconds). Says whether
   * it was taken, so that it is not queued as well.
   */
  chartNow(record: MetricsRecord): boolean {
    if (record.kind !== 'train' || this.ended || !this.chart?.model.live || !this.options.charts) return false;
    if (this.chart.model.add(record)) this.options.charts.changed();
    return true;
  }

  /** A live run's metrics extend the chart by message; an epoch's end also re-sends its snapshot (at most once an epoch). */
  private async chartRecord(record: MetricsRecord): Promise<void> {
    const view = this.views.get('train');
    if (!view || !this.options.charts) return;
    if (this.options.mode === 'restore') {
      // The history came from metrics.jsonl: recorded epoch events only say where the chart goes.
      if (record.kind === 'epoch') await this.showChart(view);
      return;
    }
    if (record.kind !== 'train' && record.kind !== 'epoch' && record.kind !== 'resume') return;
    if (!this.chart) await this.showChart((await this.begin('train')) ?? view);
    const chart = this.chart;
    if (!chart || !chart.model.add(record)) return;
    this.options.charts.changed();
    if (record.kind === 'epoch') await this.replaceChart(view);
  }

  private async replaceChart(view: CellView): Promise<void> {
    if (!this.chart || !view.outputs.includes(this.chart.output) || view.state !== 'running') return;
    const item = this.chart.model.item();
    this.chart.output.items.splice(0, this.chart.output.items.length, item);
    await view.execution.replaceOutputItems(item, this.chart.output);
  }

  /** An image goes to its own cell only (an analysis cell never shows the train cell's grid, nor the reverse). */
  private async showImage(event: ImageEvent): Promise<void> {
    if (!this.views.has(event.cell)) return;
    if (!this.runDir) {
      this.options.log.warn(`not showing ${event.path}: the run folder is not known yet`);
      return;
    }
    if (await this.showImageView(event)) return;
    let bytes: Buffer;
    try {
      bytes = await readImageInside(this.runDir, event.path);
    } catch (error) {
      this.options.log.warn(`not showing an image: ${(error as Error).message}`);
      return;
    }
    const view = (await this.begin(event.cell))!;
    const rows = (event as { rows?: readonly string[] }).rows;
    const caption = gridCaption({ cell: event.cell, kind: event.kind, epoch: event.epoch, rows }, this.options.modelKind);
    const items = [new vscode.NotebookCellOutputItem(bytes, 'image/png'), vscode.NotebookCellOutputItem.json({ cell: event.cell, kind: event.kind, epoch: event.epoch }, IMAGE_MIME)];
    // During training the newest grid of each kind replaces the previous one, caption and all.
    const key = `${event.cell}:${event.kind}`;
    const existing = this.grids.get(key);
    if (existing) {
      await this.update(view, existing.caption, caption);
      existing.image.items.splice(0, existing.image.items.length, ...items);
      if (this.gathering) view.unwritten = true;
      else await view.execution.replaceOutputItems(items, existing.image);
      return;
    }
    const grid = { caption: text(caption), image: new vscode.NotebookCellOutput(items, { kind: event.kind, epoch: event.epoch }) };
    this.grids.set(key, grid);
    await this.show(view, grid.caption);
    await this.show(view, grid.image);
  }

  /**
   * The cell's image view in place of its grid, when the run folder has views (else false: a run
   * folder written before them shows its PNGs, as does one whose views are refused, with a
   * warning). The train cell's view is loaded once, then takes each new epoch: its item replaced
   * once an epoch, and the renderers showing it told by message.
   */
  private async showImageView(event: ImageEvent): Promise<boolean> {
    const images = this.options.images;
    const mode = IMAGE_VIEW_MODES[event.cell];
    if (!images || !mode || !this.runDir || this.imageViewsRefused.has(event.cell)) return false;
    const existing = this.imageViews.get(event.cell);
    if (existing) {
      // A restored run folder does not change: its later events name epochs the view already has.
      if (this.options.mode === 'restore') return true;
      try {
        if (await existing.model.refresh()) {
          await this.replaceImageView(event.cell);
          images.announce(existing.model);
        }
      } catch (error) {
        this.options.log.warn(`the image view keeps its last epoch: ${(error as Error).message}`);
      }
      return true;
    }
    let model: ImageView | undefined;
    try {
      const sampleCaption = event.cell === 'sample' && event.rows?.length ? event.rows.join(' · ') : undefined;
      model = await ImageView.load({ runDir: this.runDir, mode, live: this.options.mode !== 'restore' && event.cell === 'train', ...(sampleCaption ? { sampleCaption } : {}) });
    } catch (error) {
      this.imageViewsRefused.add(event.cell);
      const reason = `the image view is not shown: ${(error as Error).message}`;
      this.options.log.warn(reason);
      const view = await this.begin(event.cell);
      if (view) await this.show(view, text(`warning: ${reason}. The PNG grid is shown instead.`));
      return false;
    }
    if (!model) return false;
    const view = (await this.begin(event.cell))!;
    const entry = { model, output: new vscode.NotebookCellOutput([imageViewItem(model)]) };
    this.imageViews.set(event.cell, entry);
    images.register(model, { notebook: this.notebook.uri.toString(), cell: view.cell.document.uri.toString() });
    await this.show(view, entry.output);
    return true;
  }

  private async replaceImageView(kind: CellName): Promise<void> {
    const view = this.views.get(kind);
    const entry = this.imageViews.get(kind);
    if (!view || !entry || !view.outputs.includes(entry.output) || view.state !== 'running') return;
    const item = imageViewItem(entry.model);
    entry.output.items.splice(0, entry.output.items.length, item);
    await view.execution.replaceOutputItems(item, entry.output);
  }

  /** Training is over: the train cell's view says no more epochs will come. */
  private async endLiveImageView(): Promise<void> {
    const entry = this.imageViews.get('train');
    if (!entry?.model.live) return;
    entry.model.live = false;
    await this.replaceImageView('train');
    this.options.images?.announce(entry.model);
  }

  private runningView(): CellView | undefined {
    return [...this.views.values()].filter((view) => view.state === 'running').at(-1);
  }

  /** The run's end: the train cell's summary, and each cell marked for what happened to it. */
  async finish(result: RunResult, restoredFrom?: Date): Promise<void> {
    await this.opened;
    if (this.ended) return;
    this.ended = true;
    if (this.gathering && this.options.superseded?.()) {
      for (const view of this.views.values()) if (view.hasExecution && view.state !== 'ended') view.execution.end(undefined);
      return;
    }
    this.runDir = result.runDir || this.runDir;
    const at = this.options.mode === 'restore' ? undefined : Date.now();
    const notRun = notRunLine(result.status);
    await settleEach(this.views.values(), async (view) => {
      if (view.kind !== 'train' && view.state === 'ended') return;
      // Stopped is not failed (no red): the train cell says where it stopped and how to go on.
      const trainSuccess = result.status === 'diverged' ? false : result.status === 'stopped' ? undefined : true;
      const success = view.kind === 'train' ? trainSuccess : notRun && isAnalysisCell(view.kind) ? undefined : true;
      let endedAt = at;
      try {
        if (view.kind === 'train') {
          if (view.state === 'ended') endedAt = this.reopen(view);
          const summary = summaryLines(result, restoredFrom).join('\n');
          await this.update(view, this.progressOutput, summary);
          if (this.chart?.model.live) {
            this.chart.model.live = false;
            await this.replaceChart(view);
          } else if (this.options.mode === 'restore') await this.showChart(view);
          await this.endLiveImageView();
        } else if (notRun && isAnalysisCell(view.kind)) await this.show(view, text(notRun));
      } finally {
        await this.endCell(view, success, endedAt);
      }
    });
  }

  /**
   * The cell an error names by its line ("file.aexp:24:1: error: …", as the runtime locates a
   * problem in the experiment): the error is that cell's, not the one that happened to be running.
   */
  private locatedView(error: SerializedError | Error): CellView | undefined {
    const located = /^(.*):(\d+):\d+: error: /.exec(error.message.split('\n')[0]);
    if (!located || path.basename(located[1]) !== path.basename(this.notebook.uri.fsPath)) return undefined;
    const index = cellAtLine(this.textAtStart, Number(located[2]));
    const cell = index === undefined ? undefined : this.cellsAtStart[index];
    return [...this.views.values()].find((view) => view.cell === cell && view.state !== 'ended');
  }

  /** A restored run that has no summary: says so on the train cell. */
  async endUnfinished(message: string): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    const train = this.views.get('train');
    try {
      if (train) await this.showChart(train);
      if (train) await this.show(train, text(message));
    } finally {
      await settleEach(this.views.values(), (view) => this.endCell(view, undefined, undefined));
    }
  }

  /**
   * The run failed part way (an error from the runtime, or the runtime went away): the error is
   * shown on the cell that was running (else the first that had not finished), which ends red;
   * cells already done keep their ✓, cells that never started say why, and every other cell ends.
   */
  async fail(error: SerializedError | Error): Promise<void> {
    await this.opened;
    if (this.ended) return;
    this.ended = true;
    const views = [...this.views.values()];
    const blamed = this.locatedView(error) ?? this.runningView() ?? views.find((view) => view.state !== 'ended');
    if (!blamed) return;
    const train = this.views.get('train');
    await settleEach([blamed, ...views.filter((view) => view !== blamed)], async (view) => {
      if (view.state === 'ended') return;
      try {
        if (view === blamed) {
          if (this.options.mode === 'continue' && this.lastProgress === 0 && train) await this.update(train, this.progressOutput, 'not resumed: the run could not continue');
          await this.show(blamed, errorOutput(error));
        } else if (view.state === 'pending') await this.show(view, text(`not run: the ${blamed.kind} cell failed`));
      } finally {
        await this.endCell(view, view === blamed ? false : undefined, Date.now());
      }
    });
  }

  /** Nothing could run (an untrusted workspace, a runtime that would not start): every cell ends red, the reason on the first. */
  async refuse(error: SerializedError): Promise<void> {
    await this.opened;
    if (this.ended) return;
    this.ended = true;
    const views = [...this.views.values()];
    const main = this.views.get('train') ?? views[0];
    try {
      if (this.options.mode === 'continue' && main) await this.update(main, this.progressOutput, 'not resumed: the run could not continue');
      if (main) await this.show(main, errorOutput(error));
    } finally {
      await settleEach(views, (view) => this.endCell(view, false, Date.now()));
    }
  }
}
