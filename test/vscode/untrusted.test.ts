/** Run in an instance started without --disable-workspace-trust: the folder is not trusted. */
import assert from 'node:assert/strict';
import path from 'node:path';
import * as vscode from 'vscode';
import type { LatentLabApi } from '../../extension/extension';
import { cellOfKind, EXTENSION_ID, openNotebook, outputText, runCells, screenshot, workspaceFolder } from './support';

suite('Latent Lab in an untrusted workspace', () => {
  test('files open and edit, but running says why it cannot', async () => {
    assert.equal(vscode.workspace.isTrusted, false, 'this instance must not trust the folder');
    const api = await vscode.extensions.getExtension<LatentLabApi>(EXTENSION_ID)!.activate();
    const editor = await openNotebook(path.join(workspaceFolder(), 'tiny.aexp'));
    const model = cellOfKind(editor.notebook, 'model');
    await runCells(editor.notebook, [model], 60_000);
    assert.equal(model.executionSummary?.success, false);
    assert.match(outputText(cellOfKind(editor.notebook, 'data')) + outputText(model), /untrusted workspace/);
    assert.equal(api.runtimePid(), undefined, 'no runtime was started');
    await screenshot('untrusted');
  });
});
