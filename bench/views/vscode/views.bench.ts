/**
 * The views' targets that need the real editor, measured inside VS Code (code-server; this code
 * runs in the extension host, beside the extension): one training run of 60 epochs in a notebook,
 * then the notebook reopened. Writes what it measured as JSON to LATENT_LAB_BENCH_RESULTS.
 *
 * - T2: a logged step's record (its `time`, written by the runtime) → the animation frame after the
 *   chart drew it (the renderer stamps `data-last-step` on its root after each update; an observer
 *   put in the page notes the next frame).
 * - T10: the extension host's event-loop delay while the run trains (perf_hooks), and again while the
 *   Latent Explorer encodes and decodes on a drag and the Runs panel lists 50 runs and overlays ten.
 * - T4: the largest `append` message and output item of the run: its metrics.jsonl through the
 *   host's own TrainingChart, records coalesced per update interval by their time, as ChartChannel sends them.
 * - T6: the notebook reopened → the frame after its image view shows an epoch and its chart its steps.
 * - T5: the image view scrubbed to epochs it has not shown (the host reads their frames) and then to
 *   the same epochs again (cached), each until the view has drawn it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as vscode from 'vscode';
import { CHART_MESSAGE_INTERVAL_MS, TrainingChart } from '../../../extension/chart-output';
import type { LatentLabApi } from '../../../extension/extension';
import type { MetricsRecord } from '../../../runtime/protocol';
import { writeRun } from '../../../test/helpers/written-runs';
import { cellOfKind, evaluateInFrames, EXTENSION_ID, openNotebook, waitFor, workspaceFolder } from '../../../test/vscode/support';

const EPOCHS = 60;
const CHART_MIME = 'application/vnd.latent-lab.chart+json';
const IMAGES_MIME = 'application/vnd.latent-lab.images+json';
/** The event-loop monitor's sampling interval: each sample is the interval plus the delay, so the interval is taken off. */
const LOOP_RESOLUTION_MS = 10;

export interface ViewsMeasurements {
  paintLatencyMs: number[];
  eventLoopDelayMs: { p50: number; p95: number; max: number };
  /** While the explorer encodes and decodes on a drag and the Runs panel lists and overlays runs. */
  panelsLoopDelayMs: { p50: number; p95: number; max: number };
  /** Decodes the host sent during that drag. */
  explorerDecodes: number;
  appendBytes: number[];
  snapshotBytes: number[];
  reopenImagesMs: number[];
  reopenChartMs: number[];
  /** Per reopen, ms from the open command to each step of the restore (-1: not seen). */
  reopenPhases: Record<'documentOpened' | 'editorShown' | 'chartOutput' | 'imagesOutput' | 'restoreEnded' | 'chartDrawn' | 'chartPainted' | 'imagesDrawn' | 'imagesPainted', number>[];
  /** Per logged step painted: ms from its record to the renderer drawing it (the paint follows in the next frame). */
  drawLatencyMs: number[];
  /** Per logged step painted: ms from its record to the host sending the message that brought it (steps that came in an output item have none). */
  sentLatencyMs: number[];
  /** Reopens whose observer came after the view was already drawn: their time is an upper bound. */
  lateObservers: number;
  scrubUncachedMs: number[];
  scrubCachedMs: number[];
  epochs: number;
  loggedSteps: number;
  backend: string | undefined;
  updateIntervalMs: number;
}

function itemOf(cell: vscode.NotebookCell, mime: string): Record<string, unknown> | undefined {
  const item = cell.outputs.flatMap((output) => output.items).find((candidate) => candidate.mime === mime);
  return item ? (JSON.parse(new TextDecoder().decode(item.data)) as Record<string, unknown>) : undefined;
}

