/** What a suite whose tests train does after each test, passed or failed. */
import * as vscode from 'vscode';
import type { LatentLabApi } from '../../extension/extension';
import { waitFor } from './support';

/** Stops a run still going (a failed test must not leave its epochs training behind it) and closes every editor. */
export async function stopTrainingAndCloseEditors(api: LatentLabApi): Promise<void> {
  if (api.controller.isRunning) {
    await api.controller.interrupt();
    await waitFor('the run to stop', () => !api.controller.isRunning, 60_000);
  }
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}
