/**
 * The extension in a real VS Code (code-server), with the real runtime process and real (tiny)
 * training on procedural sprites. Run by scripts/test-vscode.mjs.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { DisposableStore } from '../../extension/dispose';
import type { LatentLabApi } from '../../extension/extension';
import type { ImageViewSnapshot } from '../../extension/images-protocol';
import { RunView } from '../../extension/run-view';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { acceptQuickInput, cellOfKind, click, EXTENSION_ID, openNotebook, outputText, runCells, screenshot, screenshotInThemes, waitFor, workspaceFolder } from './support';

let api: LatentLabApi;

const IMAGE_VIEW_MIME = 'application/vnd.latent-lab.images+json';

/** A cell's pictures: its image view, or its PNG grids where the run folder has no views/ (written before them, or refused). */
function imagesOf(cell: vscode.NotebookCell): number {
  return cell.outputs.flatMap((output) => output.items).filter((item) => item.mime === 'image/png' || item.mime === IMAGE_VIEW_MIME).length;
}

/** Closes every editor and waits until VS Code has let go of the notebook document. */
async function closeNotebook(file: string): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  await waitFor(`${path.basename(file)} to close`, () => !vscode.workspace.notebookDocuments.some((notebook) => notebook.uri.fsPath === file), 30_000);
}