/** Asks the page until a frame answers (not null), or fails after the timeout. */
async function inPage<T>(what: string, expression: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await evaluateInFrames(expression);
    if (value !== null && value !== undefined) return value as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Runs the Runs panel lists beside the benchmark's own, and how many of them are overlaid. */
const PANEL_RUNS = 50;
const OVERLAID = 10;

/** The explorer's page once every point it was sent is drawn: their count. */
const EXPLORER_DRAWN = `(() => {
  const root = document.getElementById('explorer-root');
  const canvas = root?.querySelector('canvas.scatter');
  return root?.dataset.points && canvas?.dataset.drawn === root.dataset.points ? root.dataset.points : null;
})()`;

/** A two-second drag across the scatter, a pointer move every 16 ms, as a hand makes it. */
const EXPLORER_DRAG = `(async () => {
  const canvas = document.getElementById('explorer-root')?.querySelector('canvas.scatter');
  if (!canvas) return null;
  const box = canvas.getBoundingClientRect();
  const fire = (type, at, buttons) => canvas.dispatchEvent(new PointerEvent(type, { clientX: box.left + box.width * (0.2 + 0.6 * at), clientY: box.top + box.height * (0.3 + 0.4 * at), buttons, button: 0, pointerId: 1, bubbles: true }));
  fire('pointerdown', 0, 1);
  for (let move = 1; move <= 120; move++) {
    fire('pointermove', move / 120, 1);
    await new Promise((resolve) => setTimeout(resolve, 16));
  }
  fire('pointerup', 1, 0);
  return true;
})()`;

const RUNS_LISTED = (count: number) => `(() => {
  const root = document.getElementById('runs-root');
  const rows = Number(root?.querySelector('.table-wrap')?.dataset.rows ?? 0);
  return root?.dataset.listed && rows >= ${count} ? rows : null;
})()`;

const RUNS_SELECT = (runs: string[]) => `(() => {
  const root = document.getElementById('runs-root');
  if (!root) return null;
  const wanted = ${JSON.stringify(runs)};
  let clicked = 0;
  for (const row of root.querySelectorAll('tbody tr')) if (wanted.includes(row.dataset.run)) { row.click(); clicked++; }
  return clicked === wanted.length ? clicked : null;
})()`;

const RUNS_OVERLAID = (count: number) => `(() => {
  const chart = document.getElementById('runs-root')?.querySelector('[data-datasets]');
  return chart && Number(chart.dataset.datasets) >= ${count} ? Number(chart.dataset.datasets) : null;
})()`;

const chartRoot = (chartId: string) => `document.querySelector('.latent-lab-chart[data-chart-id=${JSON.stringify(chartId)}]')`;

/** Notes, for every update of the chart, the last step it drew and when the next frame came. Answers when it started. */
const WATCH_PAINTS = (chartId: string) => `(() => {
  const root = ${chartRoot(chartId)};
  if (!root) return null;
  if (!window.latentLabPaints) {
    const paints = (window.latentLabPaints = []);
    new MutationObserver(() => {
      const step = Number(root.dataset.lastStep);
      const drawn = Date.now();
      const sent = Number(root.dataset.sentAt ?? 0);
      requestAnimationFrame(() => paints.push([step, Date.now(), drawn, sent]));
    }).observe(root, { attributes: true, attributeFilter: ['data-last-step'] });
    window.latentLabPaintsSince = Date.now();
  }
  return window.latentLabPaintsSince;
})()`;
const PAINTS = `(() => (window.latentLabPaints ? JSON.stringify(window.latentLabPaints) : null))()`;

/**
 * In a notebook's webview (the one with #findStart), notes when an image view first shows an epoch
 * and a chart first shows steps (the frame after), from as early as the benchmark can reach it.
 */
const WATCH_FIRST_PAINT = `(() => {
  if (!document.getElementById('findStart')) return null;
  if (!window.latentLabFirst) {
    const first = (window.latentLabFirst = { installedAt: Date.now() });
    const note = (key, selector, ready) => {
      if (first[key + 'Seen'] !== undefined) return;
      const found = document.querySelector(selector);
      if (!found || !ready(found)) return;
      first[key + 'Seen'] = Date.now();
      requestAnimationFrame(() => { first[key] = Date.now(); });
    };
    const check = () => {
      note('images', '.latent-lab-images[data-state="ready"]', () => true);
      note('chart', '.latent-lab-chart[data-steps]', (root) => Number(root.dataset.steps) > 0);
    };
    check();
    first.alreadyDrawn = first.imagesSeen !== undefined;
    new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state', 'data-steps'] });
  }
  return JSON.stringify(window.latentLabFirst);
})()`;

/**
 * Scrubs the image view's slider to each index in turn, timing input → the view has drawn that
 * epoch (its canvas holds it; the next frame shows it): a cached epoch is drawn within the input
 * event, so its time is the work a frame must fit, as T1's is.
 */
const SCRUB = (viewId: string, indices: number[]) => `(async () => {
  const root = document.querySelector('.latent-lab-images[data-view-id=${JSON.stringify(viewId)}]');
  if (!root) return null;
  const slider = root.querySelector('input.epoch-slider');
  const times = [];
  for (const index of ${JSON.stringify(indices)}) {
    const started = performance.now();
    slider.value = String(index);
    slider.dispatchEvent(new Event('input', { bubbles: true }));
    const wanted = (slider.getAttribute('aria-valuetext') || '').replace('epoch ', '');
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => { observer.disconnect(); reject(new Error('epoch ' + wanted + ' never showed: ' + JSON.stringify(root.dataset))); }, 20000);
      const shown = () => root.dataset.epoch === wanted && root.dataset.state === 'ready';
      const done = () => { clearTimeout(timer); observer.disconnect(); times.push(performance.now() - started); resolve(); };
      const observer = new MutationObserver(() => { if (shown()) done(); });
      if (shown()) done();
      else observer.observe(root, { attributes: true });
    });
  }
  return JSON.stringify(times);
})()`;

/** The run's records as the host's chart would have sent them: one message per update interval (by the records' times), and an output item per epoch. */
function messageSizes(records: MetricsRecord[], intervalMs: number): { appendBytes: number[]; snapshotBytes: number[] } {
  const chart = new TrainingChart('bench', undefined, true);
  const appendBytes: number[] = [];
  const snapshotBytes: number[] = [];
  let windowStart: number | undefined;
  const send = () => {
    const message = chart.takeUnsent();
    if (message) appendBytes.push(Buffer.byteLength(JSON.stringify(message)));
  };
  for (const record of records) {
    const at = Date.parse(record.time);
    if (windowStart !== undefined && at >= windowStart + intervalMs) {
      send();
      windowStart = undefined;
    }
    if (!chart.add(record)) continue;
    windowStart ??= at;
    if (record.kind === 'epoch') snapshotBytes.push(chart.item().data.byteLength);
  }
  send();
  return { appendBytes, snapshotBytes };
}

function loopDelay(histogram: ReturnType<typeof monitorEventLoopDelay>): ViewsMeasurements['eventLoopDelayMs'] {
  const delay = (nanoseconds: number) => Math.max(0, nanoseconds / 1e6 - LOOP_RESOLUTION_MS);
  return { p50: delay(histogram.percentile(50)), p95: delay(histogram.percentile(95)), max: delay(histogram.max) };
}

suite('Latent Lab views benchmark', () => {
  test('a 60-epoch run in a notebook, then the notebook reopened', async () => {
    const api = await vscode.extensions.getExtension<LatentLabApi>(EXTENSION_ID)!.activate();
    const file = path.join(workspaceFolder(), 'views-bench.aexp');
    // A small VAE on 16×16 sprites: 56 steps an epoch, a record every 4 (the chart's busiest case is many small records).
    writeFileSync(file, readFileSync(path.join(workspaceFolder(), 'tiny.aexp'), 'utf8').replace('title: Tiny', 'title: Views bench').replace('count: 600', 'count: 2000').replace('epochs: 1', `epochs: ${EPOCHS}\nlog_every: 4`));
    const intervalMs = CHART_MESSAGE_INTERVAL_MS;
    let editor = await openNotebook(file);
    const train = cellOfKind(editor.notebook, 'train');

    const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    loop.enable();
    const running = vscode.commands.executeCommand('notebook.cell.execute', { ranges: [{ start: train.index, end: train.index + 1 }], document: editor.notebook.uri });
    const chartId = await waitFor('the chart output', () => itemOf(train, CHART_MIME)?.chartId as string | undefined, 180_000);
    editor.revealRange(new vscode.NotebookRange(train.index, train.index + 1), vscode.NotebookEditorRevealType.AtTop);
    const watchedSince = await inPage<number>('the chart on the page', WATCH_PAINTS(chartId));
    await running;
    await waitFor('the run to end', () => train.executionSummary?.timing?.endTime !== undefined && !api.controller.isRunning, 20 * 60_000);
    loop.disable();
    const paints = JSON.parse(await inPage<string>('the chart\'s paints', PAINTS)) as [number, number, number, number][];

    const runDir = api.controller.lastRunDir.get(editor.notebook.uri.toString());
    if (!runDir) throw new Error('the run folder is not known');
    const records = readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').split('\n').filter((line) => line.trim()).map((line) => JSON.parse(line) as MetricsRecord);
    const logged = records.filter((record) => record.kind === 'train');
    const paintLatencyMs: number[] = [];
    const drawLatencyMs: number[] = [];
    const sentLatencyMs: number[] = [];
    for (const record of logged) {
      const at = Date.parse(record.time);
      if (at < watchedSince) continue;
      const painted = paints.find(([step, when]) => step >= record.step && when >= at);
      if (!painted) continue;
      paintLatencyMs.push(painted[1] - at);
      drawLatencyMs.push(painted[2] - at);
      if (painted[3] >= at) sentLatencyMs.push(painted[3] - at);
    }
    const epochs = records.filter((record) => record.kind === 'epoch').length;
    if (epochs !== EPOCHS) throw new Error(`the run trained ${epochs} epochs, not ${EPOCHS}`);

    // Reopened: the chart and the image view come back from the run folder.
    const reopenImagesMs: number[] = [];
    const reopenChartMs: number[] = [];
    const reopenPhases: ViewsMeasurements['reopenPhases'] = [];
    let lateObservers = 0;
    let viewId = '';
    for (let reopen = 0; reopen < 3; reopen++) {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await waitFor('the notebook to close', () => !vscode.workspace.notebookDocuments.some((notebook) => notebook.uri.fsPath === file), 30_000);
      const opened = Date.now();
      const phases = watchRestore(file);
      editor = await openNotebook(file);
      const editorShown = Date.now();
      await inPage('the notebook\'s webview', WATCH_FIRST_PAINT, 30_000);
      const first = await waitForFirstPaint();
      phases.dispose();
      if (first.alreadyDrawn) lateObservers++;
      reopenImagesMs.push(first.images! - opened);
      reopenChartMs.push(first.chart! - opened);
      const since = (at: number | undefined) => (at === undefined ? -1 : at - opened);
      reopenPhases.push({ documentOpened: since(phases.at.documentOpened), editorShown: since(editorShown), chartOutput: since(phases.at.chartOutput), imagesOutput: since(phases.at.imagesOutput), restoreEnded: since(phases.at.restoreEnded), chartDrawn: since(first.chartSeen), chartPainted: since(first.chart), imagesDrawn: since(first.imagesSeen), imagesPainted: since(first.images) });
      viewId = await waitFor('the image view output', () => itemOf(cellOfKind(editor.notebook, 'train'), IMAGES_MIME)?.viewId as string | undefined, 30_000);
    }

    // Scrubbed: every other epoch once (the host reads each frame), then the same epochs again (cached).
    const indices = Array.from({ length: EPOCHS / 2 }, (_, index) => index * 2);
    const scrub = async (what: string) => {
      const times: number[] = [];
      for (let from = 0; from < indices.length; from += 10) times.push(...(JSON.parse(await inPage<string>(what, SCRUB(viewId, indices.slice(from, from + 10)), 60_000)) as number[]));
      return times;
    };
    const scrubUncachedMs = await scrub('scrubbing to epochs not seen');
    const scrubCachedMs = await scrub('scrubbing back to epochs seen');

    // T10 while the Latent Explorer and the Runs panel work: the explorer opens on the run just trained
    // (its runtime started, the test split encoded), a two-second drag decodes as it moves, the train
    // split is encoded, then the Runs panel lists 50 more runs and overlays ten of them.
    // The runs are written first: their synchronous writes here are the benchmark's, not the product's.
    const runsRoot = path.join(workspaceFolder(), '.aexp', 'runs');
    const base = Date.UTC(2026, 0, 5, 3, 0, 0);
    const written = Array.from({ length: PANEL_RUNS }, (_, index) => writeRun(runsRoot, { experiment: 'bench-panel', start: new Date(base + index * 60_000), lr: 0.001 * (1 + index), epochs: 3, stepsPerEpoch: 400, status: 'completed' }));
    const panelsLoop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    panelsLoop.enable();
    await vscode.commands.executeCommand('latentLab.exploreLatentSpace');
    await inPage<string>('the explorer\'s points', EXPLORER_DRAWN, 180_000);
    const decodesBefore = api.explorer.counts.decodeSent;
    await inPage<boolean>('a drag across the explorer', EXPLORER_DRAG, 60_000);
    await waitFor('the drag\'s decodes', () => api.explorer.counts.decodeSent > decodesBefore, 30_000);
    const explorerDecodes = api.explorer.counts.decodeSent - decodesBefore;
    const chosen = api.explorer.state.choice;
    if (!chosen) throw new Error('the explorer chose no run');
    const testPoints = api.explorer.state.points ?? 0;
    // The page's choice, as its split picker sends it: answered once the train split is encoded and sent.
    await api.explorer.receive({ type: 'choose', choice: { ...chosen, split: 'train' }, follow: false });
    if (!((api.explorer.state.points ?? 0) > testPoints)) throw new Error(`the train split was not shown: ${JSON.stringify(api.explorer.state)}`);
    await vscode.commands.executeCommand('latentLab.showRuns');
    await inPage<number>('the Runs panel\'s table', RUNS_LISTED(PANEL_RUNS), 60_000);
    await inPage<number>('ten rows selected', RUNS_SELECT(written.slice(0, OVERLAID)), 30_000);
    await inPage<number>('ten runs overlaid', RUNS_OVERLAID(OVERLAID), 60_000);
    panelsLoop.disable();
    const panelsLoopDelayMs = loopDelay(panelsLoop);

    const measurements: ViewsMeasurements = {
      panelsLoopDelayMs,
      explorerDecodes,
      paintLatencyMs,
      drawLatencyMs,
      sentLatencyMs,
      eventLoopDelayMs: loopDelay(loop),
      ...messageSizes(records, intervalMs),
      reopenImagesMs,
      reopenChartMs,
      lateObservers,
      reopenPhases,
      scrubUncachedMs,
      scrubCachedMs,
      epochs,
      loggedSteps: logged.length,
      backend: api.runtimeBackend(),
      updateIntervalMs: intervalMs,
    };
    const out = process.env.LATENT_LAB_BENCH_RESULTS;
    if (out) writeFileSync(out, JSON.stringify(measurements));
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});

interface FirstPaint {
  installedAt: number;
  alreadyDrawn: boolean;
  images?: number;
  imagesSeen?: number;
  chart?: number;
  chartSeen?: number;
}

/** When, in the extension host, the reopened notebook's document opened, its train cell got its chart and image view outputs, and its restore ended. */
function watchRestore(file: string): vscode.Disposable & { at: Partial<Record<'documentOpened' | 'chartOutput' | 'imagesOutput' | 'restoreEnded', number>> } {
  const at: Partial<Record<'documentOpened' | 'chartOutput' | 'imagesOutput' | 'restoreEnded', number>> = {};
  const note = (key: keyof typeof at) => (at[key] ??= Date.now());
  const subscriptions = [
    vscode.workspace.onDidOpenNotebookDocument((notebook) => notebook.uri.fsPath === file && note('documentOpened')),
    vscode.workspace.onDidChangeNotebookDocument(({ notebook }) => {
      if (notebook.uri.fsPath !== file) return;
      const train = notebook.getCells().find((cell) => cell.outputs.some((output) => output.items.some((item) => item.mime === CHART_MIME)));
      if (!train) return;
      note('chartOutput');
      if (itemOf(train, IMAGES_MIME)) note('imagesOutput');
      if (train.executionSummary?.timing?.endTime !== undefined) note('restoreEnded');
    }),
  ];
  return { at, dispose: () => subscriptions.forEach((subscription) => subscription.dispose()) };
}

async function waitForFirstPaint(): Promise<FirstPaint> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const first = JSON.parse(await inPage<string>('the reopened notebook\'s views', WATCH_FIRST_PAINT, 30_000)) as FirstPaint;
    if (first.images !== undefined && first.chart !== undefined) return first;
    if (Date.now() > deadline) throw new Error(`the reopened notebook did not draw its views: ${JSON.stringify(first)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
