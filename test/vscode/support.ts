/** Helpers for tests that run inside VS Code (code-server), against the real extension and runtime. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { LatentLabApi } from '../../extension/extension';

export const EXTENSION_ID = 'latent-lab.latent-lab';

export function workspaceFolder(): string {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  if (!folder) throw new Error('the tests need a workspace folder');
  return folder;
}

export async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Asks the harness (scripts/test-vscode.mjs) for a screenshot of the browser and waits for it. */
export async function screenshot(name: string): Promise<void> {
  const directory = process.env.LATENT_LAB_ARTIFACTS;
  if (!directory) return;
  mkdirSync(directory, { recursive: true });
  writeFileSync(path.join(directory, `request-${name}`), '');
  await waitFor(`screenshot ${name}`, () => existsSync(path.join(directory, `done-${name}`)), 30_000);
}

/** Asks the harness to click, in the browser, the visible element whose accessible name starts with `label` (`right`: a right-click, which opens its context menu). */
export async function click(label: string, button: 'left' | 'right' = 'left'): Promise<void> {
  await askHarness(`the click on ${label}`, { click: label, button });
}

/** Asks the harness to press a key (Playwright's key names: `Escape`, `Enter`) in the browser, as a person's keyboard does. */
export async function press(key: string): Promise<void> {
  await askHarness(`the key ${key}`, { press: key });
}

async function askHarness(what: string, request: object): Promise<void> {
  const directory = process.env.LATENT_LAB_ARTIFACTS;
  if (!directory) throw new Error(`${what} needs the harness (scripts/test-vscode.mjs)`);
  const name = `click-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  mkdirSync(directory, { recursive: true });
  writeFileSync(path.join(directory, `request-${name}`), JSON.stringify(request));
  await waitFor(what, () => existsSync(path.join(directory, `done-${name}`)), 30_000);
  const result = readFileSync(path.join(directory, `done-${name}`), 'utf8');
  if (result !== 'ok') throw new Error(result);
}

/** The labels of the context menu showing in the workbench (drawn in a shadow root where the workbench uses one), or null when none shows. */
export async function contextMenuLabels(): Promise<string[] | null> {
  return await evaluateInFrames(`(() => {
    const roots = [document, ...[...document.querySelectorAll('.shadow-root-host')].map((host) => host.shadowRoot).filter(Boolean)];
    const menus = roots.flatMap((root) => [...root.querySelectorAll('.monaco-menu')]);
    const menu = menus.find((candidate) => candidate.getClientRects().length > 0);
    return menu ? [...menu.querySelectorAll('.action-label')].map((label) => label.textContent.trim()).filter(Boolean) : null;
  })()`) as string[] | null;
}

/**
 * Runs a JavaScript expression in each frame of the browser page (a notebook's outputs are in
 * nested webview frames) and answers the first value that is not null; null when no frame has one.
 */
export async function evaluateInFrames(expression: string): Promise<unknown> {
  const directory = process.env.LATENT_LAB_ARTIFACTS;
  if (!directory) throw new Error('evaluating in the page needs the harness (scripts/test-vscode.mjs)');
  const name = `evaluate-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  mkdirSync(directory, { recursive: true });
  writeFileSync(path.join(directory, `request-${name}`), JSON.stringify({ evaluate: expression }));
  await waitFor('the page to answer', () => existsSync(path.join(directory, `done-${name}`)), 30_000);
  return (JSON.parse(readFileSync(path.join(directory, `done-${name}`), 'utf8')) as { value: unknown }).value;
}

export function outputText(cell: vscode.NotebookCell): string {
  return cell.outputs.flatMap((output) => output.items).map((item) => {
    if (item.mime === 'text/plain') return new TextDecoder().decode(item.data);
    if (item.mime === 'application/vnd.code.notebook.error') return (JSON.parse(new TextDecoder().decode(item.data)) as { message: string }).message;
    return `<${item.mime}>`;
  }).join('\n');
}

export function cellOfKind(notebook: vscode.NotebookDocument, kind: string): vscode.NotebookCell {
  const cell = notebook.getCells().find((candidate) => (candidate.metadata.aexp as { kind?: string } | undefined)?.kind === kind);
  if (!cell) throw new Error(`${path.basename(notebook.uri.fsPath)} has no ${kind} cell`);
  return cell;
}

/**
 * Opens a file in the notebook editor the way a person does, so that closing the editor closes
 * the document (vscode.workspace.openNotebookDocument would keep it open for minutes).
 */
