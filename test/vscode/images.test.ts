/**
 * The cells' image views in a real VS Code (code-server): the quickstart (3 epochs) gives its
 * train cell one view of every epoch and its reconstruct cell one of the final checkpoint, in
 * place of their PNG grids. Scrubbing to an epoch the snapshot does not hold asks the host for
 * its frame; the diff modes redraw; a reopened notebook builds the same view from views/ and
 * still answers. Runs in the trusted instance after notebook.test.ts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { LatentLabApi } from '../../extension/extension';
import type { ImageViewSnapshot } from '../../extension/images-protocol';
import { actInFrames, frameState } from './renderer-frames';
import { cellOfKind, EXTENSION_ID, openNotebook, outputText, runCells, screenshot, screenshotInThemes, scrollNotebook, waitFor, workspaceFolder } from './support';
import { stopTrainingAndCloseEditors } from './training-teardown';

const IMAGES_MIME = 'application/vnd.latent-lab.images+json';
const EPOCHS = 3;
/** The line under each example for its loss (webview/images/layout.ts). */
const CAPTION = 15;

/** The image view's root as it shows itself (data-* attributes) and a checksum of its canvas's pixels; null where it is not drawn. */
interface ViewState {
  viewId?: string;
  epoch?: string;
  epochs?: string;
  diff?: string;
  state?: string;
  panel?: string;
  mark?: string;
  pixels?: string;
  /** The view's outer height, and the empty height under its grid's lowest caption (CSS pixels). */
  height?: string;
  band?: string;
  /** Whether the epoch slider is on screen, and the epoch's label beside (or instead of) it. */
  slider?: string;
  label?: string;
  /** The selected and an unselected diff-mode button's border colours. */
  selectedBorder?: string;
  unselectedBorder?: string;
  /** What the view says (its status line and notices), for a failure's message. */
  text?: string;
}

function snapshotOf(cell: vscode.NotebookCell): ImageViewSnapshot | undefined {
  const item = cell.outputs.flatMap((output) => output.items).find((candidate) => candidate.mime === IMAGES_MIME);
  return item ? (JSON.parse(new TextDecoder().decode(item.data)) as ImageViewSnapshot) : undefined;
}

const root = (viewId: string) => `document.querySelector('.latent-lab-images[data-view-id=${JSON.stringify(viewId)}]')`;
const STATE = (viewId: string) => `(() => {
  const root = ${root(viewId)};
  if (!root) return null;
  const canvas = root.querySelector('canvas.image-grid');
  let pixels = 0;
  if (canvas && canvas.width > 0 && canvas.height > 0) {
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let index = 0; index < data.length; index++) pixels = (Math.imul(pixels, 31) + data[index]) | 0;
  }
  const panes = JSON.parse(canvas?.dataset.cells || '[]');
  const lowest = Math.max(...panes.map((pane) => pane.y + pane.height)) + ${CAPTION};
  const border = (button) => button ? getComputedStyle(button.shadowRoot.querySelector('[part="base"]')).borderTopColor : '';
  return {
    ...root.dataset,
    pixels: String(pixels),
    height: String(root.getBoundingClientRect().height),
    band: String(Math.round(canvas.getBoundingClientRect().height - lowest)),
    slider: String(root.querySelector('input.epoch-slider').offsetParent !== null),
    label: root.querySelector('.epoch-label').textContent,
    selectedBorder: border(root.querySelector('vscode-button[data-diff-mode][aria-pressed="true"]')),
    unselectedBorder: border(root.querySelector('vscode-button[data-diff-mode][aria-pressed="false"]')),
    text: root.innerText.replace(/\\s+/g, ' ').slice(0, 300),
  };
})()`;
/** Runs a statement with `root` bound to the view's root element; true once done. */
const ACT = (viewId: string, statement: string) => `(() => { const root = ${root(viewId)}; if (!root) return null; ${statement}; return true; })()`;
const scrubTo = (viewId: string, index: number) => ACT(viewId, `const slider = root.querySelector('input.epoch-slider'); slider.value = ${JSON.stringify(String(index))}; slider.dispatchEvent(new Event('input', { bubbles: true }))`);
const chooseDiff = (viewId: string, mode: string) => ACT(viewId, `root.querySelector('[data-diff-mode=${JSON.stringify(mode)}]').click()`);

const viewState = (viewId: string, what: string, accept: (state: ViewState) => boolean, timeoutMs = 60_000) => frameState(STATE(viewId), what, accept, timeoutMs);

let api: LatentLabApi;

