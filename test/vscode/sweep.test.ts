/**
 * The sweep cell in the notebook: running it offers to run the sweep, and run here it shows one
 * line per run as the runs go, then the summary table; the runs land in the notebook's runs folder.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import { listRuns, sweepGroups } from '../../extension/runs-index';
import { acceptQuickInput, cellOfKind, evaluateInFrames, EXTENSION_ID, openNotebook, outputText, waitFor, workspaceFolder } from './support';

async function quickPickClosed(): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await evaluateInFrames(`(() => { const widget = document.querySelector('.quick-input-widget'); return widget && widget.style.display === 'none' ? true : null; })()`)) !== true) {
    if (Date.now() > deadline) throw new Error('the quick pick did not close');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The quick pick's rows as the page shows them, once it shows some (a closed one keeps its rows, hidden). */
async function quickPickRows(): Promise<string[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const rows = await evaluateInFrames(`(() => { const widget = document.querySelector('.quick-input-widget'); if (!widget || widget.style.display === 'none') return null; const rows = [...widget.querySelectorAll('.quick-input-list .monaco-list-row')]; return rows.length > 0 ? rows.map((row) => row.textContent) : null; })()`);
    if (Array.isArray(rows)) return rows as string[];
    if (Date.now() > deadline) throw new Error('no quick pick showed');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

suite('Latent Lab sweep cell', () => {
  teardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('running the sweep cell offers the sweep; run here, the cell shows each run and then the summary', async () => {
    const file = path.join(workspaceFolder(), 'sweep-tiny.aexp');
    writeFileSync(file, '---\nseed: 3\n---\n```data\ndataset: sprites\nsize: 12\ncount: 300\nbatch: 32\n```\n\n```model\nkind: vae\nlatent: 2\nencoder: [dense 16 relu]\n```\n\n```train\nepochs: 1\n```\n\n```sweep\ngrid:\n  model.latent: [2, 3]\n```\n');
    const editor = await openNotebook(file);
    const sweep = cellOfKind(editor.notebook, 'sweep');
    await vscode.commands.executeCommand('notebook.cell.execute', { ranges: [{ start: sweep.index, end: sweep.index + 1 }], document: editor.notebook.uri });
    // The offer's first choice is to run it here.
    await acceptQuickInput(() => sweep.outputs.length > 0 || sweep.executionSummary?.timing !== undefined);
    await waitFor('the sweep to end', () => sweep.executionSummary?.timing?.endTime !== undefined, 170_000);
    const text = outputText(sweep);
    assert.equal(sweep.executionSummary?.success, true, text);
    assert.match(text, /^run 0: completed .*$/m);
    assert.match(text, /^run 1: completed .*$/m);
    assert.match(text, /^sweep: 2 finished/m);
    assert.match(text, /^index +model\.latent +state +epochs +test\.loss/m);
    const runs = path.join(workspaceFolder(), '.aexp', 'runs', 'sweep-tiny');
    for (const index of [0, 1]) {
      const parent = path.join(runs, `sweep-tiny-sweep-000${index}`);
      assert.ok(existsSync(parent) && readdirSync(parent).length === 1, `${parent} holds the run`);
    }
    // The Runs panel's reading of what the CLI wrote: one sweep, both runs done, over its swept key.
    const rows = await listRuns([path.join(workspaceFolder(), '.aexp', 'runs')]);
    const groups = (await sweepGroups(rows)).filter((group) => group.name === 'sweep-tiny');
    assert.deepEqual(groups.map(({ id, total, done, keys, metric, problem }) => ({ id, total, done, keys, metric, problem })), [{ id: path.join(runs, '.sweeps', 'sweep-tiny'), total: 2, done: 2, keys: ['model.latent'], metric: 'test.loss', problem: undefined }]);
    assert.deepEqual(rows.filter((row) => row.sweep?.id === groups[0].id).map((row) => row.config['model.latent']).sort(), [2, 3]);
  });

  test('the offer lists Slurm when sbatch is on the extension host\'s PATH, and not otherwise', async () => {
    const file = path.join(workspaceFolder(), 'sweep-offer.aexp');
    writeFileSync(file, '```data\ndataset: sprites\n```\n\n```model\nkind: vae\nlatent: 2\n```\n\n```train\nepochs: 1\n```\n\n```sweep\ngrid:\n  model.latent: [2, 3]\n```\n');
    // Two PATHs that hold only a shell (the offer asks it for sbatch), one with an sbatch beside it: the same answer on any machine.
    const withSbatch = mkdtempSync(path.join(os.tmpdir(), 'sweep-offer-'));
    const withoutSbatch = mkdtempSync(path.join(os.tmpdir(), 'sweep-offer-'));
    for (const folder of [withSbatch, withoutSbatch]) symlinkSync('/bin/sh', path.join(folder, 'sh'));
    writeFileSync(path.join(withSbatch, 'sbatch'), '#!/bin/sh\necho "this sbatch submits nothing" >&2\nexit 1\n');
    chmodSync(path.join(withSbatch, 'sbatch'), 0o755);
    const pathBefore = process.env.PATH;
    try {
      const editor = await openNotebook(file);
      const sweep = cellOfKind(editor.notebook, 'sweep');
      // The tests run in the extension host's own process: its PATH is the one the offer looks through.
      const offered = async (folder: string) => {
        process.env.PATH = folder;
        const answered = vscode.commands.executeCommand('latentLab.runSweep', sweep);
        const rows = await quickPickRows();
        process.env.PATH = pathBefore;
        await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
        await answered;
        await quickPickClosed();
        return rows;
      };
      const slurm = await offered(withSbatch);
      assert.equal(slurm.length, 2, JSON.stringify(slurm));
      assert.match(slurm[0], /^Run the sweep here/);
      assert.match(slurm[1], /^Submit the sweep to Slurm/);
      const here = await offered(withoutSbatch);
      assert.equal(here.length, 1, JSON.stringify(here));
      assert.match(here[0], /^Run the sweep here/);
      assert.equal(sweep.executionSummary?.timing, undefined, 'a dismissed offer runs nothing');
      // The command palette has it too, for a notebook of this type.
      const manifest = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as { contributes: { commands: { command: string; title: string; category?: string }[]; menus: { commandPalette: { command: string; when?: string }[] } } };
      assert.deepEqual(manifest.contributes.commands.filter((command) => command.command === 'latentLab.runSweep').map(({ title, category }) => ({ title, category })), [{ title: 'Run Sweep', category: 'Latent Lab' }]);
      assert.equal(manifest.contributes.menus.commandPalette.find((entry) => entry.command === 'latentLab.runSweep')?.when, 'notebookType == latent-lab');
    } finally {
      process.env.PATH = pathBefore;
      for (const folder of [withSbatch, withoutSbatch]) rmSync(folder, { recursive: true, force: true });
      rmSync(file, { force: true });
    }
  });
});
