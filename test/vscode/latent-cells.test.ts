/**
 * The interpolate, traverse and explore cells in a real VS Code: a tiny sprites VAE run from the
 * notebook shows each cell's picture with its caption, and a reopened notebook shows them again
 * from the run folder.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import * as vscode from 'vscode';
import { cellOfKind, openNotebook, outputText, screenshot, trainSmall, waitFor, workspaceFolder } from './support';

const CELLS = ['interpolate', 'traverse', 'explore'] as const;

function pictures(cell: vscode.NotebookCell): number {
  return cell.outputs.flatMap((output) => output.items).filter((item) => item.mime === 'image/png').length;
}

suite('Latent Lab analysis cells in VS Code', () => {
  test('interpolate, traverse and explore show their pictures and captions, and show them again after a reopen', async () => {
    const file = path.join(workspaceFolder(), 'latent-tour.aexp');
    const trained = await trainSmall(path.basename(file), { title: 'Latent tour', seed: 5, data: 'dataset: sprites\nsize: 16\ncount: 400\nbatch: 50', model: 'kind: vae\nlatent: 3\nencoder: [dense 32 relu]', train: 'epochs: 1', more: ['```interpolate\npairs: 2\nmethod: slerp\nsteps: 5\n```', '```traverse\nsteps: 5\n```', '```explore\n```'] });
    let editor = trained.editor;
    for (const kind of CELLS) assert.equal(pictures(cellOfKind(editor.notebook, kind)), 1, `${kind} shows its picture: ${outputText(cellOfKind(editor.notebook, kind))}`);
    assert.match(outputText(cellOfKind(editor.notebook, 'interpolate')), /rows: test 0 \(\w+\) → test 1 \(\w+\)/);
    assert.match(outputText(cellOfKind(editor.notebook, 'traverse')), /z\d: KL \d+\.\d{3} nats/);
    assert.match(outputText(cellOfKind(editor.notebook, 'explore')), /PCA of \d+ posterior means \(test\)[\s\S]*0 blue: square/);
    editor.revealRange(new vscode.NotebookRange(cellOfKind(editor.notebook, 'interpolate').index, editor.notebook.cellCount), vscode.NotebookEditorRevealType.AtTop);
    await screenshot('latent-cells');

    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await waitFor('the notebook to close', () => !vscode.workspace.notebookDocuments.some((notebook) => notebook.uri.fsPath === file), 30_000);
    editor = await openNotebook(file);
    const reopened = editor.notebook;
    await waitFor('the restored pictures', () => CELLS.every((kind) => pictures(cellOfKind(reopened, kind)) === 1), 30_000);
  });
});