suite('Latent Lab in VS Code', () => {
  suiteSetup(async () => {
    const extension = vscode.extensions.getExtension<LatentLabApi>(EXTENSION_ID);
    assert.ok(extension, 'the extension is installed');
    api = await extension.activate();
  });

  test('activation registers everything without starting the runtime', async () => {
    const commands = await vscode.commands.getCommands(true);
    for (const command of ['latentLab.stopTraining', 'latentLab.restartRuntime', 'latentLab.selectBackend', 'latentLab.openRunFolder', 'latentLab.showRuntimeLog', 'latentLab.continueTraining']) {
      assert.ok(commands.includes(command), `${command} is registered`);
    }
    assert.equal(api.runtimePid(), undefined, 'the runtime starts on the first run, not at activation');
    console.log(`[measure] activation ${api.activationMs.toFixed(1)} ms`);
  });

  test('every sample opens as a notebook whose code cells know their kind', async () => {
    const samples = readdirSync(workspaceFolder()).filter((name) => name.endsWith('.aexp') && !name.startsWith('broken'));
    assert.ok(samples.length >= 9, `samples were copied (${samples.join(', ')})`);
    for (const name of samples) {
      const notebook = await vscode.workspace.openNotebookDocument(vscode.Uri.file(path.join(workspaceFolder(), name)));
      assert.equal(notebook.notebookType, 'latent-lab', name);
      const kinds = notebook.getCells().filter((cell) => cell.kind === vscode.NotebookCellKind.Code).map((cell) => (cell.metadata.aexp as { kind: string }).kind);
      assert.ok(kinds.includes('data') && kinds.includes('model'), `${name}: ${kinds.join(', ')}`);
      assert.ok(notebook.getCells().some((cell) => cell.kind === vscode.NotebookCellKind.Markup), `${name} has Markdown cells`);
    }
  });

  test('saving writes back the file byte for byte, except the one edited cell', async () => {
    const file = path.join(workspaceFolder(), 'vae-mnist.aexp');
    const original = readFileSync(file, 'utf8');
    const notebook = await vscode.workspace.openNotebookDocument(vscode.Uri.file(file));
    const train = cellOfKind(notebook, 'train');
    const edit = new vscode.WorkspaceEdit();
    const end = train.document.lineAt(train.document.lineCount - 1).range.end;
    edit.insert(train.document.uri, end, '\nclip_norm: 5');
    assert.ok(await vscode.workspace.applyEdit(edit));
    assert.ok(await notebook.save(), 'saved');
    const saved = readFileSync(file, 'utf8');
    const body = train.document.getText();
    assert.equal(saved, original.replace(body.replace('\nclip_norm: 5', ''), body));
    // Undo through the file: writing the original back reloads the open notebook.
    writeFileSync(file, original);
    await waitFor('the notebook to reload from disk', () => !cellOfKind(notebook, 'train').document.getText().includes('clip_norm'), 20_000);
  });

  test('a broken cell gets diagnostics at its line and column, with a "did you mean" quick fix', async () => {
    const editor = await openNotebook(path.join(workspaceFolder(), 'broken.aexp'));
    const model = cellOfKind(editor.notebook, 'model');
    const diagnostics = await waitFor('diagnostics in the model cell', () => {
      const found = vscode.languages.getDiagnostics(model.document.uri);
      return found.length > 0 ? found : undefined;
    }, 20_000);
    const typo = diagnostics.find((diagnostic) => /latnet/.test(diagnostic.message));
    assert.ok(typo, diagnostics.map((diagnostic) => diagnostic.message).join('; '));
    assert.match(typo.message, /did you mean [`"]?latent[`"]?/i);
    const line = model.document.getText().split('\n').findIndex((text) => text.startsWith('latnet'));
    assert.equal(typo.range.start.line, line);
    assert.equal(typo.range.start.character, 0);
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', model.document.uri, typo.range);
    const fix = actions.find((action) => /latent/.test(action.title));
    assert.ok(fix?.edit, 'a quick fix is offered');
    await screenshot('diagnostics');
  });

  test('running a broken experiment shows the error on the cell at its line (the model cell), not on the data cell that ran first', async () => {
    const editor = await openNotebook(path.join(workspaceFolder(), 'broken.aexp'));
    const code = editor.notebook.getCells().filter((cell) => cell.kind === vscode.NotebookCellKind.Code && (cell.metadata.aexp as { kind: string }).kind !== 'frontMatter');
    await runCells(editor.notebook, code, 60_000);
    const model = cellOfKind(editor.notebook, 'model');
    const data = cellOfKind(editor.notebook, 'data');
    const errorOf = (cell: vscode.NotebookCell) => cell.outputs.flatMap((output) => output.items).find((item) => item.mime === 'application/vnd.code.notebook.error');
    assert.equal(model.executionSummary?.success, false, `the model cell fails: ${outputText(model)}`);
    assert.match(new TextDecoder().decode(errorOf(model)?.data), /latnet/, 'with the error that names its line');
    assert.equal(errorOf(data), undefined, `the data cell shows no error: ${outputText(data)}`);
    assert.notEqual(data.executionSummary?.success, false, 'and is not marked failed');
  });

  test('quickstart runs end to end: progress, metrics, images, run folder', async () => {
    const editor = await openNotebook(path.join(workspaceFolder(), 'quickstart.aexp'));
    const notebook = editor.notebook;
    const started = Date.now();
    const code = notebook.getCells().filter((cell) => cell.kind === vscode.NotebookCellKind.Code && (cell.metadata.aexp as { kind: string }).kind !== 'frontMatter');
    // The extension host's responsiveness while outputs stream in (this test runs in that process).
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const run = runCells(notebook, code, 170_000);
    const train = cellOfKind(notebook, 'train');
    await waitFor('a progress line', () => /epoch \d+\/\d+ · step/.test(outputText(train)), 60_000);
    console.log(`[measure] runtime cold start to first progress line ${(Date.now() - started)} ms`);
    await run;
    console.log(`[measure] the run's milestones: ${api.controller.lastTimeline.join(', ')}`);
    delay.disable();
    console.log(`[measure] extension host event-loop delay during the run: p50 ${(delay.percentile(50) / 1e6).toFixed(1)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms, max ${(delay.max / 1e6).toFixed(1)} ms over ${((Date.now() - started) / 1000).toFixed(0)} s`);
    for (const cell of code) assert.equal(cell.executionSummary?.success, true, `${(cell.metadata.aexp as { kind: string }).kind}: ${outputText(cell)}`);
    assert.match(outputText(cellOfKind(notebook, 'data')), /sprites/);
    assert.match(outputText(train), /completed: 12\/12 epochs/);
    assert.match(outputText(train), /^epoch 12: train \d+\.\d+ · test \d+\.\d+ \(reconstruction \d+\.\d+\) nats\/example · \d+ ex\/s$/m);
    assert.doesNotMatch(outputText(train), /object Object/);
    const runDir = /run folder: (.+)/.exec(outputText(train))?.[1];
    assert.ok(runDir && existsSync(path.join(runDir, 'checkpoints', 'last.ckpt')), `run folder ${runDir}`);
    const views = cellOfKind(notebook, 'reconstruct').outputs.flatMap((output) => output.items).filter((item) => item.mime === IMAGE_VIEW_MIME);
    assert.equal(views.length, 1, 'reconstruct shows one image view');
    const view = JSON.parse(Buffer.from(views[0].data).toString('utf8')) as ImageViewSnapshot;
    assert.equal(view.mode, 'reconstruct');
    assert.equal(view.count, 16);
    // Its pixels: 16 reconstructions of the data's shape, as base64 of uint8.
    assert.equal(Buffer.from(view.frame.reconstructions!, 'base64').length, 16 * view.shape[0] * view.shape[1] * view.shape[2]);
    assert.ok(api.runtimePid(), 'the runtime is running');
    editor.revealRange(new vscode.NotebookRange(cellOfKind(notebook, 'train').index, cellOfKind(notebook, 'reconstruct').index + 1), vscode.NotebookEditorRevealType.AtTop);
    await screenshot('quickstart');

    // A second cold start: a new runtime, with the backend's gradient-check verdict cached, as on
    // every start after a person's first.
    await vscode.commands.executeCommand('latentLab.restartRuntime');
    const again = Date.now();
    const retrain = vscode.commands.executeCommand('latentLab.trainAgain');
    await waitFor('a progress line', () => /epoch \d+\/\d+ · step/.test(outputText(train)), 60_000);
    console.log(`[measure] runtime cold start to first progress line, verdict cached: ${Date.now() - again} ms`);
    await vscode.commands.executeCommand('latentLab.stopTraining');
    await retrain;
    console.log(`[measure] the second run's milestones: ${api.controller.lastTimeline.join(', ')}`);
    assert.match(outputText(train), /^stopped: /m);
  });

  test('Train VAE writes an experiment from the template, opens it and trains it', async () => {
    const notebook = await vscode.commands.executeCommand<vscode.NotebookDocument | undefined>('latentLab.trainVae', { dataset: 'sprites', latent: 4, epochs: 1, count: 600 });
    assert.ok(notebook, 'the command returns the new notebook');
    assert.equal(path.basename(notebook.uri.fsPath), 'vae-sprites.aexp');
    assert.match(readFileSync(notebook.uri.fsPath, 'utf8'), /dataset: sprites\n[\s\S]*latent: 4\n[\s\S]*epochs: 1\n/);
    assert.equal(vscode.window.activeNotebookEditor?.notebook, notebook, 'it is open in front');
    const train = cellOfKind(notebook, 'train');
    assert.match(outputText(train), /completed: 1\/1 epochs/);
    assert.equal(imagesOf(cellOfKind(notebook, 'sample')), 1);

    const sample = readFileSync(path.join(workspaceFolder(), 'denoising-ae-mnist.aexp'), 'utf8');
    const created = await vscode.commands.executeCommand<vscode.NotebookDocument | undefined>('latentLab.newExperiment', { kind: 'denoising-ae', dataset: 'mnist' });
    assert.equal(path.basename(created!.uri.fsPath), 'denoising-ae-mnist-2.aexp', 'the sample of that name is not overwritten');
    assert.equal(readFileSync(path.join(workspaceFolder(), 'denoising-ae-mnist.aexp'), 'utf8'), sample);
    assert.equal(cellOfKind(created!, 'model').document.getText().split('\n')[0], 'kind: denoising-ae');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const problems = created!.getCells().flatMap((cell) => vscode.languages.getDiagnostics(cell.document.uri));
    assert.deepEqual(problems.map((problem) => problem.message), [], 'the template has no problems');
  });

  test('reopening a notebook (the one Train VAE made) shows its last outputs; running unchanged cells reuses the trained model', async () => {
    const file = path.join(workspaceFolder(), 'vae-sprites.aexp');
    await closeNotebook(file);
    const editor = await openNotebook(file);
    const notebook = editor.notebook;
    const train = cellOfKind(notebook, 'train');
    await waitFor('the last outputs', () => /shown again from its run folder/.test(outputText(train)), 30_000);
    assert.match(outputText(train), /completed: 1\/1 epochs/);
    assert.match(outputText(train), /epoch 1: /);
    assert.match(outputText(cellOfKind(notebook, 'model')), /parameters/);
    for (const kind of ['reconstruct', 'sample']) assert.equal(imagesOf(cellOfKind(notebook, kind)), 1, `${kind} shows its image again`);
    editor.revealRange(new vscode.NotebookRange(train.index, cellOfKind(notebook, 'reconstruct').index + 1), vscode.NotebookEditorRevealType.AtTop);
    await screenshot('restored');

    const code = notebook.getCells().filter((cell) => cell.kind === vscode.NotebookCellKind.Code && (cell.metadata.aexp as { kind: string }).kind !== 'frontMatter');
    const started = Date.now();
    await runCells(notebook, code, 90_000);
    for (const cell of code) assert.equal(cell.executionSummary?.success, true, outputText(cell));
    assert.match(outputText(train), /reused: 1\/1 epochs/);
    assert.match(outputText(train), /reused the model trained in/);
    assert.equal(imagesOf(cellOfKind(notebook, 'sample')), 1);
    console.log(`[measure] Run All with the trained model reused: ${Date.now() - started} ms`);
  });

  test('Run All right after a reopen with the seed changed trains again: every cell runs, none left out as still restoring', async () => {
    const file = path.join(workspaceFolder(), 'vae-sprites.aexp');
    await closeNotebook(file);
    const editor = await openNotebook(file);
    const notebook = editor.notebook;
    // As a person does it: the last outputs are back, the seed is changed, Run All at once.
    await waitFor('the last outputs', () => /shown again from its run folder/.test(outputText(cellOfKind(notebook, 'train'))) && cellOfKind(notebook, 'sample').outputs.length > 0, 30_000);
    const front = notebook.getCells().find((cell) => (cell.metadata.aexp as { kind: string } | undefined)?.kind === 'frontMatter')!;
    const text = front.document.getText();
    const edit = new vscode.WorkspaceEdit();
    edit.replace(front.document.uri, new vscode.Range(0, 0, front.document.lineCount, 0), /seed: \d+/.test(text) ? text.replace(/seed: \d+/, 'seed: 12') : `${text.trimEnd()}\nseed: 12\n`);
    await vscode.workspace.applyEdit(edit);
    const train = cellOfKind(notebook, 'train');
    const code = notebook.getCells().filter((cell) => cell.kind === vscode.NotebookCellKind.Code && (cell.metadata.aexp as { kind: string }).kind !== 'frontMatter');
    const before = code.map((cell) => cell.executionSummary?.executionOrder);
    await vscode.commands.executeCommand('notebook.execute', notebook.uri);
    await waitFor('every cell to run', () => code.every((cell, index) => cell.executionSummary?.executionOrder !== undefined && cell.executionSummary.executionOrder !== before[index] && cell.executionSummary.timing?.endTime !== undefined), 120_000).catch((error: Error) => {
      throw new Error(`${error.message}: ${JSON.stringify(code.map((cell) => ({ kind: (cell.metadata.aexp as { kind: string }).kind, order: cell.executionSummary?.executionOrder, success: cell.executionSummary?.success })))}; before ${JSON.stringify(before)}`);
    });
    assert.match(outputText(train), /completed: 1\/1 epochs/);
    assert.doesNotMatch(outputText(train), /shown again from its run folder|reused/);
  });

  test('keys and values complete from the schema, and hover documents them', async () => {
    const editor = await openNotebook(path.join(workspaceFolder(), 'tiny.aexp'));
    const model = cellOfKind(editor.notebook, 'model');
    const keys = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', model.document.uri, new vscode.Position(1, 0));
    const labels = keys.items.map((item) => (typeof item.label === 'string' ? item.label : item.label.label));
    assert.ok(labels.includes('likelihood') && labels.includes('kl_warmup'), labels.join(', '));
    assert.ok(!labels.includes('sparsity'), 'keys of other model kinds are not offered');
    const values = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', model.document.uri, new vscode.Position(0, 6));
    assert.ok(values.items.some((item) => item.label === 'beta-vae'), 'model kinds complete after kind:');
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', model.document.uri, new vscode.Position(1, 2));
    const markdown = hovers.flatMap((hover) => hover.contents).map((content) => (typeof content === 'string' ? content : content.value)).join('\n');
    assert.match(markdown, /\*\*latent\*\* \(model cell\)/);
  });

  test('a person clicks Run All: every cell runs and shows its outputs', async () => {
    const file = path.join(workspaceFolder(), 'clicked.aexp');
    writeFileSync(file, readFileSync(path.join(workspaceFolder(), 'tiny.aexp'), 'utf8').replace('title: Tiny', 'title: Clicked'));
    const editor = await openNotebook(file);
    const code = editor.notebook.getCells().filter((cell) => cell.kind === vscode.NotebookCellKind.Code && (cell.metadata.aexp as { kind: string }).kind !== 'frontMatter');
    await click('Run All');
    await waitFor('every cell to finish', () => code.every((cell) => cell.executionSummary?.success !== undefined && cell.executionSummary.timing?.endTime !== undefined), 90_000);
    for (const cell of code) assert.equal(cell.executionSummary?.success, true, outputText(cell));
    assert.match(outputText(cellOfKind(editor.notebook, 'train')), /completed: 1\/1 epochs/);
    assert.equal(imagesOf(cellOfKind(editor.notebook, 'reconstruct')), 1);
    editor.revealRange(new vscode.NotebookRange(cellOfKind(editor.notebook, 'train').index, cellOfKind(editor.notebook, 'reconstruct').index + 1), vscode.NotebookEditorRevealType.AtTop);
    await screenshot('run-all');
  });

  test('interrupt stops within a batch and leaves a resumable checkpoint; Continue Training adds epochs', async () => {
    const editor = await openNotebook(path.join(workspaceFolder(), 'long.aexp'));
    const notebook = editor.notebook;
    const train = cellOfKind(notebook, 'train');
    const run = runCells(notebook, [train], 120_000);
    await waitFor('a progress line', () => /epoch \d+\/\d+ · step/.test(outputText(train)), 60_000);
    await vscode.commands.executeCommand('latentLab.stopTraining');
    await run;
    const text = outputText(train);
    assert.match(text, /^stopped: /m, text);
    const runDir = /run folder: (.+)/.exec(text)?.[1];
    assert.ok(runDir && existsSync(path.join(runDir, 'checkpoints', 'last.ckpt')), `a checkpoint in ${runDir}`);
    const stoppedAt = Number(/stopped: (\d+)\//.exec(text)![1]);
    await vscode.commands.executeCommand('latentLab.continueTraining', 1);
    await waitFor('the continued run to finish', () => /^completed: /m.test(outputText(cellOfKind(notebook, 'train'))), 120_000);
    assert.match(outputText(cellOfKind(notebook, 'train')), new RegExp(`completed: ${stoppedAt + 1}/${stoppedAt + 1} epochs`));
    assert.match(outputText(cellOfKind(notebook, 'train')), new RegExp(`run folder: ${runDir!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), 'the same run folder continues');
  });

  /** The stopped run the next two tests continue. */
  let stoppedRun: { editor: vscode.NotebookEditor; runDir: string; dataText: string } | undefined;

  test('a stopped run says so in every cell, and each cell shows its own duration', async () => {
    const file = path.join(workspaceFolder(), 'continued.aexp');
    writeFileSync(file, readFileSync(path.join(workspaceFolder(), 'long.aexp'), 'utf8').replace('title: Long', 'title: Continued').replace('epochs: 200', 'epochs: 10'));
    const editor = await openNotebook(file);
    // Room for the notebook toolbar's own buttons (and for the outputs in the screenshots).
    await vscode.commands.executeCommand('workbench.action.closeAuxiliaryBar');
    await vscode.commands.executeCommand('workbench.action.closeSidebar');
    const notebook = editor.notebook;
    const [data, model, train, reconstruct] = ['data', 'model', 'train', 'reconstruct'].map((kind) => cellOfKind(notebook, kind));
    const run = runCells(notebook, [data, model, train, reconstruct], 150_000);
    await waitFor('epoch 1 to finish', () => /^epoch 1: /m.test(outputText(train)), 90_000);
    // While training, only the train cell runs: the cells before it have ended, the one after it waits.
    await waitFor('the data and model cells to end', () => data.executionSummary?.timing?.endTime !== undefined && model.executionSummary?.timing?.endTime !== undefined, 10_000);
    assert.equal(reconstruct.executionSummary?.timing, undefined, 'the reconstruct cell has not started');
    // The toolbar's "Go To" (running cell) lands on the train cell, the one cell executing.
    await vscode.commands.executeCommand('notebook.revealRunningCell');
    await waitFor('Go To to focus the train cell', () => editor.selection.start === train.index, 5_000);
    assert.equal(outputText(reconstruct), 'queued…', 'a waiting cell is not blank');
    editor.revealRange(new vscode.NotebookRange(data.index, reconstruct.index + 1), vscode.NotebookEditorRevealType.AtTop);
    await screenshot('training');
    await vscode.commands.executeCommand('latentLab.stopTraining');
    await run;

    const stopped = outputText(train);
    stoppedRun = { editor, runDir: /run folder: (.+)/.exec(stopped)?.[1] ?? '', dataText: outputText(data) };
    const done = Number(/^stopped: (\d+)\/10 epochs/m.exec(stopped)?.[1]);
    assert.ok(done >= 1 && done < 10, stopped);
    assert.match(stopped, new RegExp(`^stopped at epoch ${done + 1}, batch \\d+ — Continue Training resumes from its checkpoint$`, 'm'));
    assert.doesNotMatch(stopped, /aexp run/, 'the way on is in the notebook, not a CLI command');
    assert.equal(train.executionSummary?.success, undefined, 'a stopped train cell is neither ✓ nor ✗');
    assert.match(outputText(reconstruct), /^not run: .*stopped/m);
    assert.equal(reconstruct.executionSummary?.success, undefined, 'an analysis cell that did not run is neither ✓ nor ✗');
    assert.equal(imagesOf(reconstruct), 0, 'the reconstruct cell shows no other cell\'s grid');
    for (const cell of [data, model]) assert.equal(cell.executionSummary?.success, true, outputText(cell));
    // Each cell's duration is its own: a cell starts once the one before it has ended.
    assert.ok(model.executionSummary!.timing!.startTime >= data.executionSummary!.timing!.endTime, 'model starts after data');
    assert.ok(train.executionSummary!.timing!.startTime >= model.executionSummary!.timing!.endTime, 'train starts after model');
    // The train cell's image view holds every epoch trained before the stop, to scrub.
    const views = train.outputs.flatMap((output) => output.items).filter((item) => item.mime === IMAGE_VIEW_MIME);
    assert.equal(views.length, 1, 'the train cell shows one image view');
    const history = JSON.parse(Buffer.from(views[0].data).toString('utf8')) as ImageViewSnapshot;
    assert.equal(history.mode, 'history');
    assert.deepEqual(history.epochs, Array.from({ length: done }, (_, index) => index + 1));
    editor.revealRange(new vscode.NotebookRange(train.index, reconstruct.index + 1), vscode.NotebookEditorRevealType.AtTop);
    await screenshot('stopped');
  });

  test('a continuation the runtime refuses marks only the train cell, keeps the earlier epochs, and leaves no listener behind', async function () {
    if (!stoppedRun) return this.skip();
    const { editor: { notebook }, runDir, dataText } = stoppedRun;
    const [data, model, train] = ['data', 'model', 'train'].map((kind) => cellOfKind(notebook, kind));
    const listeners = await api.controller.runtimeListenerCount();
    await api.controller.run([train], notebook, { continuation: { resume: runDir, epochs: 1.5 } });
    assert.equal(await api.controller.runtimeListenerCount(), listeners, 'the refused run disposed its subscriptions');
    assert.match(outputText(train), /epochs must be a positive integer/);
    assert.match(outputText(train), /^not resumed: /m);
    assert.match(outputText(train), /^epoch 1: /m, 'the earlier epochs are still listed');
    for (const cell of [data, model]) assert.equal(cell.executionSummary?.success, true, `${outputText(cell)}: not marked red`);
    assert.equal(outputText(data), dataText, 'the data cell keeps its output');
  });

  test('Continue Training from the notebook toolbar resumes the stopped run, offers the remaining epochs and keeps the earlier ones', async function () {
    if (!stoppedRun) return this.skip();
    const { editor, runDir, dataText } = stoppedRun;
    const [data, model, train] = ['data', 'model', 'train'].map((kind) => cellOfKind(editor.notebook, kind));
    await vscode.window.showNotebookDocument(editor.notebook);
    // The toolbar button, clicked: VS Code passes its context object ({ notebookEditor, ui, source })
    // as the first argument; the input box offers what remains of the 10 epochs.
    await click('Continue Training');
    await acceptQuickInput(() => /resuming after epoch|epoch \d+\/10 · step/.test(outputText(train)));
    await waitFor('the continued run to finish', () => /^completed: /m.test(outputText(train)), 150_000);
    const continued = outputText(train);
    assert.match(continued, /^completed: 10\/10 epochs/m, continued);
    assert.deepEqual([...continued.matchAll(/^epoch (\d+): /gm)].map((match) => Number(match[1])), Array.from({ length: 10 }, (_, index) => index + 1), `every epoch is listed once, the earlier ones first:\n${continued}`);
    assert.match(continued, new RegExp(`run folder: ${runDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), 'the same run folder continues');
    for (const cell of [data, model]) assert.equal(cell.executionSummary?.success, true);
    assert.equal(outputText(data), dataText);
    for (const line of continued.split('\n').filter((candidate) => !candidate.startsWith('run folder: '))) assert.ok(line.length <= 100, `a line wider than 100 characters: ${line}`);

    editor.revealRange(new vscode.NotebookRange(train.index, train.index + 1), vscode.NotebookEditorRevealType.AtTop);
    await screenshotInThemes('continued');

    // Reopened, the continued run lists every epoch again, though its outputs.json holds only the last session's.
    await closeNotebook(editor.notebook.uri.fsPath);
    const reopened = await openNotebook(editor.notebook.uri.fsPath);
    await waitFor('the last outputs', () => /shown again from its run folder/.test(outputText(cellOfKind(reopened.notebook, 'train'))), 30_000);
    const restored = outputText(cellOfKind(reopened.notebook, 'train'));
    assert.deepEqual([...restored.matchAll(/^epoch (\d+): /gm)].map((match) => Number(match[1])), Array.from({ length: 10 }, (_, index) => index + 1), `every epoch is listed again after reopening:\n${restored}`);
  });

  test('a run\'s end ends every cell\'s execution though one cell was deleted or two were running (nothing spins)', async () => {
    const file = path.join(workspaceFolder(), 'ends.aexp');
    writeFileSync(file, readFileSync(path.join(workspaceFolder(), 'tiny.aexp'), 'utf8').replace('title: Tiny', 'title: Ends'));
    const editor = await openNotebook(file);
    const notebook = editor.notebook;
    // A controller of the test's own, driven by the runtime's cell events as the kernel hands them on.
    const store = new DisposableStore();
    const controller = store.add(vscode.notebooks.createNotebookController('latent-lab-test-ends', 'latent-lab', 'run view test'));
    controller.supportedLanguages = ['yaml'];
    const log = store.add(vscode.window.createOutputChannel('Latent Lab run view test', { log: true }));
    try {
      const selected = new Promise<void>((resolve) => store.add(controller.onDidChangeSelectedNotebooks((event) => event.selected && event.notebook === notebook && resolve())));
      await vscode.commands.executeCommand('notebook.selectKernel', { id: 'latent-lab-test-ends', extension: EXTENSION_ID });
      await selected;
      const involved = ['data', 'model', 'train', 'reconstruct'] as const;
      const view = () => new RunView({ controller, notebook, cells: new Map(involved.map((kind) => [kind, cellOfKind(notebook, kind)])), involved, mode: 'run', store, log });
      const ended = (kinds: readonly string[], since: number) => kinds.every((kind) => (cellOfKind(notebook, kind).executionSummary?.timing?.endTime ?? 0) >= since);

      // The runtime goes away while two cells run: the one not blamed ends too.
      const twoRunning = view();
      await twoRunning.open();
      await twoRunning.beginFirst();
      for (const cell of ['data', 'model'] as const) await twoRunning.handle({ type: 'cell', cell, state: 'started' });
      const failedAt = Date.now();
      await twoRunning.fail(new Error('the runtime went away'));
      await waitFor('every cell of the failed run to end', () => ended(involved, failedAt), 10_000);
      assert.equal(cellOfKind(notebook, 'model').executionSummary?.success, false, outputText(cellOfKind(notebook, 'model')));

      // The train cell is deleted after its work ended: its summary cannot be shown, the reconstruct cell still ends.
      const deleted = view();
      await deleted.open();
      await deleted.beginFirst();
      for (const cell of ['data', 'model', 'train'] as const) for (const state of ['started', 'finished'] as const) await deleted.handle({ type: 'cell', cell, state });
      const train = cellOfKind(notebook, 'train');
      const edit = new vscode.WorkspaceEdit();
      edit.set(notebook.uri, [vscode.NotebookEdit.deleteCells(new vscode.NotebookRange(train.index, train.index + 1))]);
      assert.ok(await vscode.workspace.applyEdit(edit), 'the train cell was deleted');
      const finishedAt = Date.now();
      const summary = { status: 'completed', backend: 'cpu', device: 'cpu', dataset: 'sprites', model: 'vae', parameters: 1, epochs: 1, targetEpochs: 1, steps: 1, units: 'nats', durationSeconds: 1 } as const;
      await deleted.finish({ runDir: '', status: 'completed', summary }).catch((error: Error) => log.info(`the run's end, as expected, could not reach the deleted cell: ${error.message}`));
      await waitFor('the reconstruct cell to end', () => ended(['reconstruct'], finishedAt), 10_000);
    } finally {
      store.dispose();
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    }
  });

  test('a hostile run folder (outputs.json naming /etc/passwd, /dev/zero, links out) opens without reading them', async () => {
    const file = path.join(workspaceFolder(), 'hostile.aexp');
    writeFileSync(file, readFileSync(path.join(workspaceFolder(), 'tiny.aexp'), 'utf8').replace('title: Tiny', 'title: Hostile'));
    // Named as a run of now: a far-future name is not taken for the newest run.
    const runDir = path.join(workspaceFolder(), '.aexp', 'runs', 'hostile', new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '').replace('T', '-'));
    mkdirSync(path.join(runDir, 'images'), { recursive: true });
    writeFileSync(path.join(runDir, 'config.json'), JSON.stringify({ train: { epochs: 1 }, model: { kind: 'vae' } }));
    writeFileSync(path.join(runDir, 'summary.json'), JSON.stringify({ status: 'completed', backend: 'wasm', device: 'cpu', epochs: 1, targetEpochs: 1, steps: 19, units: 'nats', durationSeconds: 1 }));
    const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
    writeFileSync(path.join(runDir, 'images', 'epoch-001-reconstructions.png'), png);
    writeFileSync(path.join(runDir, 'images', 'notes.png'), 'not an image\n');
    symlinkSync('/etc/passwd', path.join(runDir, 'images', 'passwd.png'));
    const image = (cell: string, where: string) => ({ type: 'image', cell, kind: 'reconstructions', epoch: 1, path: where });
    writeFileSync(path.join(runDir, 'outputs.json'), JSON.stringify({
      version: 1,
      events: [
        { type: 'cellOutput', cell: 'data', text: 'a hostile run folder' },
        image('train', '/etc/passwd'),
        image('reconstruct', '/dev/zero'),
        image('reconstruct', 'images/passwd.png'),
        image('reconstruct', 'images/notes.png'),
        image('reconstruct', '../../../../../../../../etc/passwd'),
        image('train', path.join(runDir, 'images', 'epoch-001-reconstructions.png')),
      ],
    }));
    const editor = await openNotebook(file);
    const train = cellOfKind(editor.notebook, 'train');
    await waitFor('the restored outputs', () => /shown again from its run folder/.test(outputText(train)), 30_000);
    assert.match(outputText(cellOfKind(editor.notebook, 'data')), /a hostile run folder/);
    assert.equal(imagesOf(train), 1, 'only the real image inside the run folder is shown');
    assert.equal(imagesOf(cellOfKind(editor.notebook, 'reconstruct')), 0);
    const everything = editor.notebook.getCells().map(outputText).join('\n');
    assert.doesNotMatch(everything, /root:/, 'nothing of /etc/passwd is shown');
  });

  test('a killed runtime is reported in the notebook and the next run starts a new one', async () => {
    const editor = await openNotebook(path.join(workspaceFolder(), 'long.aexp'));
    const train = cellOfKind(editor.notebook, 'train');
    const run = runCells(editor.notebook, [train], 120_000);
    await waitFor('a progress line', () => /epoch \d+\/\d+ · step/.test(outputText(train)), 60_000);
    const pid = api.runtimePid()!;
    process.kill(pid, 'SIGKILL');
    await run;
    assert.equal(train.executionSummary?.success, false);
    assert.match(outputText(train), /runtime stopped unexpectedly \(signal SIGKILL\)/);
    const quick = path.join(workspaceFolder(), 'tiny.aexp');
    const tiny = await openNotebook(quick);
    await runCells(tiny.notebook, [cellOfKind(tiny.notebook, 'model')], 60_000);
    assert.equal(cellOfKind(tiny.notebook, 'model').executionSummary?.success, true, outputText(cellOfKind(tiny.notebook, 'model')));
    assert.notEqual(api.runtimePid(), pid, 'a new runtime');
  });

  test('latentLab.nativeThreads reaches the native backend when the runtime restarts', async function () {
    if (!existsSync(path.join(__dirname, '..', '..', 'native', 'latent_lab_native.node'))) return this.skip();
    const config = vscode.workspace.getConfiguration('latentLab');
    await config.update('backend', 'native', vscode.ConfigurationTarget.Workspace);
    await config.update('nativeThreads', 1, vscode.ConfigurationTarget.Workspace);
    try {
      await vscode.commands.executeCommand('latentLab.restartRuntime');
      const tiny = await openNotebook(path.join(workspaceFolder(), 'tiny.aexp'));
      await runCells(tiny.notebook, [cellOfKind(tiny.notebook, 'model')], 60_000);
      assert.match(api.runtimeBackend() ?? '', /^native · .*native kernels .*, 1 thread$/);
    } finally {
      await config.update('backend', undefined, vscode.ConfigurationTarget.Workspace);
      await config.update('nativeThreads', undefined, vscode.ConfigurationTarget.Workspace);
      await vscode.commands.executeCommand('latentLab.restartRuntime');
    }
  });

  test('a run stopped by a runtime shutdown resumes from its checkpoint when its notebook reopens', async () => {
    const file = path.join(workspaceFolder(), 'resumable.aexp');
    writeFileSync(file, readFileSync(path.join(workspaceFolder(), 'long.aexp'), 'utf8'));
    let editor = await openNotebook(file);
    let train = cellOfKind(editor.notebook, 'train');
    const run = runCells(editor.notebook, [train], 120_000);
    await waitFor('a progress line', () => /epoch \d+\/\d+ · step/.test(outputText(train)), 60_000);
    // What a window reload does to the runtime: a shutdown request, then the process ends.
    await vscode.commands.executeCommand('latentLab.restartRuntime');
    await run;
    assert.match(outputText(train), /^stopped: [\s\S]*because the runtime was shutting down/m, outputText(train));
    const runDir = /run folder: (.+)/.exec(outputText(train))![1];

    await closeNotebook(file);
    editor = await openNotebook(file);
    train = cellOfKind(editor.notebook, 'train');
    await waitFor('the run to resume', () => /epoch \d+\/200 · step/.test(outputText(train)), 60_000);
    await vscode.commands.executeCommand('latentLab.stopTraining');
    await waitFor('the resumed run to stop', () => /^stopped: /m.test(outputText(train)), 60_000);
    assert.match(outputText(train), new RegExp(`run folder: ${runDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), 'the same run folder continues');
    assert.ok(readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').includes('"kind":"resume"'), 'the run folder records the resume');
  });
});
