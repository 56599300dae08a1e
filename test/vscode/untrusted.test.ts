/** Run in an instance started without --disable-workspace-trust: the folder is not trusted. */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { LatentLabApi } from '../../extension/extension';
import { cellOfKind, evaluateInFrames, EXTENSION_ID, openNotebook, outputText, screenshot, waitFor, workspaceFolder } from './support';

/**
 * A run folder the repository ships for shipped-outputs.aexp, there before the notebook opens;
 * `opened` says whether its outputs.json was, `checkpointOpened` whether its checkpoints/last.ckpt was.
 */
let shipped: { notebook: string; runDir: string; opened: Promise<void>; checkpointOpened: Promise<void>; writers: ChildProcess[] } | undefined;

/** A FIFO at `file` with a writer waiting for a reader: opening it, even without blocking, lets the writer's own open return, which it reports. */
function waitingFifo(file: string): { writer: ChildProcess; opened: Promise<void> } {
  execFileSync('mkfifo', [file]);
  const writer = spawn('sh', ['-c', 'exec 3>"$1" && echo opened', 'writer', file], { stdio: ['ignore', 'pipe', 'ignore'] });
  return { writer, opened: new Promise<void>((resolve) => writer.stdout!.once('data', () => resolve())) };
}

/** Whether `opened` settles within moments: a reader let through opens it at once; waiting longer cannot make a working trust gate fail. */
function openedSoon(opened: Promise<void>): Promise<boolean> {
  return Promise.race([opened.then(() => true), new Promise<false>((resolve) => setTimeout(() => resolve(false), 2000))]);
}

