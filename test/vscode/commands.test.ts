/**
 * Commands and guidance as a person meets them in a browser (code-server is VS Code's web UI):
 * Open Run Folder, the quick fix next to a key that is already set, the dataset picker and the
 * walkthrough. Runs in the trusted instance after notebook.test.ts.
 */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { LatentLabApi } from '../../extension/extension';
import { cellOfKind, click, EXTENSION_ID, openNotebook, outputText, runCells, screenshot, waitFor, workspaceFolder } from './support';

let api: LatentLabApi;

suite('Latent Lab commands in the browser', () => {
  suiteSetup(async () => {
    api = await vscode.extensions.getExtension<LatentLabApi>(EXTENSION_ID)!.activate();
  });

  teardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('Open Run Folder shows the run folder in the Explorer where revealFileInOS does not exist', async () => {
    assert.equal(vscode.env.uiKind, vscode.UIKind.Web, 'code-server is a web UI');
    assert.ok(!(await vscode.commands.getCommands(true)).includes('revealFileInOS'), 'the browser has no revealFileInOS');
    const editor = await openNotebook(path.join(workspaceFolder(), 'tiny.aexp'));
    const train = cellOfKind(editor.notebook, 'train');
    await runCells(editor.notebook, [train]);
    assert.equal(train.executionSummary?.success, true, 'the tiny run trained');
    const runDir = api.controller.lastRunDir.get(editor.notebook.uri.toString());
    assert.ok(runDir && existsSync(path.join(runDir, 'summary.json')), `a run folder: ${runDir}`);
    assert.equal(await vscode.commands.executeCommand('latentLab.openRunFolder'), 'explorer');
    // The Explorer's row for the folder is on screen: a person could click it.
    await click(path.basename(runDir));
    await screenshot('open-run-folder');
  });

  test('a runs folder chosen in the settings is where the next run writes, without restarting anything by hand', async () => {
    const config = vscode.workspace.getConfiguration('latentLab');
    const editor = await openNotebook(path.join(workspaceFolder(), 'tiny.aexp'));
    const train = cellOfKind(editor.notebook, 'train');
    // A runtime started for the default runs folder.
    await vscode.commands.executeCommand('latentLab.trainAgain');
    await waitFor('a run in .aexp/runs', () => api.controller.lastRunDir.get(editor.notebook.uri.toString())?.includes(`${path.sep}.aexp${path.sep}runs${path.sep}`) && !api.controller.isRunning, 120_000);
    const pid = api.runtimePid();
    assert.ok(pid, 'a runtime is running');
    await config.update('runsFolder', 'custom-runs', vscode.ConfigurationTarget.Global);
    try {
      // That runtime may write only into .aexp/runs: being idle, it is started again for the new folder.
      await runCells(editor.notebook, [train]);
      assert.notEqual(api.runtimePid(), pid, 'a new runtime for the new runs folder');
      assert.equal(train.executionSummary?.success, true, `the run trained: ${outputText(train)}`);
      const runDir = api.controller.lastRunDir.get(editor.notebook.uri.toString());
      assert.ok(runDir && path.relative(path.join(workspaceFolder(), 'custom-runs', 'tiny'), runDir).split(path.sep).length === 1, `the run folder is in custom-runs/tiny: ${runDir}`);
      assert.ok(existsSync(path.join(runDir, 'summary.json')), 'its summary is written');
    } finally {
      await config.update('runsFolder', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  test('the quick fix for a misspelt key never writes a key the cell already has', async () => {
    const file = path.join(workspaceFolder(), 'duplicate-key.aexp');
    writeFileSync(file, '# Duplicate\n\n```data\ndataset: sprites\nsize: 16\ncount: 600\n```\n\n```model\nkind: vae\nlatnet: 4\nlatent: 8\nencoder: [dense 64 relu]\n```\n\n```train\nepochs: 1\n```\n');
    const editor = await openNotebook(file);
    const model = cellOfKind(editor.notebook, 'model');
    const typo = await waitFor('the latnet diagnostic', () => vscode.languages.getDiagnostics(model.document.uri).find((diagnostic) => /latnet/.test(diagnostic.message)), 20_000);
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', model.document.uri, typo.range);
    const titles = actions.map((action) => action.title);
    assert.ok(!titles.some((title) => /^Change to "latent"/.test(title)), `no rename into a duplicate: ${titles.join('; ')}`);
    const remove = actions.find((action) => /^Remove "latnet"/.test(action.title));
    assert.ok(remove?.edit, `a removal is offered instead: ${titles.join('; ')}`);
    assert.notEqual(remove.isPreferred, true, 'removing what the person wrote is never applied as the preferred fix');
    await screenshot('duplicate-key-quick-fix');
    assert.ok(await vscode.workspace.applyEdit(remove.edit));
    assert.equal(model.document.getText(), 'kind: vae\nlatent: 8\nencoder: [dense 64 relu]');
    await waitFor('the diagnostics to clear', () => vscode.languages.getDiagnostics(model.document.uri).length === 0, 20_000);
  });

  test('the dataset picker says which datasets are cached', async function () {
    const shared = path.resolve(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, '..', 'shared', 'data');
    if (!existsSync(path.join(shared, 'mnist'))) {
      console.log(`[skip] the dataset picker test reads ${shared}, which is absent`);
      this.skip();
    }
    const config = vscode.workspace.getConfiguration('latentLab');
    await config.update('datasetCacheFolder', shared, vscode.ConfigurationTarget.Global);
    try {
      assert.equal(api.datasetCacheFolder(), shared);
      const picked = vscode.commands.executeCommand('latentLab.trainVae');
      await screenshot('dataset-picker');
      await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
      assert.equal(await picked, undefined, 'closing the picker cancels Train VAE');
    } finally {
      await config.update('datasetCacheFolder', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  test('the walkthrough opens at its backend step', async () => {
    // Without the Chat side bar the page is wide enough to show the step's page beside it.
    await vscode.commands.executeCommand('workbench.action.closeAuxiliaryBar');
    // VS Code names the step by the category it is given, a `#` and the step's own id.
    await vscode.commands.executeCommand('workbench.action.openWalkthrough', { category: `${EXTENSION_ID}#getStarted`, step: 'backend' }, false);
    await waitFor('the walkthrough editor', () => vscode.window.tabGroups.activeTabGroup.activeTab?.label === 'Welcome', 20_000);
    await screenshot('walkthrough-backend');
    // The step's page (backend.md) renders in a webview a moment later, out of reach of the API.
    await screenshot('walkthrough-backend-page');
  });
});
