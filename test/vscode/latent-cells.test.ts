/**
 * The interpolate, traverse and explore cells in a real VS Code: a tiny sprites VAE run from the
 * notebook shows each cell's picture with its caption, and a reopened notebook shows them again
 * from the run folder.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { cellOfKind, openNotebook, outputText, runCells, screenshot, waitFor, workspaceFolder } from './support';

const CELLS = ['interpolate', 'traverse', 'explore'] as const;

function pictures(cell: vscode.NotebookCell): number {
  return cell.outputs.flatMap((output) => output.items).filter((item) => item.mime === 'image/png').length;
}

suite('Latent Lab analysis cells in VS Code', () => {
  test('interpolate, traverse and explore show their pictures and captions, and show them again after a reopen', async () => {
    const file = path.join(workspaceFolder(), 'latent-tour.aexp');
    writeFileSync(file, [
      '---\ntitle: Latent tour\nseed: 5\n---',
      '```data\ndataset: sprites\nsize: 16\ncount: 400\nbatch: 50\n```',
      '```model\nkind: vae\nlatent: 3\nencoder: [dense 32 relu]\n```',
      '```train\nepochs: 1\n```',
      '```interpolate\npairs: 2\nmethod: slerp\nsteps: 5\n```',
      '```traverse\nsteps: 5\n```',
      '```explore\n```',
    ].join('\n\n') + '\n');
    let editor = await openNotebook(file);
    const code = editor.notebook.getCells().filter((cell) => cell.kind === vscode.NotebookCellKind.Code && (cell.metadata.aexp as { kind: string }).kind !== 'frontMatter');
    await runCells(editor.notebook, code, 120_000);
    for (const cell of code) assert.equal(cell.executionSummary?.success, true, outputText(cell));
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
