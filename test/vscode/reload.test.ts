/**
 * A real window reload (T11): the Runs panel and the Latent Explorer come back as they were, and
 * nothing is encoded again. The harness runs this suite in a code-server of its own
 * (LATENT_LAB_TEST_SUITE=reload). The first run of the suite trains a run, shows it in both views,
 * writes down what they show and reloads the workbench; the reload ends that extension host, and
 * the workbench starts the tests again in the new one, where the second test finds the note and
 * checks what came back.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { LatentLabApi } from '../../extension/extension';
import { evaluateInFrames, EXTENSION_ID, screenshot, trainSmall, waitFor, workspaceFolder } from './support';

/** What the views showed before the reload. */
interface Before {
  runDir: string;
  points: string;
  camera: { x: number; y: number; scale: number };
  selected: string[];
  curvePoints: number;
  /** The explorer host's run, checkpoint, split and projection. */
  choice: unknown;
}

interface RunsShown {
  selected: string[];
  curves: number;
  points: number;
  series?: string;
}

/** The note the first extension host leaves for the second. */
function noteFile(): string {
  return path.join(workspaceFolder(), '.reload-test.json');
}

async function waitInFrames<T>(what: string, expression: string, accept: (value: T) => boolean = () => true, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const last = await evaluateInFrames(expression) as T | null;
    if (last !== null && accept(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last seen: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The explorer's page: its run, its points once drawn, and the camera it last drew with. */
const EXPLORER = `(() => {
  const root = document.getElementById('explorer-root');
  const canvas = root?.querySelector('canvas.scatter');
  if (!root || !canvas || !root.dataset.points || canvas.dataset.drawn !== root.dataset.points || !canvas.dataset.camera) return null;
  const { x, y, scale } = JSON.parse(canvas.dataset.camera);
  return { run: root.querySelector('vscode-single-select[title="run"]')?.value, points: root.dataset.points, camera: { x, y, scale } };
})()`;

/** The Runs panel's page: the runs whose rows are selected, the series its chart shows, and how many curves and points it draws. */
const RUNS = `(() => {
  const root = document.getElementById('runs-root');
  const chart = root?.querySelector('[data-datasets]');
  if (!root || !root.dataset.listed || !chart) return null;
  return { selected: [...root.querySelectorAll('tbody tr[aria-selected="true"]')].map((row) => row.dataset.run), curves: Number(chart.dataset.datasets), points: Number(chart.dataset.points), series: root.querySelector('vscode-single-select[title="series"]')?.value };
})()`;

suite('A window reload', () => {
  let api: LatentLabApi;

  suiteSetup(async () => {
    api = await vscode.extensions.getExtension<LatentLabApi>(EXTENSION_ID)!.activate();
  });

  test('before: a trained run in the explorer, zoomed, and selected in the Runs panel; then the window reloads', async function () {
    if (existsSync(noteFile())) this.skip();
    const trained = await trainSmall('reload.aexp', { title: 'Reload', seed: 7, data: 'dataset: sprites\nsize: 16\ncount: 200\ntest_fraction: 0.25\nbatch: 50', model: 'kind: vae\nlatent: 3\nencoder: [dense 16 relu]', train: 'epochs: 1' });
    const runDir = trained.runDir!;

    await vscode.commands.executeCommand('latentLab.exploreLatentSpace');
    const fitted = await waitInFrames<{ run: string; points: string; camera: Before['camera'] }>('the explorer\'s points', EXPLORER, (value) => value.run === runDir);
    assert.equal(api.explorer.counts.explore, 1, 'the run was encoded once');
    // Zoomed in twice from the keyboard, as a person does: a camera the page did not fit itself.
    await evaluateInFrames(`(() => { const canvas = document.querySelector('#explorer-root canvas.scatter'); if (!canvas) return null; for (let turn = 0; turn < 2; turn++) canvas.dispatchEvent(new KeyboardEvent('keydown', { key: '+', bubbles: true })); return true; })()`);
    const zoomed = await waitInFrames<{ run: string; points: string; camera: Before['camera'] }>('the zoomed camera', EXPLORER, (value) => value.camera.scale > fitted.camera.scale * 1.5);

    await vscode.commands.executeCommand('latentLab.showRuns');
    await waitInFrames('the runs table', `(() => { const root = document.getElementById('runs-root'); return root && root.dataset.listed ? true : null; })()`);
    await evaluateInFrames(`(() => { const row = [...document.querySelectorAll('#runs-root tbody tr')].find((candidate) => candidate.dataset.run === ${JSON.stringify(runDir)}); if (!row) return null; row.click(); return true; })()`);
    await waitInFrames('the run\'s curve', RUNS, (value: { curves: number }) => value.curves === 1);
    // A one-epoch run logs no step of its own: its test loss per epoch is the curve (a setting the page keeps, too).
    await evaluateInFrames(`(() => { const series = document.querySelector('#runs-root vscode-single-select[title="series"]'); if (!series) return null; series.value = 'test-loss'; series.dispatchEvent(new Event('change')); return true; })()`);
    const runs = await waitInFrames<RunsShown>('the run\'s test loss', RUNS, (value) => value.series === 'test-loss' && value.points > 0);
    assert.deepEqual(runs.selected, [runDir]);
    await screenshot('reload-before');

    assert.equal(api.explorer.state.choice?.runDir, runDir);
    const before: Before = { runDir, points: zoomed.points, camera: zoomed.camera, selected: runs.selected, curvePoints: runs.points, choice: api.explorer.state.choice };
    writeFileSync(noteFile(), JSON.stringify(before));
    await vscode.commands.executeCommand('workbench.action.reloadWindow');
    // This extension host ends with the reload; the test never returns (a reload that did not happen times out).
    await new Promise(() => undefined);
  });

  test('after: the Runs panel is back with its selection, the explorer with its run, points and camera, and nothing was encoded again', async function () {
    if (!existsSync(noteFile())) this.skip();
    const before = JSON.parse(readFileSync(noteFile(), 'utf8')) as Before;
    rmSync(noteFile());
    // Nothing here opens either view: both must come back by themselves.
    const runs = await waitInFrames<RunsShown>('the Runs panel with its curve', RUNS, (value) => value.curves === 1 && value.points === before.curvePoints);
    assert.deepEqual(runs.selected, before.selected, 'the panel\'s selected rows');
    assert.equal(runs.series, 'test-loss', 'the chart\'s series');
    await waitFor('the panel\'s host', () => api.runs.panel, 20_000);
    assert.deepEqual(api.runs.panel!.state.selected, before.selected, 'the host\'s selection');
    const explorer = await waitInFrames<{ run: string; points: string; camera: Before['camera'] }>('the explorer with its points', EXPLORER);
    assert.equal(explorer.run, before.runDir);
    assert.equal(explorer.points, before.points);
    assert.deepEqual(explorer.camera, before.camera, 'the zoomed camera, not one fitted again');
    assert.deepEqual(api.explorer.state.choice, before.choice, 'the host\'s run, checkpoint, split and projection');
    assert.equal(api.explorer.counts.explore, 0, 'the points came from what was kept: no explore request');
    assert.equal(api.explorerRuntimePid(), undefined, 'the explorer\'s runtime was not even started');
    await screenshot('reload-after');
  });
});
