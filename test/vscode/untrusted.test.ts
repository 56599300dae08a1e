/** Run in an instance started without --disable-workspace-trust: the folder is not trusted. */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { LatentLabApi } from '../../extension/extension';
import { cellOfKind, EXTENSION_ID, openNotebook, outputText, screenshot, waitFor, workspaceFolder } from './support';

suite('Latent Lab in an untrusted workspace', () => {
  test('files open and edit, but running says why it cannot', async () => {
    assert.equal(vscode.workspace.isTrusted, false, 'this instance must not trust the folder');
    const api = await vscode.extensions.getExtension<LatentLabApi>(EXTENSION_ID)!.activate();
    const editor = await openNotebook(path.join(workspaceFolder(), 'tiny.aexp'));
    const model = cellOfKind(editor.notebook, 'model');
    // VS Code's restricted mode asks for trust before a kernel runs (a dialog, refused in tests), so
    // the kernel is called directly here: it must refuse on its own, whoever calls it.
    await api.controller.run([model], editor.notebook);
    await waitFor('the refused execution to end', () => model.executionSummary?.success === false, 10_000);
    assert.match(outputText(cellOfKind(editor.notebook, 'data')) + outputText(model), /untrusted workspace/);
    assert.equal(api.runtimePid(), undefined, 'no runtime was started');
    await screenshot('untrusted');
  });

  test('the workspace cannot choose the folders runs and datasets go to', async () => {
    const api = await vscode.extensions.getExtension<LatentLabApi>(EXTENSION_ID)!.activate();
    // scripts/test-vscode.mjs writes these into the workspace's .vscode/settings.json.
    const written = JSON.parse(readFileSync(path.join(workspaceFolder(), '.vscode', 'settings.json'), 'utf8')) as Record<string, string>;
    assert.equal(written['latentLab.runsFolder'], '../runs-chosen-by-the-repository');
    const inspected = vscode.workspace.getConfiguration('latentLab').inspect<string>('runsFolder');
    console.log(`[untrusted] inspect(runsFolder): workspace ${JSON.stringify(inspected?.workspaceValue)}, default ${JSON.stringify(inspected?.defaultValue)}`);
    const { runsFolder, dataDir } = api.settings();
    assert.equal(runsFolder, undefined, 'latentLab.runsFolder keeps its default');
    assert.equal(dataDir, undefined, 'latentLab.datasetCacheFolder keeps its default');
    assert.ok(!api.datasetCacheFolder().includes('datasets-chosen-by-the-repository'), api.datasetCacheFolder());
  });

  test('nothing is restored from run folders in an untrusted workspace (they are the repository\'s files)', async () => {
    const api = await vscode.extensions.getExtension<LatentLabApi>(EXTENSION_ID)!.activate();
    const file = path.join(workspaceFolder(), 'shipped-outputs.aexp');
    writeFileSync(file, readFileSync(path.join(workspaceFolder(), 'tiny.aexp'), 'utf8'));
    const editor = await openNotebook(file);
    // A run folder as a repository could ship it, where this notebook's runs are looked for.
    const runDir = path.join(api.controller.runsFolder(editor.notebook), '20990101-000000');
    mkdirSync(runDir, { recursive: true });
    writeFileSync(path.join(runDir, 'config.json'), '{}');
    writeFileSync(path.join(runDir, 'outputs.json'), JSON.stringify({ version: 1, events: [{ type: 'cellOutput', cell: 'data', text: 'shipped by the repository' }, { type: 'image', cell: 'train', kind: 'samples', epoch: 1, path: '/dev/zero' }] }));
    assert.equal(await api.controller.restore(editor.notebook), 'nothing');
    assert.deepEqual(editor.notebook.getCells().map((cell) => cell.outputs.length), editor.notebook.getCells().map(() => 0), 'no cell shows anything');
  });
});
