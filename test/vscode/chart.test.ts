/**
 * The train cell's live chart in a real VS Code (code-server): it appears when training starts,
 * grows while the run goes on without its element ever being built again (the epoch snapshots
 * patch it in place), and a reopened notebook draws the whole history from the run folder.
 * Runs in the trusted instance after notebook.test.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { LatentLabApi } from '../../extension/extension';
import { frameState } from './renderer-frames';
import { cellOfKind, evaluateInFrames, EXTENSION_ID, openNotebook, outputText, screenshot, screenshotInThemes, waitFor, workspaceFolder } from './support';
import { stopTrainingAndCloseEditors } from './training-teardown';

/** The chart's state as its root element shows it (data-* attributes), or null where no chart is drawn. */
interface ChartState {
  chartId?: string;
  steps?: string;
  epochs?: string;
  drawnSteps?: string;
  mark?: string;
  appendedSteps?: string;
}

const CHART_MIME = 'application/vnd.latent-lab.chart+json';

/** The chart in this cell's output (other notebooks' webviews may still hold charts of their own). */
function chartIdOf(cell: vscode.NotebookCell): string | undefined {
  const item = cell.outputs.flatMap((output) => output.items).find((candidate) => candidate.mime === CHART_MIME);
  return item ? (JSON.parse(new TextDecoder().decode(item.data)) as { chartId: string }).chartId : undefined;
}

const find = (chartId: string) => `document.querySelector('.latent-lab-chart[data-chart-id=${JSON.stringify(chartId)}]')`;
const STATE = (chartId: string) => `(() => { const root = ${find(chartId)}; return root ? { ...root.dataset } : null; })()`;
const TOOLBAR = (chartId: string) => `(() => {
  const root = ${find(chartId)};
  if (!root) return null;
  return [...root.querySelectorAll('vscode-toolbar-button')].map((button) => {
    const box = button.querySelector('svg')?.getBoundingClientRect();
    return { label: button.label, width: box?.width ?? 0, height: box?.height ?? 0 };
  });
})()`;
const MARK = (chartId: string) => `(() => { const root = ${find(chartId)}; if (!root) return null; root.dataset.mark = 'first'; return { ...root.dataset }; })()`;

const chartState = (chartId: string, what: string, accept: (state: ChartState) => boolean, timeoutMs = 120_000) => frameState(STATE(chartId), what, accept, timeoutMs);

let api: LatentLabApi;

