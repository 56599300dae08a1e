/**
 * The Runs panel in a real VS Code: run folders written with the run-folder module (not trained)
 * under the workspace's runs folder, listed, selected, overlaid, restored and deleted through the
 * page as a person uses it.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import type { LatentLabApi } from '../../extension/extension';
import { listRuns } from '../../extension/runs-index';
import { chooseCsvFileByDialog, confirmModal, RUNS_VIEW_TYPE } from '../../extension/runs-panel';
import { MetricsLog } from '../../runtime/run-folder';
import { acquireRunLock } from '../../runtime/run-lock';
import { runFolderName, writeRun } from '../helpers/written-runs';
import { writeSweep } from '../helpers/written-sweep';
import { evaluateInFrames, EXTENSION_ID, screenshot, screenshotInThemes, waitFor, workspaceFolder } from './support';

/** Steps each written run logs: its whole curve is drawn (fewer points than the canvas has columns). */
const STEPS = 30;

/** Evaluates `body` in the panel's frame (the one holding #runs-root), with `root` bound to it. */
function inPanel<T>(body: string): Promise<T | null> {
  return evaluateInFrames(`(() => { const root = document.getElementById('runs-root'); if (!root) return null; ${body} })()`) as Promise<T | null>;
}

async function waitInPanel<T>(what: string, body: string, accept: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const last = await inPanel<T>(body);
    if (last !== null && accept(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last seen: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Clicks the rows of these runs in the table, as a person selects them. */
function clickRows(runs: string[]): Promise<unknown> {
  return inPanel(`const wanted = ${JSON.stringify(runs)}; let clicked = 0; for (const row of root.querySelectorAll('tbody tr')) if (wanted.includes(row.dataset.run)) { row.click(); clicked++; } return clicked;`);
}

const CHART_STATE = `const chart = root.querySelector('[data-datasets]'); return chart ? { datasets: Number(chart.dataset.datasets), points: Number(chart.dataset.points), highlighted: chart.dataset.highlighted } : null;`;

/** The row of a run in the page's table, as a JavaScript expression. */
function row(run: string): string {
  return `[...root.querySelectorAll('tbody tr')].find((candidate) => candidate.dataset.run === ${JSON.stringify(run)})`;
}

suite('Runs panel', () => {
  let api: LatentLabApi;
  let runsRoot: string;
  /** Three runs of one experiment that differ in their learning rate, tested on the same images. */
  let compared: string[];
  /** A run of another experiment, tested on other images. */
  let otherSplit: string;

  suiteSetup(async () => {
    api = await vscode.extensions.getExtension<LatentLabApi>(EXTENSION_ID)!.activate();
    runsRoot = path.join(workspaceFolder(), '.aexp', 'runs');
    const base = Date.UTC(2026, 0, 2, 3, 0, 0);
    compared = [0.001, 0.003, 0.01].map((lr, index) => writeRun(runsRoot, { experiment: 'panel-compare', start: new Date(base + index * 60_000), lr, epochs: 3, stepsPerEpoch: STEPS / 3, status: 'completed', views: true }));
    otherSplit = writeRun(runsRoot, { experiment: 'panel-other', start: new Date(base + 10 * 60_000), epochs: 3, stepsPerEpoch: STEPS / 3, status: 'stopped', views: true, examples: [5, 6, 7, 8] });
  });

  suiteTeardown(() => {
    // The suites after this one find only their own runs.
    for (const name of readdirSync(runsRoot).filter((entry) => entry.startsWith('panel-'))) rmSync(path.join(runsRoot, name), { recursive: true, force: true });
    for (const tab of vscode.window.tabGroups.all.flatMap((group) => group.tabs)) if (tab.input instanceof vscode.TabInputWebview && tab.input.viewType.endsWith(RUNS_VIEW_TYPE)) void vscode.window.tabGroups.close(tab);
  });

  test('Show Runs lists every run of the workspace', async () => {
    await vscode.commands.executeCommand('latentLab.showRuns');
    const expected = (await listRuns([runsRoot])).length;
    const listed = await waitInPanel<number>('the table', `return root.dataset.listed ? Number(root.querySelector('.table-wrap').dataset.rows) : null;`, (count) => count >= expected);
    assert.equal(listed, (await listRuns([runsRoot])).length, 'every run folder under the runs folder is a row');
    for (const run of [...compared, otherSplit]) assert.ok(api.runs.panel!.state.listed.includes(run), `${run} is listed`);
    const cells = await inPanel<string[]>(`return [...${row(compared[0])}.cells].map((cell) => cell.textContent);`);
    assert.ok(cells?.some((text) => text === `panel-compare/${runFolderName(new Date(Date.UTC(2026, 0, 2, 3, 0, 0)))}`), JSON.stringify(cells));
    assert.ok(cells?.includes('completed'), JSON.stringify(cells));
    assert.ok(cells?.some((text) => /nats/.test(text)), 'test losses are shown in their units');
  });

  test('selecting runs overlays their curves, shows the config keys that differ, highlights a hovered row\'s curve and puts their reconstructions side by side', async () => {
    await vscode.commands.executeCommand('latentLab.showRuns');
    await waitInPanel('the table', `return root.dataset.listed ?? null;`, Boolean);
    await clickRows(compared);
    const chart = await waitInPanel<{ datasets: number; points: number }>('three curves', CHART_STATE, (state) => state.datasets === 3 && state.points === 3 * STEPS);
    assert.equal(chart.points, 3 * STEPS, 'every logged step of each run is drawn');
    assert.deepEqual([...api.runs.panel!.state.selected].sort(), [...compared].sort());
    const headers = await inPanel<string[]>(`return [...root.querySelectorAll('th.config')].map((cell) => cell.textContent);`);
    assert.deepEqual(headers, ['train.lr'], 'only the key that differs between the selected runs is a column');
    await inPanel(`${row(compared[1])}.dispatchEvent(new MouseEvent('mouseenter')); return true;`);
    await waitInPanel<{ highlighted: string }>('the hovered run\'s curve highlighted', CHART_STATE, (state) => state.highlighted === compared[1]);
    const views = await waitInPanel<{ epoch: string; runs: string; shared: string }>('the reconstructions', `const views = root.querySelector('[data-runs]'); return views ? { ...views.dataset } : null;`, (state) => state.runs === '3');
    assert.equal(views.epoch, '3', 'the newest epoch they all have');
    assert.equal(views.shared, 'true', 'runs tested on the same images share one row of inputs');
    // Another epoch by its slider: every run's reconstructions of that epoch.
    await inPanel(`const slider = root.querySelector('input[aria-label="epoch of the reconstructions"]'); slider.value = '1'; slider.dispatchEvent(new Event('input')); return true;`);
    await waitInPanel('the reconstructions of epoch 2', `const views = root.querySelector('[data-runs]'); return views ? { ...views.dataset } : null;`, (state: { epoch: string; runs: string }) => state.epoch === '2' && state.runs === '3');
    // The panel as wide as the window, as a person comparing runs would have it.
    await vscode.commands.executeCommand('workbench.action.closeSidebar');
    await vscode.commands.executeCommand('workbench.action.closeAuxiliaryBar');
    await screenshotInThemes('runs-panel');
    await vscode.commands.executeCommand('workbench.view.explorer');
    // A run tested on other images shows its own inputs.
    await clickRows([otherSplit]);
    const mixed = await waitInPanel<{ runs: string; shared: string }>('four runs\' reconstructions', `const views = root.querySelector('[data-runs]'); return views ? { ...views.dataset } : null;`, (state) => state.runs === '4');
    assert.equal(mixed.shared, 'false');
    await clickRows([otherSplit, ...compared]);
    await waitInPanel('no curves', CHART_STATE, (state: { datasets: number }) => state.datasets === 0);
  });

  test('five runs of a trial: what a person compares is on screen in a 1400-pixel window, and each selected run is labelled by what differs', async () => {
    // As config.json stores them: every model default whatever the kind (beta 4 for a plain vae), and the native backend's long device.
    const defaults = { beta: 4, sparsity: 1, noise: 0.3, mask_ratio: 0.75, kl_warmup: 0 };
    const device = 'AMD EPYC (2 cores), native kernels (AVX2), OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Cooperlake MAX_THREADS=64 (Cooperlake kernels), 2 threads';
    const base = Date.UTC(2026, 5, 1, 9, 0, 0);
    const trial = [
      { seed: 7, lr: 0.001, kind: 'vae', model: defaults },
      { seed: 8, lr: 0.001, kind: 'vae', model: defaults },
      { seed: 9, lr: 0.001, kind: 'vae', model: defaults },
      { seed: 7, lr: 0.003, kind: 'vae', model: defaults },
      { seed: 7, lr: 0.001, kind: 'beta-vae', model: { ...defaults, beta: 2 } },
    ].map((run, index) => writeRun(runsRoot, { experiment: 'panel-trial', start: new Date(base + index * 60_000), ...run, device, epochs: 2, stepsPerEpoch: 5, status: 'completed', views: true }));
    const expected = ['seed 7 · model.kind vae · train.lr 0.001', 'seed 8 · model.kind vae · train.lr 0.001', 'seed 9 · model.kind vae · train.lr 0.001', 'seed 7 · model.kind vae · train.lr 0.003', 'seed 7 · model.kind beta-vae · train.lr 0.001'];
    await vscode.commands.executeCommand('workbench.action.closeSidebar');
    await vscode.commands.executeCommand('workbench.action.closeAuxiliaryBar');
    try {
      await vscode.commands.executeCommand('latentLab.showRuns');
      await inPanel(`root.querySelector('vscode-button[aria-label="Refresh"]').click(); return true;`);
      await waitInPanel('the trial\'s runs in the table', `return ${trial.map((run) => `Boolean(${row(run)})`).join(' && ')};`, Boolean);
      await inPanel(`const search = root.querySelector('vscode-textfield'); search.value = 'panel-trial'; search.dispatchEvent(new Event('input')); return true;`);
      await waitInPanel<number>('the search to keep the five', `return Number(root.querySelector('.table-wrap').dataset.rows);`, (rows) => rows === 5);
      await inPanel(`root.querySelector('vscode-button[aria-label="Select Shown"]').click(); return true;`);
      await waitInPanel('five curves', CHART_STATE, (state: { datasets: number }) => state.datasets === 5);
      // Every item checked, its failure kept: one run of the test says all that is wrong.
      const problems: string[] = [];
      const check = async (what: string, body: () => Promise<void>) => {
        try {
          await body();
        } catch (error) {
          problems.push(`${what}: ${(error as Error).message}`);
        }
      };
      const SETTLE = 15_000;
      await check('columns', async () => {
        // beta applies to the beta-vae run alone: the plain vae runs have none, so it differs from nothing.
        await waitInPanel<string[]>('the keys that differ between the five', `return [...root.querySelectorAll('th.config')].map((cell) => cell.textContent);`, (keys) => keys.join() === 'seed,model.kind,train.lr', SETTLE);
      });
      await check('layout', async () => {
        const layout = await inPanel<{ firstKey: number; actions: number; visible: number }>(`const wrap = root.querySelector('.table-wrap'); const left = wrap.querySelector('table').getBoundingClientRect().left;
          const header = (title) => [...wrap.querySelectorAll('thead th')].find((cell) => cell.textContent === title).getBoundingClientRect();
          return { firstKey: wrap.querySelector('th.config').getBoundingClientRect().left - left, actions: header('actions').right - left, visible: wrap.clientWidth };`);
        console.log(`[runs] trial layout: ${JSON.stringify(layout)}`);
        assert.ok(layout && layout.firstKey < 1000, `the first differing key starts at ${layout?.firstKey} px of the table`);
        assert.ok(layout && layout.actions <= layout.visible, `the actions end at ${layout?.actions} px, past the ${layout?.visible} px the table shows without scrolling`);
        const backend = await inPanel<{ text: string; title: string }>(`const cell = ${row(trial[0])}.querySelector('.clip.backend'); return cell ? { text: cell.textContent, title: cell.title } : { text: '', title: '' };`);
        assert.deepEqual(backend, { text: 'cpu · AMD EPYC (2 cores)', title: `cpu · ${device}` }, 'the device short, whole in its tooltip');
      });
      // Each selected run by what differs, where runs are told apart: the legend, the reconstructions and the row's hover.
      await check('legend', async () => {
        await waitInPanel<string[]>('the legend\'s labels', `return ${JSON.stringify(trial)}.map((run) => [...root.querySelectorAll('.legend .entry')].find((entry) => entry.dataset.run === run)?.textContent);`, (labels) => JSON.stringify(labels) === JSON.stringify(expected), SETTLE);
      });
      await check('reconstructions', async () => {
        await waitInPanel<string[]>('the reconstruction rows\' labels', `return ${JSON.stringify(trial)}.map((run) => [...root.querySelectorAll('.views canvas[data-run]')].find((canvas) => canvas.dataset.run === run)?.previousElementSibling.textContent);`, (labels) => JSON.stringify(labels) === JSON.stringify(expected), SETTLE);
      });
      await check('row hover', async () => {
        const titles = await inPanel<string[]>(`return [${trial.map((run) => `${row(run)}.title`).join(', ')}];`);
        assert.deepEqual(titles?.map((title) => title.split('\n')[0]), expected);
      });
      assert.deepEqual(problems, []);
      await screenshotInThemes('runs-trial');
    } finally {
      await inPanel(`root.querySelector('vscode-button[aria-label="Clear Selection"]').click(); const search = root.querySelector('vscode-textfield'); search.value = ''; search.dispatchEvent(new Event('input')); return true;`);
      await waitInPanel('no curves', CHART_STATE, (state: { datasets: number }) => state.datasets === 0);
      await vscode.commands.executeCommand('workbench.view.explorer');
    }
  });

  test('a run that logged no per-step records (fewer steps than log_every) shows its per-epoch loss, and says so', async () => {
    const short = writeRun(runsRoot, { experiment: 'panel-short', start: new Date(Date.UTC(2026, 5, 2, 0, 0, 0)), epochs: 1, stepsPerEpoch: 3, stepRecords: false, status: 'completed' });
    await vscode.commands.executeCommand('latentLab.showRuns');
    await inPanel(`root.querySelector('vscode-button[aria-label="Refresh"]').click(); return true;`);
    await waitInPanel('the short run in the table', `return Boolean(${row(short)});`, Boolean);
    await clickRows([short]);
    const chart = await waitInPanel<{ datasets: number; points: number; series: string; note: string }>('its curve', `const chart = root.querySelector('[data-datasets]'); return chart ? { datasets: Number(chart.dataset.datasets), points: Number(chart.dataset.points), series: chart.dataset.series, note: chart.querySelector('.series-note')?.textContent ?? '' } : null;`, (state) => state.datasets === 1 && state.points > 0);
    assert.equal(chart.points, 1, 'its one epoch');
    assert.equal(chart.series, 'train-loss');
    assert.match(chart.note, /no selected run logged a loss per step.*train loss per epoch/);
    await screenshot('runs-short-run');
    await clickRows([short]);
    await waitInPanel('no curves', CHART_STATE, (state: { datasets: number }) => state.datasets === 0);
  });

  test('a running run\'s curve follows its metrics.jsonl', async () => {
    const running = writeRun(runsRoot, { experiment: 'panel-running', start: new Date(Date.UTC(2026, 0, 5, 0, 0, 0)), epochs: 3, stepsPerEpoch: STEPS / 3 });
    // Held by this process, which is alive: the run is training as far as anyone can tell.
    const lock = acquireRunLock(running);
    try {
      await vscode.commands.executeCommand('latentLab.showRuns');
      await inPanel(`root.querySelector('vscode-button[aria-label="Refresh"]').click(); return true;`);
      await waitInPanel<string>('the running run listed as running', `const line = ${row(running)}; return line ? line.querySelector('.status').textContent : null;`, (status) => status === 'running');
      await clickRows([running]);
      await waitInPanel('its curve', CHART_STATE, (state: { datasets: number; points: number }) => state.datasets === 1 && state.points === STEPS);
      const log = new MetricsLog(running);
      for (let step = STEPS + 1; step <= STEPS + 5; step++) log.append({ kind: 'train', epoch: 4, step, time: new Date(Date.UTC(2026, 0, 5, 0, 1, step)).toISOString(), loss: 1, reconstruction: 1, lr: 0.001 });
      log.close();
      await waitInPanel('the new steps drawn', CHART_STATE, (state: { points: number }) => state.points === STEPS + 5);
      await clickRows([running]);
    } finally {
      lock.release();
    }
  });

  test('the panel hidden behind another editor and shown again keeps its selection (its page is rebuilt)', async () => {
    await vscode.commands.executeCommand('latentLab.showRuns');
    await waitInPanel('the table', `return root.dataset.listed ?? null;`, Boolean);
    await clickRows(compared.slice(0, 2));
    await waitInPanel('two curves', CHART_STATE, (state: { datasets: number }) => state.datasets === 2);
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument({ content: 'another editor' }), { viewColumn: api.runs.panel!.panel.viewColumn });
    await waitFor('the panel hidden', () => !api.runs.panel!.panel.visible, 10_000);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    await vscode.commands.executeCommand('latentLab.showRuns');
    await waitInPanel('the two curves again', CHART_STATE, (state: { datasets: number; points: number }) => state.datasets === 2 && state.points === 2 * STEPS);
    await clickRows(compared.slice(0, 2));
    await waitInPanel('no curves', CHART_STATE, (state: { datasets: number }) => state.datasets === 0);
  });

  test('the panel comes back with its selection when VS Code restores it (the serializer)', async () => {
    await vscode.commands.executeCommand('latentLab.showRuns');
    const state = { selected: compared.slice(0, 2), x: 'epoch', series: 'test-loss' };
    api.runs.panel!.panel.dispose();
    // What VS Code does after a window reload: a panel of the registered type, handed to the serializer with the page's last state.
    const panel = vscode.window.createWebviewPanel(RUNS_VIEW_TYPE, 'Runs', vscode.ViewColumn.Active, { enableScripts: true });
    await api.runs.deserializeWebviewPanel(panel, state);
    const chart = await waitInPanel<{ datasets: number; points: number }>('the restored selection\'s curves', CHART_STATE, (value) => value.datasets === 2 && value.points === 2 * 3);
    assert.equal(chart.points, 6, 'two runs, one test loss per epoch');
    assert.deepEqual(api.runs.panel!.state.selected, compared.slice(0, 2));
    // The next test starts from a new panel, with no state.
    api.runs.panel!.panel.dispose();
  });

  test('50 runs load and overlay', async () => {
    const base = Date.UTC(2026, 1, 3, 4, 0, 0);
    const fifty = Array.from({ length: 50 }, (_, index) => writeRun(runsRoot, { experiment: `panel-fifty-${index % 5}`, start: new Date(base + index * 60_000), lr: 0.001 * (1 + index), seed: index, epochs: 3, stepsPerEpoch: STEPS / 3, status: 'completed' }));
    await vscode.commands.executeCommand('latentLab.showRuns');
    await inPanel(`root.querySelector('vscode-button[aria-label="Refresh"]').click(); return true;`);
    await waitInPanel<number>('the fifty runs in the table', `return Number(root.querySelector('.table-wrap').dataset.rows);`, (rows) => rows >= 54);
    // Searched for, then all selected at once, as a person compares a sweep.
    await inPanel(`const search = root.querySelector('vscode-textfield'); search.value = 'panel-fifty'; search.dispatchEvent(new Event('input')); return true;`);
    await waitInPanel<number>('the search to keep the fifty', `return Number(root.querySelector('.table-wrap').dataset.rows);`, (rows) => rows === 50);
    await inPanel(`root.querySelector('vscode-button[aria-label="Select Shown"]').click(); return true;`);
    const chart = await waitInPanel<{ datasets: number; points: number }>('fifty curves', CHART_STATE, (state) => state.datasets === 50 && state.points === 50 * STEPS, 60_000);
    assert.equal(chart.points, 50 * STEPS);
    assert.deepEqual([...api.runs.panel!.state.selected].sort(), [...fifty].sort());
    const headers = await inPanel<string[]>(`return [...root.querySelectorAll('th.config')].map((cell) => cell.textContent);`);
    assert.deepEqual(headers, ['seed', 'train.lr']);
    await inPanel(`root.querySelector('vscode-button[aria-label="Clear Selection"]').click(); const search = root.querySelector('vscode-textfield'); search.value = ''; search.dispatchEvent(new Event('input')); return true;`);
    await waitInPanel('no curves', CHART_STATE, (state: { datasets: number }) => state.datasets === 0);
  });

  test('the table as shown exports as CSV, and a run opens its experiment', async () => {
    const opened = writeRun(runsRoot, { experiment: 'panel-open', start: new Date(Date.UTC(2026, 3, 1, 0, 0, 0)), status: 'completed', sourceFile: path.join(workspaceFolder(), 'tiny.aexp') });
    await vscode.commands.executeCommand('latentLab.showRuns');
    await inPanel(`root.querySelector('vscode-button[aria-label="Refresh"]').click(); return true;`);
    await waitInPanel('the run in the table', `return Boolean(${row(opened)});`, Boolean);
    await inPanel(`const search = root.querySelector('vscode-textfield'); search.value = 'panel-compare'; search.dispatchEvent(new Event('input')); return true;`);
    await waitInPanel<number>('the search to keep three runs', `return Number(root.querySelector('.table-wrap').dataset.rows);`, (rows) => rows === 3);
    await inPanel(`root.querySelector('vscode-button[aria-label="Select Shown"]').click(); return true;`);
    await waitInPanel<string[]>('the column that differs between them', `return [...root.querySelectorAll('th.config')].map((cell) => cell.textContent);`, (headers) => headers.join() === 'train.lr');
    const target = vscode.Uri.file(path.join(workspaceFolder(), 'runs-export.csv'));
    api.runs.chooseCsvFile = async () => target;
    try {
      await inPanel(`root.querySelector('vscode-button[aria-label="Export CSV"]').click(); return true;`);
      await waitFor('the CSV file', () => existsSync(target.fsPath), 20_000);
    } finally {
      api.runs.chooseCsvFile = chooseCsvFileByDialog;
    }
    const lines = readFileSync(target.fsPath, 'utf8').trimEnd().split('\r\n');
    rmSync(target.fsPath);
    assert.equal(lines.length, 4, 'a header and the three runs shown');
    assert.ok(lines[0].endsWith(',train.lr'), lines[0]);
    assert.deepEqual(lines.slice(1).map((line) => line.split(',').at(-1)).sort(), ['0.001', '0.003', '0.01']);
    await inPanel(`root.querySelector('vscode-button[aria-label="Clear Selection"]').click(); const search = root.querySelector('vscode-textfield'); search.value = ''; search.dispatchEvent(new Event('input')); ${row(opened)}.querySelector('button[data-action="openExperiment"]').click(); return true;`);
    await waitFor('the experiment in the notebook editor', () => vscode.window.activeNotebookEditor?.notebook.uri.fsPath === path.join(workspaceFolder(), 'tiny.aexp'), 20_000);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  test('a run is deleted only after a confirmation, and leaves the table', async () => {
    const doomed = writeRun(runsRoot, { experiment: 'panel-delete', start: new Date(Date.UTC(2026, 2, 1, 0, 0, 0)), status: 'completed' });
    const kept = writeRun(runsRoot, { experiment: 'panel-delete', start: new Date(Date.UTC(2026, 2, 1, 0, 1, 0)), status: 'completed' });
    await vscode.commands.executeCommand('latentLab.showRuns');
    await inPanel(`root.querySelector('vscode-button[aria-label="Refresh"]').click(); return true;`);
    await waitInPanel('the runs in the table', `return Boolean(${row(doomed)} && ${row(kept)});`, Boolean);
    const asked: string[] = [];
    try {
      // Refused: nothing is deleted.
      api.runs.confirm = async (message) => {
        asked.push(message);
        return false;
      };
      await inPanel(`${row(kept)}.querySelector('button[data-action="delete"]').click(); return true;`);
      await waitFor('the question', () => asked.length === 1, 20_000);
      assert.match(asked[0], /^Move the run panel-delete\/20260301-000100 to the trash\?/);
      assert.ok(existsSync(kept), 'a refused delete deletes nothing');
      // Accepted: to the trash, or where this file system has none, after a second question saying it is permanent.
      asked.length = 0;
      api.runs.confirm = async (message) => {
        asked.push(message);
        return true;
      };
      await inPanel(`${row(doomed)}.querySelector('button[data-action="delete"]').click(); return true;`);
      await waitFor('the folder to be gone', () => !existsSync(doomed), 20_000);
      console.log(`[runs] asked: ${JSON.stringify(asked)}`);
      assert.match(asked[0], /to the trash\?$/);
      if (asked.length > 1) assert.match(asked[1], /^This file system has no trash: delete the run panel-delete\/20260301-000000 permanently\? It cannot be undone\.$/);
      await waitFor('the run to leave the table', () => !api.runs.panel!.state.listed.includes(doomed), 20_000);
      assert.ok(existsSync(kept));
    } finally {
      api.runs.confirm = confirmModal;
    }
  });
  test('a sweep is one group row (runs done of its total, best metric); expanded, its runs with the swept keys as columns; chosen, its metric against a swept key, a point per run', async () => {
    const experiments = mkdtempSync(path.join(os.tmpdir(), 'panel-sweep-'));
    // Four runs (two log-uniform learning rates × seeds 1 and 2); run 3 has not finished.
    const sweep = writeSweep(experiments, 'panel-sweep', path.join(runsRoot, 'panel-sweep'), new Date(Date.UTC(2026, 4, 1, 0, 0, 0)), (index) => (index === 3 ? undefined : 'completed'));
    const groupRow = `root.querySelector(${JSON.stringify(`tr.sweep-group[data-sweep="${sweep.folder}"]`)})`;
    const PLOT = `const plot = root.querySelector('.sweep-plot'); return plot && !plot.hidden ? { ...plot.dataset } : null;`;
    try {
      await vscode.commands.executeCommand('latentLab.showRuns');
      await inPanel(`root.querySelector('vscode-button[aria-label="Refresh"]').click(); return true;`);
      const text = await waitInPanel<string>('the sweep\'s group row', `const line = ${groupRow}; return line ? line.textContent : null;`, Boolean);
      assert.match(text, /^sweep panel-sweep · 3 \/ 4 runs done · best test\.loss [\d.]+ \(run [0-2]\) · over train\.lr, seed$/);
      assert.equal(await inPanel<number>(`return ${JSON.stringify(sweep.runDirs)}.filter((run) => [...root.querySelectorAll('tbody tr')].some((line) => line.dataset.run === run)).length;`), 0, 'collapsed, its runs are not rows');
      await inPanel(`${groupRow}.querySelector('button').click(); return true;`);
      await waitInPanel<number>('its four runs as rows', `return ${JSON.stringify(sweep.runDirs)}.filter((run) => [...root.querySelectorAll('tbody tr.sweep-run')].some((line) => line.dataset.run === run)).length;`, (count) => count === 4);
      const headers = await inPanel<string[]>(`return [...root.querySelectorAll('th.config')].map((cell) => cell.textContent);`);
      assert.deepEqual(headers?.slice(0, 2), ['train.lr', 'seed'], 'the swept keys are columns');
      const cells = await inPanel<string[]>(`return [...${row(sweep.runDirs[1])}.cells].map((cell) => cell.textContent);`);
      assert.ok(cells?.includes(String(sweep.runs[1].overrides[0][1])) && cells.includes('2'), JSON.stringify(cells));
      // Chosen: its metric against the learning rate, log-uniform so on a logarithmic axis, one point per finished run, a colour per seed.
      await inPanel(`${groupRow}.click(); return true;`);
      const plot = await waitInPanel<Record<string, string>>('the sweep\'s plot', PLOT, (state) => state.points === '3');
      assert.deepEqual({ key: plot.key, xScale: plot.xScale, sweep: plot.sweep }, { key: 'train.lr', xScale: 'logarithmic', sweep: sweep.folder });
      assert.deepEqual(await inPanel<string[]>(`return [...root.querySelectorAll('.sweep-plot .legend .entry')].map((entry) => entry.textContent);`), ['seed 1', 'seed 2']);
      // The sweep alone in the table, its plot below, as a person looking at it would have them.
      await inPanel(`const search = root.querySelector('vscode-textfield'); search.value = 'panel-sweep'; search.dispatchEvent(new Event('input')); root.querySelector('.table-wrap').scrollIntoView(); return true;`);
      await vscode.commands.executeCommand('workbench.action.closeSidebar');
      await vscode.commands.executeCommand('workbench.action.closeAuxiliaryBar');
      await screenshotInThemes('runs-sweep');
      // Each setting's seeds as one point, their mean with ± one standard deviation: run 0 and 1 share a learning rate, run 2 is alone (run 3 has not finished).
      await inPanel(`const mean = root.querySelector('.sweep-plot vscode-checkbox[aria-label^="mean"]'); mean.checked = true; mean.dispatchEvent(new Event('change')); return true;`);
      await waitInPanel('the means of the seeds', PLOT, (state: Record<string, string>) => state.mode === 'mean' && state.points === '2');
      await screenshot('runs-sweep-mean');
      await inPanel(`const mean = root.querySelector('.sweep-plot vscode-checkbox[aria-label^="mean"]'); mean.checked = false; mean.dispatchEvent(new Event('change')); return true;`);
      await waitInPanel('a point per run again', PLOT, (state: Record<string, string>) => state.mode === 'seeds' && state.points === '3');
      await vscode.commands.executeCommand('workbench.view.explorer');
      await inPanel(`const search = root.querySelector('vscode-textfield'); search.value = ''; search.dispatchEvent(new Event('input')); return true;`);
      // Against the seed: a linear axis, the same points.
      await inPanel(`const select = root.querySelector('.sweep-plot vscode-single-select'); select.value = 'seed'; select.dispatchEvent(new Event('change')); return true;`);
      await waitInPanel('the plot against the seed', PLOT, (state: Record<string, string>) => state.key === 'seed' && state.xScale === 'linear' && state.points === '3');
      // Chosen again: no plot.
      await inPanel(`${groupRow}.click(); return true;`);
      await waitInPanel('the plot hidden', `const plot = root.querySelector('.sweep-plot'); return plot ? plot.hidden : null;`, Boolean);
    } finally {
      rmSync(path.join(runsRoot, 'panel-sweep'), { recursive: true, force: true });
      rmSync(experiments, { recursive: true, force: true });
    }
  });
});
