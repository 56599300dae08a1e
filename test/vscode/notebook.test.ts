/**
 * The extension in a real VS Code (code-server), with the real runtime process and real (tiny)
 * training on procedural sprites. Run by scripts/test-vscode.mjs.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { LatentLabApi } from '../../extension/extension';
import { cellOfKind, EXTENSION_ID, openNotebook, outputText, runCells, screenshot, waitFor, workspaceFolder } from './support';

let api: LatentLabApi;

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

  test('quickstart runs end to end: progress, metrics, images, run folder', async () => {
    const editor = await openNotebook(path.join(workspaceFolder(), 'quickstart.aexp'));
    const notebook = editor.notebook;
    const started = Date.now();
    const code = notebook.getCells().filter((cell) => cell.kind === vscode.NotebookCellKind.Code && (cell.metadata.aexp as { kind: string }).kind !== 'frontMatter');
    const run = runCells(notebook, code, 170_000);
    const train = cellOfKind(notebook, 'train');
    await waitFor('a progress line', () => /epoch \d+\/\d+ · step/.test(outputText(train)), 60_000);
    console.log(`[measure] runtime cold start to first progress line ${(Date.now() - started)} ms`);
    await run;
    for (const cell of code) assert.equal(cell.executionSummary?.success, true, `${(cell.metadata.aexp as { kind: string }).kind}: ${outputText(cell)}`);
    assert.match(outputText(cellOfKind(notebook, 'data')), /sprites/);
    assert.match(outputText(train), /completed: 5\/5 epochs/);
    assert.match(outputText(train), /epoch 5: /);
    const runDir = /run folder: (.+)/.exec(outputText(train))?.[1];
    assert.ok(runDir && existsSync(path.join(runDir, 'checkpoints', 'last.ckpt')), `run folder ${runDir}`);
    for (const kind of ['reconstruct', 'sample']) {
      const images = cellOfKind(notebook, kind).outputs.flatMap((output) => output.items).filter((item) => item.mime === 'image/png');
      assert.equal(images.length, 1, `${kind} shows one image`);
      assert.deepEqual([...images[0].data.subarray(1, 4)], [...Buffer.from('PNG')]);
    }
    assert.ok(api.runtimePid(), 'the runtime is running');
    editor.revealRange(new vscode.NotebookRange(cellOfKind(notebook, 'reconstruct').index, cellOfKind(notebook, 'sample').index + 1), vscode.NotebookEditorRevealType.AtTop);
    await screenshot('quickstart');
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
});
