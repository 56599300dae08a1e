/**
 * `latentLab.moreRunsFolders`: a folder of run folders outside the workspace (a cluster's scratch)
 * is listed by the Runs panel beside the workspace's own runs, and its runs open in the explorer.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import type { LatentLabApi } from '../../extension/extension';
import { writeRun } from '../helpers/written-runs';
import { EXTENSION_ID, waitFor, workspaceFolder } from './support';

suite('More runs folders', () => {
  test('a run in a folder named by latentLab.moreRunsFolders is listed in the Runs panel; without the setting it is not', async () => {
    const api = await vscode.extensions.getExtension<LatentLabApi>(EXTENSION_ID)!.activate();
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'latent-lab-scratch-'));
    const own = writeRun(path.join(workspaceFolder(), '.aexp', 'runs'), { experiment: 'workspace-run', start: new Date(Date.UTC(2026, 1, 3, 3, 0, 0)), epochs: 2, stepsPerEpoch: 5, status: 'completed' });
    const run = writeRun(scratch, { experiment: 'scratch-run', start: new Date(Date.UTC(2026, 1, 3, 4, 0, 0)), epochs: 2, stepsPerEpoch: 5, status: 'completed' });
    const config = vscode.workspace.getConfiguration('latentLab');
    try {
      await vscode.commands.executeCommand('latentLab.showRuns');
      await waitFor('the workspace\'s run in the table', () => api.runs.panel?.state.listed.includes(own) === true, 30_000);
      assert.ok(!api.runs.panel!.state.listed.includes(run), 'a folder no setting names is not read');
      await config.update('moreRunsFolders', [scratch], vscode.ConfigurationTarget.Workspace);
      await vscode.commands.executeCommand('latentLab.showRuns');
      await waitFor('the scratch folder\'s run in the table', () => api.runs.panel?.state.listed.includes(run) === true, 30_000).catch((error: Error) => {
        throw new Error(`${error.message}; listed: ${JSON.stringify(api.runs.panel?.state.listed)}`);
      });
    } finally {
      await config.update('moreRunsFolders', undefined, vscode.ConfigurationTarget.Workspace);
      rmSync(scratch, { recursive: true, force: true });
      rmSync(path.dirname(own), { recursive: true, force: true });
    }
  });
});
