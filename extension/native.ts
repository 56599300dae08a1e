/**
 * "Install Native TensorFlow Backend": tfjs-node(-gpu) cannot ship in a .vsix (its install
 * downloads libtensorflow for the machine), so this installs it with npm into the extension's
 * global storage, on a machine with internet, and the runtime loads it from there
 * (AEXP_TFJS_NODE_PATH, see runtime/backends/select.ts).
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { Manifest } from './nativeSpec';
import { nativeBackendSpec } from './nativeSpec';

export function nativeFolder(context: vscode.ExtensionContext): string {
  return path.join(context.globalStorageUri.fsPath, 'tfjs-node');
}

/** The folder to hand the runtime, when something was installed there. */
export function installedNativeFolder(context: vscode.ExtensionContext): string | undefined {
  const folder = nativeFolder(context);
  return existsSync(path.join(folder, 'node_modules', '@tensorflow')) ? folder : undefined;
}

export async function installNativeBackend(context: vscode.ExtensionContext, onInstalled: () => void): Promise<void> {
  const packages = [
    { label: '@tensorflow/tfjs-node', detail: 'libtensorflow on the CPU (Linux, macOS, Windows; about 300 MB)' },
    ...(process.platform === 'linux' && process.arch === 'x64' ? [{ label: '@tensorflow/tfjs-node-gpu', detail: 'libtensorflow with CUDA on an NVIDIA GPU (needs CUDA 11.2 and cuDNN 8.1; about 400 MB)' }] : []),
  ];
  let choices: { label: string; detail: string; spec: string }[];
  try {
    choices = packages.map((entry) => ({ ...entry, spec: nativeBackendSpec(context.extension.packageJSON as Manifest, entry.label) }));
  } catch (error) {
    void vscode.window.showErrorMessage(`Latent Lab: ${(error as Error).message}`);
    return;
  }
  const pick = await vscode.window.showQuickPick(choices, { title: 'Install the native TensorFlow backend (downloads from the npm registry and Google storage)' });
  if (!pick) return;
  const folder = nativeFolder(context);
  mkdirSync(folder, { recursive: true });
  const task = new vscode.Task(
    { type: 'latent-lab', task: 'install-native-backend' },
    vscode.TaskScope.Global,
    `install ${pick.label}`,
    'Latent Lab',
    new vscode.ProcessExecution('npm', ['install', '--no-audit', '--no-fund', '--prefix', folder, pick.spec]),
  );
  const execution = await vscode.tasks.executeTask(task);
  const code = await new Promise<number | undefined>((resolve) => {
    const subscription = vscode.tasks.onDidEndTaskProcess((event) => {
      if (event.execution !== execution) return;
      subscription.dispose();
      resolve(event.exitCode);
    });
  });
  if (code === 0) {
    onInstalled();
    void vscode.window.showInformationMessage(`Latent Lab: ${pick.label} is installed. The runtime restarts with it on the next run (backend "auto" or "tensorflow").`);
  } else {
    void vscode.window.showErrorMessage(`Latent Lab: installing ${pick.label} failed (exit code ${code ?? 'unknown'}). Its install downloads libtensorflow, which needs internet access; the terminal shows why.`);
  }
}