suite('Latent Lab in an untrusted workspace', () => {
  suiteSetup(() => {
    const notebook = path.join(workspaceFolder(), 'shipped-outputs.aexp');
    writeFileSync(notebook, readFileSync(path.join(workspaceFolder(), 'tiny.aexp'), 'utf8'));
    const runDir = path.join(workspaceFolder(), '.aexp', 'runs', 'shipped-outputs', new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '').replace('T', '-'));
    mkdirSync(runDir, { recursive: true });
    writeFileSync(path.join(runDir, 'config.json'), '{}');
    writeFileSync(path.join(runDir, 'summary.json'), JSON.stringify({ status: 'completed', backend: 'wasm', device: 'cpu', epochs: 1, targetEpochs: 1, steps: 1, units: 'nats', durationSeconds: 1 }));
    const outputs = waitingFifo(path.join(runDir, 'outputs.json'));
    // A checkpoint the explorer would list (and its runtime open) in a trusted workspace.
    mkdirSync(path.join(runDir, 'checkpoints'));
    const checkpoint = waitingFifo(path.join(runDir, 'checkpoints', 'last.ckpt'));
    shipped = { notebook, runDir, opened: outputs.opened, checkpointOpened: checkpoint.opened, writers: [outputs.writer, checkpoint.writer] };
  });

  suiteTeardown(() => {
    for (const writer of shipped?.writers ?? []) writer.kill();
  });

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

  test('a sweep cell neither runs nor submits its sweep, however it is asked, and says why', async () => {
    const api = await vscode.extensions.getExtension<LatentLabApi>(EXTENSION_ID)!.activate();
    const file = path.join(workspaceFolder(), 'sweep-untrusted.aexp');
    writeFileSync(file, readFileSync(path.join(workspaceFolder(), 'tiny.aexp'), 'utf8') + '\n```sweep\ngrid:\n  model.latent: [2, 3]\n```\n');
    const editor = await openNotebook(file);
    const sweep = cellOfKind(editor.notebook, 'sweep');
    await api.controller.run([sweep], editor.notebook);
    await waitFor('the refused sweep cell to end', () => sweep.executionSummary?.success === false, 10_000);
    assert.match(outputText(sweep), /does not run in an untrusted workspace/);
    // The command, asked directly for each place a sweep can go, refuses the same way.
    for (const target of ['here', 'slurm']) {
      await vscode.commands.executeCommand('latentLab.runSweep', sweep, target);
      assert.match(outputText(sweep), /does not run in an untrusted workspace/);
    }
    assert.ok(!existsSync(path.join(workspaceFolder(), '.aexp', 'runs', 'sweep-untrusted')), 'no run of the sweep was started');
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
    assert.ok(shipped, 'suiteSetup shipped a run folder');
    const api = await vscode.extensions.getExtension<LatentLabApi>(EXTENSION_ID)!.activate();
    const editor = await openNotebook(shipped.notebook);
    assert.equal(api.controller.runsFolder(editor.notebook), path.dirname(shipped.runDir), 'the run folder lies where this notebook\'s runs are looked for');
    // Whatever the notebook's opening started has ended by the time a restore asked now returns: it
    // would have read outputs.json first, or found it read.
    assert.equal(await api.controller.restore(editor.notebook), 'nothing');
    assert.equal(await openedSoon(shipped.opened), false, 'outputs.json (a FIFO whose writer waits for a reader) was opened');
    assert.deepEqual(editor.notebook.getCells().map((cell) => cell.outputs.length), editor.notebook.getCells().map(() => 0), 'no cell shows anything');
  });

  test('the Runs panel reads no run folder and says why', async () => {
    const api = await vscode.extensions.getExtension<LatentLabApi>(EXTENSION_ID)!.activate();
    await vscode.commands.executeCommand('latentLab.showRuns');
    const shown = await waitForPage(() => evaluateInFrames(`(() => { const root = document.getElementById('runs-root'); return root && root.dataset.untrusted === 'true' ? root.textContent : null; })()`));
    assert.match(String(shown), /not trusted/);
    assert.deepEqual(api.runs.panel!.state.listed, [], 'no run folder was listed');
    await screenshot('runs-untrusted');
  });

  test('the Latent Explorer reads no run folder and says why', async () => {
    const api = await vscode.extensions.getExtension<LatentLabApi>(EXTENSION_ID)!.activate();
    await vscode.commands.executeCommand('latentLab.exploreLatentSpace');
    await waitForPage(() => evaluateInFrames(`(() => document.getElementById('explorer-root') ? true : null)()`));
    // The page is up and has asked for its runs. The shipped run folder has a checkpoint the
    // explorer would list, and its runtime open, in a trusted workspace: neither happened.
    assert.equal(await openedSoon(shipped!.checkpointOpened), false, 'checkpoints/last.ckpt (a FIFO whose writer waits for a reader) was opened');
    assert.equal(api.explorer.state.choice, undefined, 'no run was chosen');
    assert.equal(api.explorerRuntimePid(), undefined, 'the explorer started no runtime');
    assert.equal(api.runtimePid(), undefined, 'no runtime was started');
    const shown = await waitForPage(() => evaluateInFrames(`(() => { const root = document.getElementById('explorer-root'); return root && root.dataset.untrusted === 'true' ? root.textContent : null; })()`));
    assert.match(String(shown), /trust this workspace to explore its runs/);
    assert.equal(api.explorer.state.points, undefined, 'nothing was encoded');
  });

  test('a run folder\'s Explore Latent Space and Open Run\'s Experiment read nothing, and the Explorer\'s menu lists no run folder', async () => {
    const api = await vscode.extensions.getExtension<LatentLabApi>(EXTENSION_ID)!.activate();
    await api.runFolderMenu.refresh();
    assert.deepEqual(api.runFolderMenu.folders, [], 'the shipped run folder is not offered');
    assert.equal(await vscode.commands.executeCommand('latentLab.exploreLatentSpace', vscode.Uri.file(shipped!.runDir)), undefined, 'no refusal naming what the folder holds');
    assert.equal(api.explorer.state.choice, undefined, 'the run folder was not chosen');
    assert.equal(api.explorerRuntimePid(), undefined, 'the explorer started no runtime');
    assert.equal(await openedSoon(shipped!.checkpointOpened), false, 'checkpoints/last.ckpt was opened');
    assert.match(String(await vscode.commands.executeCommand('latentLab.openRunExperiment', vscode.Uri.file(shipped!.runDir))), /not trusted, so its run folders are not read/);
  });
});

async function waitForPage(probe: () => Promise<unknown>): Promise<unknown> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error('the page did not say why it shows nothing');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
