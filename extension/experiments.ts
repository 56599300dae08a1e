/**
 * "Train VAE" and "New Experiment": ask a few questions, write a `.aexp` file from a template,
 * open it as a notebook, and (Train VAE) run it.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as vscode from 'vscode';
import { datasetChoices } from './datasetChoices';
import { NOTEBOOK_TYPE } from './serializer';
import type { TemplateDataset, TemplateKind, TemplateOptions } from './templates';
import { TEMPLATE_KINDS, experimentTemplate, freeFileName } from './templates';

export const CONTROLLER_ID = 'latent-lab-runtime';
export const EXTENSION_ID = 'latent-lab.latent-lab';

/** Arguments a caller (a test, a walkthrough link) may pass to skip the questions. */
export interface ExperimentArguments {
  kind?: TemplateKind;
  dataset?: TemplateDataset;
  latent?: number;
  epochs?: number;
  /** dataset `folder`: an absolute path or one relative to the new file. */
  folder?: string;
  count?: number;
  /** Where to write the file (default: the first workspace folder, a free name). */
  file?: string;
}

const LATENT_CHOICES = [
  { label: '2', detail: 'a code you can plot: the latent explorer shows it as a plane' },
  { label: '8', detail: 'small: the sprites have about 5 generative factors' },
  { label: '16', detail: 'a good default for digits and clothing' },
  { label: '32', detail: 'sharper reconstructions, blurrier samples' },
  { label: '64', detail: 'for colour images' },
];

const DEFAULT_EPOCHS: Record<TemplateDataset, number> = { sprites: 5, mnist: 10, 'fashion-mnist': 10, cifar10: 20, folder: 20 };

/** `dataDir`: the dataset cache folder the runtime will read, to say which datasets are there already. */
async function pickDataset(title: string, dataDir: string): Promise<TemplateDataset | undefined> {
  const pick = await vscode.window.showQuickPick(datasetChoices(dataDir), { title, placeHolder: 'Sprites needs no download' });
  return pick?.dataset;
}

async function pickFolder(): Promise<string | undefined> {
  const chosen = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Use These Images', title: 'A folder of PNG or JPEG images (subfolders become labels)' });
  return chosen?.[0]?.fsPath;
}

async function pickLatent(dataset: TemplateDataset): Promise<number | undefined> {
  const preferred = dataset === 'sprites' ? '8' : dataset === 'cifar10' || dataset === 'folder' ? '64' : '16';
  const items = [...LATENT_CHOICES].sort((a, b) => Number(b.label === preferred) - Number(a.label === preferred));
  const pick = await vscode.window.showQuickPick(items, { title: 'Train VAE (2/3): latent size', placeHolder: `dimensions of the code z (suggested: ${preferred})` });
  return pick ? Number(pick.label) : undefined;
}

async function askEpochs(dataset: TemplateDataset): Promise<number | undefined> {
  const value = await vscode.window.showInputBox({
    title: 'Train VAE (3/3): epochs',
    prompt: 'Passes over the training set. You can stop at any time and continue later.',
    value: String(DEFAULT_EPOCHS[dataset]),
    validateInput: (input) => (Number.isInteger(Number(input)) && Number(input) > 0 && Number(input) <= 10_000 ? undefined : 'a whole number from 1 to 10000'),
  });
  return value ? Number(value) : undefined;
}

/** Where the new file goes: the given path, a free name in the workspace folder, or a Save dialog. */
async function targetFile(base: string, requested?: string): Promise<vscode.Uri | undefined> {
  if (requested) return vscode.Uri.file(requested);
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  if (folder) return vscode.Uri.file(path.join(folder, freeFileName(base, (name) => existsSync(path.join(folder, name)))));
  return vscode.window.showSaveDialog({ title: 'Save the new experiment', filters: { 'Latent Lab experiment': ['aexp'] }, saveLabel: 'Create' });
}

/** Writes a new experiment from a template and opens it as a notebook with our kernel selected. */
async function createAndOpen(options: TemplateOptions, file?: string): Promise<vscode.NotebookEditor | undefined> {
  const uri = await targetFile(`${options.kind}-${options.dataset}`, file);
  if (!uri) return undefined;
  if (options.dataset === 'folder' && options.folder && path.isAbsolute(options.folder)) {
    options = { ...options, folder: path.relative(path.dirname(uri.fsPath), options.folder).split(path.sep).join('/') || '.' };
  }
  await writeFile(uri.fsPath, experimentTemplate(options), { flag: file ? 'w' : 'wx' });
  // Opened as a person opens it, so the document lives as long as its editor.
  await vscode.commands.executeCommand('vscode.openWith', uri, NOTEBOOK_TYPE);
  const editor = vscode.window.activeNotebookEditor;
  if (editor?.notebook.uri.toString() !== uri.toString()) throw new Error(`${uri.fsPath} did not open as a notebook`);
  await vscode.commands.executeCommand('notebook.selectKernel', { notebookEditor: editor, id: CONTROLLER_ID, extension: EXTENSION_ID });
  return editor;
}

/** Latent Lab: Train VAE. Resolves when the new notebook's run has ended (or the person cancelled). */
export async function trainVae(args: ExperimentArguments, dataDir: string, run: (notebook: vscode.NotebookDocument) => Promise<void>): Promise<vscode.NotebookDocument | undefined> {
  const dataset = args.dataset ?? await pickDataset('Train VAE (1/3): dataset', dataDir);
  if (!dataset) return undefined;
  const folder = dataset === 'folder' ? args.folder ?? await pickFolder() : undefined;
  if (dataset === 'folder' && !folder) return undefined;
  const latent = args.latent ?? await pickLatent(dataset);
  if (!latent) return undefined;
  const epochs = args.epochs ?? await askEpochs(dataset);
  if (!epochs) return undefined;
  const editor = await createAndOpen({ kind: 'vae', dataset, latent, epochs, folder, count: args.count }, args.file);
  if (!editor) return undefined;
  await run(editor.notebook);
  return editor.notebook;
}

/** Latent Lab: New Experiment. Opens the new notebook without running it. */
export async function newExperiment(args: ExperimentArguments, dataDir: string): Promise<vscode.NotebookDocument | undefined> {
  const kind = args.kind ?? (await vscode.window.showQuickPick(TEMPLATE_KINDS.map((entry) => ({ label: entry.label, detail: entry.detail, modelKind: entry.kind })), { title: 'New Experiment: model kind' }))?.modelKind;
  if (!kind) return undefined;
  const dataset = args.dataset ?? await pickDataset('New Experiment: dataset', dataDir);
  if (!dataset) return undefined;
  const folder = dataset === 'folder' ? args.folder ?? await pickFolder() : undefined;
  if (dataset === 'folder' && !folder) return undefined;
  const editor = await createAndOpen({ kind, dataset, latent: args.latent, epochs: args.epochs, folder, count: args.count }, args.file);
  return editor?.notebook;
}