export async function openNotebook(file: string): Promise<vscode.NotebookEditor> {
  await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(file), 'latent-lab');
  const editor = await waitFor(`${path.basename(file)} in the notebook editor`, () => vscode.window.activeNotebookEditor?.notebook.uri.fsPath === file && vscode.window.activeNotebookEditor, 20_000);
  await vscode.commands.executeCommand('notebook.selectKernel', { id: 'latent-lab-runtime', extension: EXTENSION_ID });
  return editor;
}

/**
 * Runs cells and waits until each has ended (its execution has an end time). A cell's `success` may
 * then be true, false, or undefined (a stopped train cell, an analysis cell that did not run).
 */
export async function runCells(notebook: vscode.NotebookDocument, cells: vscode.NotebookCell[], timeoutMs = 150_000): Promise<void> {
  const before = cells.map((cell) => cell.executionSummary?.executionOrder);
  await vscode.commands.executeCommand('notebook.cell.execute', { ranges: cells.map((cell) => ({ start: cell.index, end: cell.index + 1 })), document: notebook.uri });
  await waitFor('the cells to finish', () => cells.every((cell, index) => cell.executionSummary?.executionOrder !== before[index] && cell.executionSummary?.timing?.endTime !== undefined), timeoutMs);
}

/** Accepts the quick input (an input box's value as it stands) once one is showing; `until` says it was taken. */
export async function acceptQuickInput(until: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!until()) {
    if (Date.now() > deadline) throw new Error(`no quick input was accepted within ${timeoutMs} ms`);
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Screenshots of the window as it stands in the dark, light and high-contrast themes (`<prefix>-dark.png`, …), then the theme as it was. */
export async function screenshotInThemes(prefix: string): Promise<void> {
  const workbench = vscode.workspace.getConfiguration('workbench');
  try {
    for (const [name, theme] of [['dark', 'Default Dark Modern'], ['light', 'Default Light Modern'], ['high-contrast', 'Default High Contrast']]) {
      await workbench.update('colorTheme', theme, vscode.ConfigurationTarget.Global);
      await screenshot(`${prefix}-${name}`);
    }
  } finally {
    await workbench.update('colorTheme', undefined, vscode.ConfigurationTarget.Global);
  }
}

/**
 * Turns the mouse wheel over the active notebook's cell list, `amount` > 0 downwards: outputs below
 * a long cell come into the picture. (The workbench reads this synthetic event's legacy
 * wheelDeltaY, whose sign is the opposite of deltaY's; 100 moves the list about 40 pixels.)
 */
export async function scrollNotebook(amount: number): Promise<void> {
  const done = await evaluateInFrames(`(() => {
    const rows = document.querySelector('.notebook-editor .monaco-list-rows');
    if (!rows) return null;
    rows.dispatchEvent(new WheelEvent('wheel', { deltaY: ${-amount}, deltaMode: 0, bubbles: true, cancelable: true }));
    return true;
  })()`);
  if (done !== true) throw new Error('no notebook cell list on the page to scroll');
}

/**
 * Writes a small sprites VAE experiment (its cells as given, then `more` cells), opens it and runs
 * every code cell, each of which must succeed: what the explorer, reload and menu suites start from.
 */
export async function trainSmall(name: string, options: { title: string; seed: number; data: string; model: string; train: string; more?: string[] }): Promise<{ editor: vscode.NotebookEditor; code: vscode.NotebookCell[]; runDir: string | undefined; file: string }> {
  const file = path.join(workspaceFolder(), name);
  writeFileSync(file, [`---\ntitle: ${options.title}\nseed: ${options.seed}\n---`, `\`\`\`data\n${options.data}\n\`\`\``, `\`\`\`model\n${options.model}\n\`\`\``, `\`\`\`train\n${options.train}\n\`\`\``, ...(options.more ?? [])].join('\n\n') + '\n');
  const editor = await openNotebook(file);
  const code = editor.notebook.getCells().filter((cell) => cell.kind === vscode.NotebookCellKind.Code && (cell.metadata.aexp as { kind: string }).kind !== 'frontMatter');
  await runCells(editor.notebook, code, 120_000);
  for (const cell of code) if (cell.executionSummary?.success !== true) throw new Error(`the ${(cell.metadata.aexp as { kind: string }).kind} cell of ${name} did not succeed: ${outputText(cell)}`);
  const api = vscode.extensions.getExtension<LatentLabApi>(EXTENSION_ID)!.exports;
  return { editor, code, runDir: api.controller.lastRunDir.get(editor.notebook.uri.toString()), file };
}