suite('Latent Lab image views', () => {
  suiteSetup(async () => {
    api = await vscode.extensions.getExtension<LatentLabApi>(EXTENSION_ID)!.activate();
  });

  teardown(() => stopTrainingAndCloseEditors(api));

  test('the quickstart\'s train cell scrubs every epoch and switches diff modes, and a reopened notebook shows the same history', async () => {
    const file = path.join(workspaceFolder(), 'images.aexp');
    const quickstart = readFileSync(path.join(workspaceFolder(), 'quickstart.aexp'), 'utf8');
    writeFileSync(file, quickstart.replace('count: 12000', 'count: 4000').replace('epochs: 12', `epochs: ${EPOCHS}`));
    let editor = await openNotebook(file);
    const train = cellOfKind(editor.notebook, 'train');
    const reconstruct = cellOfKind(editor.notebook, 'reconstruct');
    const running = runCells(editor.notebook, [train, reconstruct], 240_000);
    // The view appears after the first epoch and is patched in place: the element marked then is the one at the end.
    const firstId = await waitFor('the train cell\'s image view', () => snapshotOf(train)?.viewId, 180_000);
    editor.revealRange(new vscode.NotebookRange(train.index, train.index + 1), vscode.NotebookEditorRevealType.AtTop);
    const seen = await viewState(firstId, 'the image view to draw', (state) => state.state === 'ready', 120_000);
    await actInFrames(ACT(firstId, 'root.dataset.mark = "first"'), 'mark the view');
    await running;
    assert.equal(train.executionSummary?.success, true, outputText(train));

    const trained = snapshotOf(train)!;
    assert.equal(trained.viewId, firstId, 'the view is the same one, its item replaced per epoch');
    assert.deepEqual(trained.epochs, [1, 2, 3]);
    assert.equal(trained.frame.epoch, EPOCHS);
    assert.equal(trained.live, false, 'the ended run says no more epochs will come');
    assert.doesNotMatch(outputText(train), /image\/png/, 'the image view takes the place of the PNG grids');
    const runDir = api.controller.lastRunDir.get(editor.notebook.uri.toString())!;
    assert.ok(existsSync(path.join(runDir, 'images', 'history-reconstructions.png')), 'the PNG grids stay in the run folder');
    const done = await viewState(firstId, `all ${EPOCHS} epochs`, (state) => state.epochs === String(EPOCHS) && state.epoch === String(EPOCHS) && state.state === 'ready');
    assert.equal(done.mark, 'first', `the view's element (first drawn at epoch ${seen.epoch} of ${seen.epochs}) was built again when its item was replaced`);
    assert.equal(done.height, seen.height, `the view's height (first drawn at epoch ${seen.epoch}) did not change while training`);
    assert.ok(Number(done.band) <= 4, `no empty band under the grid: ${done.band} px under its lowest caption (${done.text})`);

    // Epoch 1 is not in the snapshot: its frame comes from the host, read from views/epoch-0001.bin.
    await actInFrames(scrubTo(firstId, 0), 'scrub to epoch 1');
    const first = await viewState(firstId, 'epoch 1 drawn', (state) => state.epoch === '1' && state.state === 'ready');
    assert.notEqual(first.pixels, done.pixels, 'the canvas shows other pixels at epoch 1');
    await actInFrames(scrubTo(firstId, EPOCHS - 1), 'scrub back');
    const back = await viewState(firstId, `epoch ${EPOCHS} drawn again`, (state) => state.epoch === String(EPOCHS) && state.state === 'ready');
    assert.equal(back.pixels, done.pixels, 'the same epoch draws the same pixels');

    let previous = back.pixels;
    for (const mode of ['swipe', 'onion', 'side-by-side']) {
      await actInFrames(chooseDiff(firstId, mode), `choose ${mode}`);
      const shown = await viewState(firstId, `the ${mode} diff`, (state) => state.diff === mode && state.state === 'ready');
      assert.notEqual(shown.pixels, previous, `${mode} draws something else than the mode before it`);
      previous = shown.pixels;
    }
    const reconstructId = snapshotOf(reconstruct)?.viewId;
    assert.ok(reconstructId, `the reconstruct cell shows an image view: ${outputText(reconstruct)}`);
    assert.equal(snapshotOf(reconstruct)!.mode, 'reconstruct');
    // The train cell's outputs are taller than the window: its image view is at their end.
    await scrollNotebook(1500);
    await screenshot('images-trained');
    await screenshotInThemes('images');
    // In the high-contrast theme the buttons share one background: the selected mode wears the active border.
    const workbench = vscode.workspace.getConfiguration('workbench');
    await workbench.update('colorTheme', 'Default High Contrast', vscode.ConfigurationTarget.Global);
    try {
      const contrast = await viewState(firstId, 'the high-contrast theme', (state) => state.unselectedBorder === 'rgb(111, 195, 223)');
      assert.equal(contrast.selectedBorder, 'rgb(243, 133, 24)', `the selected diff mode stands out: ${JSON.stringify(contrast)}`);
    } finally {
      await workbench.update('colorTheme', undefined, vscode.ConfigurationTarget.Global);
    }
    // The notebook draws an output's webview content when it comes near the screen.
    editor.revealRange(new vscode.NotebookRange(reconstruct.index, reconstruct.index + 1), vscode.NotebookEditorRevealType.AtTop);
    const final = await viewState(reconstructId, 'the reconstruct cell\'s view', (state) => state.state === 'ready');
    assert.equal(final.slider, 'false', 'one epoch: no slider to scrub');
    assert.equal(final.label, `epoch ${EPOCHS}, final checkpoint`);
    await screenshot('images-final');

    // Reopened: restore builds the view from views/ and registers it, so scrubbing still answers.
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await waitFor('the notebook to close', () => !vscode.workspace.notebookDocuments.some((notebook) => notebook.uri.fsPath === file), 30_000);
    // Each write of a cell's outputs is a round trip to the notebook's webview: a restored cell's outputs come in one (T6).
    const outputWrites: string[][] = [];
    const watching = vscode.workspace.onDidChangeNotebookDocument(({ notebook, cellChanges }) => {
      if (notebook.uri.fsPath !== file) return;
      for (const change of cellChanges) if (change.outputs && change.cell.document.getText() === train.document.getText()) outputWrites.push(change.outputs.flatMap((output) => output.items.map((item) => item.mime)));
    });
    try {
      editor = await openNotebook(file);
      await waitFor('the restored image view', () => snapshotOf(cellOfKind(editor.notebook, 'train')), 60_000);
      await waitFor('the restored train cell to end', () => cellOfKind(editor.notebook, 'train').executionSummary?.success !== undefined, 30_000);
    } finally {
      watching.dispose();
    }
    assert.equal(outputWrites.length, 1, `the restored train cell's outputs are written in one edit: ${JSON.stringify(outputWrites)}`);
    assert.ok(outputWrites[0]!.includes(IMAGES_MIME) && outputWrites[0]!.includes('application/vnd.latent-lab.chart+json'), `its chart and image view come together: ${JSON.stringify(outputWrites)}`);
    const reopened = cellOfKind(editor.notebook, 'train');
    const restored = await waitFor('the restored image view', () => snapshotOf(reopened), 60_000);
    assert.notEqual(restored.viewId, firstId, 'the reopened notebook has its own view');
    assert.deepEqual(restored.epochs, [1, 2, 3]);
    editor.revealRange(new vscode.NotebookRange(reopened.index, reopened.index + 1), vscode.NotebookEditorRevealType.AtTop);
    const again = await viewState(restored.viewId, 'the restored view', (state) => state.epochs === String(EPOCHS) && state.state === 'ready');
    await actInFrames(scrubTo(restored.viewId, 0), 'scrub the restored view');
    const restoredFirst = await viewState(restored.viewId, 'epoch 1 after reopening', (state) => state.epoch === '1' && state.state === 'ready');
    // (Pixels are compared within one view: a reopened view may be laid out at another width.)
    assert.notEqual(restoredFirst.pixels, again.pixels, 'the restored view draws epoch 1 from the frame the host read');
    await scrollNotebook(1500);
    await screenshot('images-reopened');
    await waitFor('the reconstruct cell\'s restored view', () => snapshotOf(cellOfKind(editor.notebook, 'reconstruct'))?.mode === 'reconstruct', 30_000);

    // A run folder whose views are hostile (inputs.bin a FIFO no one writes), as another notebook's newest run: the cell says why, shows its PNG grid, and the rest of the restore goes on.
    const hostileFile = path.join(workspaceFolder(), 'hostile-views.aexp');
    writeFileSync(hostileFile, readFileSync(file, 'utf8'));
    const hostileRun = path.join(path.dirname(path.dirname(runDir)), 'hostile-views', path.basename(runDir));
    cpSync(runDir, hostileRun, { recursive: true });
    const inputs = path.join(hostileRun, 'views', 'inputs.bin');
    rmSync(inputs);
    assert.equal(spawnSync('mkfifo', [inputs]).status, 0, 'mkfifo');
    editor = await openNotebook(hostileFile);
    const refused = cellOfKind(editor.notebook, 'train');
    await waitFor('the restored summary', () => /completed/.test(outputText(refused)), 60_000);
    const warning = `warning: the image view is not shown: ${inputs}: not a plain file. The PNG grid is shown instead.`;
    assert.ok(outputText(refused).includes(warning), outputText(refused));
    assert.equal(snapshotOf(refused), undefined, 'no image view');
    assert.match(outputText(refused), /<image\/png>/, 'the PNG grid instead');
  });
});
