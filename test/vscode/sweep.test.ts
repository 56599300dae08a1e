/**
 * The sweep cell in the notebook: running it offers to run the sweep, and run here it shows one
 * line per run as the runs go, then the summary table; the runs land in the notebook's runs folder.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { acceptQuickInput, cellOfKind, openNotebook, outputText, waitFor, workspaceFolder } from './support';

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
  });
});
