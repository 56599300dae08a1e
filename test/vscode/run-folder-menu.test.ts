/**
 * Explore Latent Space from a run folder's context menu in the Explorer tree, in a real VS Code: a
 * run trained from its notebook, copied under another start time (a run the explorer does not
 * follow), right-clicked in the tree as a person does; folders that are not runs have no entry, and
 * the command given one says why and changes nothing.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { LatentLabApi } from '../../extension/extension';
import { runFolderName, writeRun } from '../helpers/written-runs';
import { click, contextMenuLabels, evaluateInFrames, EXTENSION_ID, press, screenshot, trainSmall, waitFor, workspaceFolder } from './support';

const ENTRY = 'Explore Latent Space';
const OPEN = 'Open Run\'s Experiment';

async function waitForValue<T>(what: string, probe: () => Promise<T | null>, accept: (value: T) => boolean = () => true, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const last = await probe();
    if (last !== null && accept(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last seen: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Selects `folder` in the Explorer tree, right-clicks its row and answers the context menu's labels. */
async function contextMenuOf(folder: string): Promise<string[]> {
  await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(folder));
  // The row's accessible name is the folder's name; a file named so after it (menu-run.aexp) comes later in the tree.
  await click(path.basename(folder), 'right');
  return waitForValue(`the context menu of ${path.basename(folder)}`, contextMenuLabels, (labels) => labels.length > 0);
}

suite('Explore Latent Space from a run folder\'s context menu', () => {
  let api: LatentLabApi;
  let runsRoot: string;
  /** A copy of a trained run, under an earlier start time: a run the explorer is not showing. */
  let copied: string;
  let made: string[] = [];

  suiteSetup(async () => {
    api = await vscode.extensions.getExtension<LatentLabApi>(EXTENSION_ID)!.activate();
    runsRoot = path.join(workspaceFolder(), '.aexp', 'runs');
    const trained = (await trainSmall('menu-run.aexp', { title: 'Menu run', seed: 5, data: 'dataset: sprites\nsize: 16\ncount: 200\ntest_fraction: 0.25\nbatch: 50', model: 'kind: vae\nlatent: 2\nencoder: [dense 16 relu]', train: 'epochs: 1' })).runDir!;
    await waitFor('the menu to know the trained run', () => api.runFolderMenu.folders.includes(trained), 20_000);
    copied = path.join(path.dirname(trained), runFolderName(new Date(Date.UTC(2026, 0, 3, 4, 5, 6))));
    cpSync(trained, copied, { recursive: true });
    made = [copied];
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  suiteTeardown(async () => {
    await press('Escape').catch(() => undefined);
    for (const folder of made) rmSync(folder, { recursive: true, force: true });
  });

  test('right-clicking a run folder in the Explorer tree offers Explore Latent Space, which opens the explorer on that run', async () => {
    await waitFor('the menu to know the copied run', () => api.runFolderMenu.folders.includes(copied), 20_000);
    const workbench = vscode.workspace.getConfiguration('workbench');
    await workbench.update('colorTheme', 'Default Dark Modern', vscode.ConfigurationTarget.Global);
    try {
      const labels = await contextMenuOf(copied);
      assert.ok(labels.includes(ENTRY) && labels.includes(OPEN), `the run folder's menu: ${JSON.stringify(labels)}`);
      await screenshot('run-folder-menu-dark');
      await click(ENTRY);
    } finally {
      await workbench.update('colorTheme', undefined, vscode.ConfigurationTarget.Global);
    }
    await waitFor('the explorer to show the copied run', () => api.explorer.state.choice?.runDir === copied, 20_000);
    assert.equal(api.explorer.state.follow, false, 'a run chosen from its folder is not the notebook\'s run to follow');
    const shown = await waitForValue<{ run: string; points: string }>('the page to show the run\'s points', async () => await evaluateInFrames(`(() => {
      const root = document.getElementById('explorer-root');
      const run = root?.querySelector('vscode-single-select[title="run"]');
      return root && run && root.dataset.points && !root.dataset.busy ? { run: run.value, points: root.dataset.points } : null;
    })()`) as { run: string; points: string } | null, (value) => value.run === copied);
    assert.equal(Number(shown.points), 50, 'the test split of the copied run (200 sprites, a quarter tested) is drawn');
    await screenshot('run-folder-menu-explorer');
  });

  test('Open Run\'s Experiment from a run folder\'s menu opens the notebook the run was trained from', async () => {
    const notebook = path.join(workspaceFolder(), 'menu-run.aexp');
    assert.notEqual(vscode.window.activeNotebookEditor?.notebook.uri.fsPath, notebook, 'the notebook is closed');
    await contextMenuOf(copied);
    await click(OPEN);
    await waitFor('the run\'s notebook in front', () => vscode.window.activeNotebookEditor?.notebook.uri.fsPath === notebook, 20_000);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  test('folders that are not runs have no entry: an experiment\'s folder, a folder named like a run that holds none, and one outside the runs folders', async () => {
    const outside = path.join(workspaceFolder(), runFolderName(new Date(Date.UTC(2026, 0, 3, 4, 5, 7))));
    mkdirSync(outside, { recursive: true });
    writeFileSync(path.join(outside, 'config.json'), '{}');
    const empty = path.join(runsRoot, 'menu-empty', runFolderName(new Date(Date.UTC(2026, 0, 3, 4, 5, 9))));
    mkdirSync(empty, { recursive: true });
    made.push(outside, path.dirname(empty));
    for (const folder of [path.dirname(copied), empty, outside]) {
      const labels = await contextMenuOf(folder);
      assert.ok(!labels.includes(ENTRY) && !labels.includes(OPEN), `${path.relative(workspaceFolder(), folder)}'s menu: ${JSON.stringify(labels)}`);
      await press('Escape');
    }
  });

  test('Explore Latent Space (or Open Run\'s Experiment) given a folder that is not a run, or a run with no checkpoint yet, says why and changes nothing', async () => {
    const before = api.explorer.state.choice;
    const experiment = path.dirname(copied);
    assert.match(String(await vscode.commands.executeCommand('latentLab.exploreLatentSpace', vscode.Uri.file(experiment))), new RegExp(`^${experiment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not a run folder: a run is a folder under the runs folders`));
    const unsaved = writeRun(runsRoot, { experiment: 'menu-unsaved', start: new Date(Date.UTC(2026, 0, 3, 4, 5, 8)), epochs: 1 });
    made.push(path.dirname(unsaved));
    assert.match(String(await vscode.commands.executeCommand('latentLab.exploreLatentSpace', vscode.Uri.file(unsaved))), /^the run menu-unsaved\/\d{8}-\d{6} has no checkpoint yet/);
    assert.deepEqual(api.explorer.state.choice, before, 'the explorer shows what it showed');
    assert.match(String(await vscode.commands.executeCommand('latentLab.openRunExperiment', vscode.Uri.file(experiment))), /is not a run folder/);
  });
});