suite('Latent Lab training chart', () => {
  suiteSetup(async () => {
    api = await vscode.extensions.getExtension<LatentLabApi>(EXTENSION_ID)!.activate();
  });

  teardown(() => stopTrainingAndCloseEditors(api));

  test('the train cell\'s chart grows while training, its element never built again, and a reopened notebook draws the whole history', async () => {
    const file = path.join(workspaceFolder(), 'chart.aexp');
    // Long enough to watch (stopped once the chart has grown), a training record every 5 steps.
    writeFileSync(file, readFileSync(path.join(workspaceFolder(), 'tiny.aexp'), 'utf8').replace('title: Tiny', 'title: Chart').replace('count: 600', 'count: 3000').replace('epochs: 1', 'epochs: 40\nlog_every: 5'));
    let editor = await openNotebook(file);
    const train = cellOfKind(editor.notebook, 'train');
    const running = vscode.commands.executeCommand('notebook.cell.execute', { ranges: [{ start: train.index, end: train.index + 1 }], document: editor.notebook.uri });
    const chartId = await waitFor('the chart output in the train cell', () => chartIdOf(train), 120_000);
    editor.revealRange(new vscode.NotebookRange(train.index, train.index + 1), vscode.NotebookEditorRevealType.AtTop);
    await chartState(chartId, 'the chart to draw its first steps', (state) => Number(state.steps) > 0);
    const first = (await evaluateInFrames(MARK(chartId))) as ChartState;
    // The toolbar's codicons are inline SVG: drawn in VS Code's notebook webview, where a renderer can load no file and a CSP may refuse fonts.
    const icons = await evaluateInFrames(TOOLBAR(chartId));
    assert.deepEqual(icons, [{ label: 'Reset zoom', width: 16, height: 16 }, { label: 'Export PNG', width: 16, height: 16 }, { label: 'Export CSV', width: 16, height: 16 }]);
    const firstSteps = Number(first.steps);
    // Two epoch ends: the output's items were replaced (the snapshot) at least twice meanwhile.
    const grown = await chartState(chartId, 'the chart to gain points over two more epochs', (state) => Number(state.epochs) >= Number(first.epochs) + 2 && Number(state.steps) > firstSteps);
    assert.equal(grown.mark, 'first', 'the chart element was built again during the run');
    await screenshot('chart-training');
    await vscode.commands.executeCommand('latentLab.stopTraining');
    await running;
    await waitFor('the train cell to end', () => train.executionSummary?.timing?.endTime !== undefined, 60_000);
    assert.match(outputText(train), /stopped/, outputText(train));
    const ended = await chartState(chartId, 'the chart after the run', () => true);
    assert.equal(ended.mark, 'first', 'the chart element was built again when the run ended');
    assert.ok(Number(ended.steps) >= Number(grown.steps), JSON.stringify(ended));
    // Between the per-epoch snapshots, logged steps came by renderer message.
    assert.ok(Number(ended.appendedSteps) > 0, `no logged step arrived by message: ${JSON.stringify(ended)}`);

    // Reopened: the history comes from metrics.jsonl through the output item alone.
    const runDir = api.controller.lastRunDir.get(editor.notebook.uri.toString());
    assert.ok(runDir, 'the run folder is known');
    const logged = readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').split('\n').filter((line) => line.includes('"kind":"train"')).length;
    assert.ok(logged >= Number(ended.steps), `${logged} training records for ${ended.steps} drawn`);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await waitFor('the notebook to close', () => !vscode.workspace.notebookDocuments.some((notebook) => notebook.uri.fsPath === file), 30_000);
    // Each text the train cell's epoch lines show while the notebook restores.
    const epochTexts: string[] = [];
    const watching = vscode.workspace.onDidChangeNotebookDocument(({ notebook, cellChanges }) => {
      if (notebook.uri.fsPath !== file) return;
      for (const change of cellChanges) {
        const lines = (change.outputs ?? []).flatMap((output) => output.items).filter((item) => item.mime === 'text/plain').map((item) => new TextDecoder().decode(item.data)).find((value) => value.startsWith('epoch 1:'));
        if (lines !== undefined && lines !== epochTexts.at(-1)) epochTexts.push(lines);
      }
    });
    editor = await openNotebook(file);
    const reopenedTrain = cellOfKind(editor.notebook, 'train');
    const restoredId = await waitFor('the restored chart output', () => chartIdOf(reopenedTrain), 60_000);
    assert.notEqual(restoredId, chartId, 'the reopened notebook draws its own chart');
    editor.revealRange(new vscode.NotebookRange(reopenedTrain.index, reopenedTrain.index + 1), vscode.NotebookEditorRevealType.AtTop);
    const restored = await chartState(restoredId, 'the restored chart', (state) => state.mark === undefined && Number(state.steps) > 0, 60_000);
    assert.equal(Number(restored.steps), logged, `every logged step is drawn again: ${JSON.stringify(restored)}`);
    // The output item is the compact snapshot (version 2), within T4's 64 KB.
    const item = reopenedTrain.outputs.flatMap((output) => output.items).find((candidate) => candidate.mime === CHART_MIME)!;
    assert.equal((JSON.parse(new TextDecoder().decode(item.data)) as { version: number }).version, 2);
    assert.ok(item.data.byteLength <= 64 * 1024, `the chart's output item is ${item.data.byteLength} bytes`);
    // The rest of the cell (epoch lines, grids, the summary) is restored after the chart.
    await waitFor('the restored summary', () => /stopped/.test(outputText(reopenedTrain)), 60_000);
    watching.dispose();
    // The epoch lines are written once, every epoch in them (T6: not rewritten once per epoch, holding back the views after them).
    assert.equal(epochTexts.length, 1, `the epoch lines were written ${epochTexts.length} times, with ${epochTexts.map((lines) => lines.split('\n').length).join(', ')} lines`);
    assert.ok(epochTexts[0].split('\n').length >= 2, epochTexts[0]);

    await screenshotInThemes('chart');
  });
});
