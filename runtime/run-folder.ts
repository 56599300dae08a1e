/**
 * The run folder: its layout and the formats of its files, in one place for the engine, the CLI
 * and the extension. No TF.js and no vscode here, so the extension bundle can import it.
 *
 *   <runs>/<experiment>/<YYYYMMDD-HHMMSS>[-n]/
 *     experiment.aexp   the experiment's text as it ran
 *     config.json       RunConfig: the resolved cells, backend, data folder and config hash
 *     metrics.jsonl     one MetricsRecord per line, appended as training goes
 *     summary.json      RunSummary, written when the run ends
 *     outputs.json      RunOutputs: what the cells showed, to show again on reopen
 *     checkpoints/      last.ckpt, best.ckpt, epoch-NNNN.ckpt
 *     images/           epoch-NNN-reconstructions.png, epoch-NNN-samples.png, history-reconstructions.png,
 *                       reconstructions.png, samples.png
 *     lock.json         while a process trains into the folder (run-lock.ts)
 *     model/            encoder/ and decoder/ as TF.js layers models
 *     views/            inputs.bin and epoch-NNNN.bin: the history views' pixels and per-image losses (views-data.ts)
 *
 * A run folder may come from anyone (a repository ships its runs): before a process writes into an
 * existing one, checkRunFolderEntries refuses one whose entries are symbolic links or not what
 * they should be, and only folders named as newRunDir names them count as runs.
 */
import { closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, readdirSync, writeSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { DataConfig, ModelConfig, TrainConfig } from './format/schema';
import type { ConcreteBackend, EngineEvent, MetricsRecord, RunOutputs, RunSummary } from './protocol';
import { writeFileAtomic } from './util/atomic-file';
import { checkPlainEntry } from './util/plain-entries';

/** `outputs.json`: what the cells showed (RUN_FILES.outputs). */
export const OUTPUTS_FILE = 'outputs.json';

export const RUN_FILES = {
  experiment: 'experiment.aexp',
  config: 'config.json',
  metrics: 'metrics.jsonl',
  summary: 'summary.json',
  outputs: OUTPUTS_FILE,
  checkpoints: 'checkpoints',
  images: 'images',
  model: 'model',
  views: 'views',
  explore: 'explore',
} as const;

/** `config.json`: everything that decides what a run computes, resolved. */
export interface RunConfig {
  version: 1;
  sourceFile: string;
  title?: string;
  seed: number;
  data: DataConfig;
  model: ModelConfig;
  train: TrainConfig;
  backend: ConcreteBackend;
  dataDir: string;
  configHash: string;
}

export type CheckpointName = 'last' | 'best' | `epoch-${string}`;
/** The grids drawn from one checkpoint (the `history` grid has its own file: historyImageFile). */
export type GridKind = 'reconstructions' | 'samples';

export function runFile(runDir: string, name: keyof typeof RUN_FILES): string {
  return path.join(runDir, RUN_FILES[name]);
}

export function checkpointFile(runDir: string, name: CheckpointName): string {
  return path.join(runDir, RUN_FILES.checkpoints, `${name}.ckpt`);
}

/** The checkpoint kept every `checkpoint_every` epochs (epoch 1-based). */
export function epochCheckpointName(epoch: number): CheckpointName {
  return `epoch-${String(epoch).padStart(4, '0')}`;
}

/** The grid written at the end of an epoch (1-based), or the analysis cell's final grid without one. */
export function imageFile(runDir: string, kind: GridKind, epoch?: number): string {
  return path.join(runDir, RUN_FILES.images, epoch === undefined ? `${kind}.png` : `epoch-${String(epoch).padStart(3, '0')}-${kind}.png`);
}

/** The train cell's grid: the fixed test inputs, then their reconstructions after each epoch (rewritten every epoch). */
export function historyImageFile(runDir: string): string {
  return path.join(runDir, RUN_FILES.images, 'history-reconstructions.png');
}

/** The experiment's name: its file name without `.aexp`; the folder its runs go in. */
export function experimentName(file: string): string {
  return path.basename(file).replace(/\.aexp$/i, '');
}

/** Where runs go when no folder is given: `<cwd>/.aexp/runs/<experiment>`. */
export function defaultRunsParent(file: string, cwd = process.cwd()): string {
  return path.join(cwd, '.aexp', 'runs', experimentName(file));
}

/** The names newRunDir gives: the UTC start time, and a suffix when two start in one second. */
const RUN_FOLDER_NAME = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})(?:-(\d+))?$/;
/** A run folder dated later than this after now was not made by newRunDir here (a clock a little ahead is forgiven). */
const FUTURE_TOLERANCE_MS = 24 * 60 * 60 * 1000;

/**
 * Whether `name` is a run folder's name as newRunDir makes it, for a time that exists and is not
 * more than a day ahead of `now`: other folders (`zzz/`, `99999999-999999/`) never count as runs,
 * so a repository cannot make one of its folders the newest run.
 */
export function isRunFolderName(name: string, now = new Date()): boolean {
  const match = RUN_FOLDER_NAME.exec(name);
  if (!match) return false;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number);
  const time = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  // Date.UTC carries an out-of-range part over (month 13, second 61): such a name names no real time.
  const real = time.getUTCFullYear() === year && time.getUTCMonth() === month - 1 && time.getUTCDate() === day && time.getUTCHours() === hour && time.getUTCMinutes() === minute && time.getUTCSeconds() === second;
  return real && time.getTime() - now.getTime() <= FUTURE_TOLERANCE_MS;
}

/** Run folder names, newest first: by time, then by suffix (`-10` after `-9`). */
function newestFirst(names: string[]): string[] {
  const suffix = (name: string) => Number(RUN_FOLDER_NAME.exec(name)?.[7] ?? 1);
  return [...names].sort((a, b) => b.slice(0, 15).localeCompare(a.slice(0, 15)) || suffix(b) - suffix(a));
}

/** Creates a new run folder under `parent`, named by the time (a suffix when two start in one second). */
export function newRunDir(parent: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '').replace('T', '-');
  mkdirSync(parent, { recursive: true });
  for (let attempt = 1; ; attempt++) {
    const candidate = path.join(parent, attempt === 1 ? stamp : `${stamp}-${attempt}`);
    try {
      mkdirSync(candidate);
      return candidate;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

function writeJson(file: string, value: unknown, indent?: number): void {
  writeFileAtomic(file, [Buffer.from(`${JSON.stringify(value, null, indent)}\n`)]);
}

export function writeRunConfig(runDir: string, config: RunConfig): void {
  writeJson(runFile(runDir, 'config'), config, 2);
}

export function writeRunSummary(runDir: string, summary: RunSummary): void {
  writeJson(runFile(runDir, 'summary'), summary, 2);
}

export function writeRunOutputs(runDir: string, events: EngineEvent[]): void {
  writeJson(runFile(runDir, 'outputs'), { version: 1, events } satisfies RunOutputs);
}

/** Reads `config.json`; throws one line naming the file when it is missing or not JSON. */
export function readRunConfig(runDir: string): RunConfig {
  const file = runFile(runDir, 'config');
  if (!existsSync(file)) throw new Error(`${runDir} is not a run folder (no ${RUN_FILES.config})`);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RunConfig;
  } catch (error) {
    throw new Error(`${file}: ${(error as Error).message}`, { cause: error });
  }
}

/** `summary.json`, or undefined while the run has not ended (or the file is unreadable). */
export function readRunSummary(runDir: string): RunSummary | undefined {
  return parseJson<RunSummary>(readText(runFile(runDir, 'summary')));
}

/**
 * The records of a `metrics.jsonl` text. A line that is not JSON (the torn last line of a killed
 * process, above all) is skipped rather than failing the whole file. A step's `train` record or
 * an epoch's `epoch` record that appears twice (a folder written before resumes dropped what
 * followed their checkpoint) counts once: the last one, where it stands.
 */
export function parseMetrics(text: string): MetricsRecord[] {
  const records = text.split('\n').flatMap((line) => {
    if (!line.trim()) return [];
    try {
      const record = JSON.parse(line) as MetricsRecord;
      return typeof record === 'object' && record !== null && typeof record.kind === 'string' ? [record] : [];
    } catch {
      return [];
    }
  });
  const lastOf = new Map<string, number>();
  records.forEach((record, index) => {
    const key = recordKey(record);
    if (key) lastOf.set(key, index);
  });
  return records.filter((record, index) => {
    const key = recordKey(record);
    return key === undefined || lastOf.get(key) === index;
  });
}

function recordKey(record: MetricsRecord): string | undefined {
  if (record.kind === 'train') return `train:${record.step}`;
  if (record.kind === 'epoch') return `epoch:${record.epoch}`;
  return undefined;
}

/**
 * Before a resume from a checkpoint at `position`: drops the records written after it (by the
 * process that was stopped or killed before its next checkpoint), since the resumed run writes
 * them again. The file is rewritten atomically; the records up to the checkpoint stay as written.
 * Returns how many records were dropped.
 */
export function truncateMetrics(runDir: string, position: { epoch: number; globalStep: number }): number {
  const file = runFile(runDir, 'metrics');
  const text = readText(file);
  if (text === undefined) return 0;
  let dropped = 0;
  const kept = text.split('\n').filter((line) => {
    if (!line.trim()) return false;
    let record: MetricsRecord;
    try {
      record = JSON.parse(line) as MetricsRecord;
    } catch {
      dropped++;
      return false;
    }
    const after = typeof record?.step === 'number' && (record.step > position.globalStep || (record.kind === 'epoch' && record.epoch > position.epoch));
    if (after) dropped++;
    return !after;
  });
  if (dropped > 0) writeFileAtomic(file, [Buffer.from(kept.map((line) => `${line}\n`).join(''))]);
  return dropped;
}

export function readMetrics(runDir: string): MetricsRecord[] {
  return parseMetrics(readText(runFile(runDir, 'metrics')) ?? '');
}

/**
 * Appends one record per line and hands each to the OS at once, so a kill loses nothing written.
 * A `metrics.jsonl` that is a symbolic link fails to open (O_NOFOLLOW), rather than being written through.
 */
export class MetricsLog {
  private readonly descriptor: number;
  constructor(runDir: string) {
    // Where the platform has no O_NOFOLLOW (Windows), symbolic links need privileges to create.
    this.descriptor = openSync(runFile(runDir, 'metrics'), constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | (constants.O_NOFOLLOW ?? 0), 0o666);
  }
  append(record: MetricsRecord): void {
    writeSync(this.descriptor, `${JSON.stringify(record)}\n`);
  }
  close(): void {
    closeSync(this.descriptor);
  }
}

/**
 * The newest finished run in `parent` whose config matches (hash, backend, data folder). Runs that
 * were stopped, diverged or are being continued never match; neither does one without a checkpoint.
 */
export function findReusableRun(parent: string, wanted: Pick<RunConfig, 'configHash' | 'backend' | 'dataDir'>): { runDir: string; summary: RunSummary } | undefined {
  for (const runDir of runFolders(parent)) {
    const config = parseJson<RunConfig>(readText(runFile(runDir, 'config')));
    if (!config || config.configHash !== wanted.configHash || config.backend !== wanted.backend || config.dataDir !== wanted.dataDir) continue;
    const summary = readRunSummary(runDir);
    if (summary && (summary.status === 'completed' || summary.status === 'early-stopped') && existsSync(checkpointFile(runDir, 'last'))) return { runDir, summary };
  }
  return undefined;
}

/** The run folders under `parent` (isRunFolderName; real folders, not links), newest first. */
function runFolders(parent: string): string[] {
  if (!existsSync(parent)) return [];
  const names = readdirSync(parent, { withFileTypes: true }).filter((entry) => entry.isDirectory() && isRunFolderName(entry.name)).map((entry) => entry.name);
  return newestFirst(names).map((name) => path.join(parent, name));
}

/** run-lock.ts's RUN_LOCK_FILE, spelt out: that module's exit hook has no place in the extension, which imports this one. */
const LOCK_FILE = 'lock.json';
/** The folders of a run folder whose every entry the runtime may write, at any depth. */
const WRITTEN_FOLDERS = [RUN_FILES.checkpoints, RUN_FILES.images, RUN_FILES.model, RUN_FILES.views, RUN_FILES.explore];

/**
 * Before a process resumes or reuses an existing run folder: every entry it reads or writes by
 * name (its files, `lock.json`, and `checkpoints/`, `images/`, `model/` and `views/` with all they hold)
 * must be a plain file or folder of its own. Throws UnsafeEntryError (util/plain-entries.ts), one
 * line naming the first entry that is a symbolic link or of the wrong kind; missing entries are fine.
 */
export function checkRunFolderEntries(runDir: string): void {
  for (const name of [RUN_FILES.experiment, RUN_FILES.config, RUN_FILES.metrics, RUN_FILES.summary, RUN_FILES.outputs, LOCK_FILE]) checkPlainEntry(path.join(runDir, name), 'file');
  for (const name of WRITTEN_FOLDERS) checkFolderTree(path.join(runDir, name));
}

function checkFolderTree(folder: string): void {
  if (!checkPlainEntry(folder, 'folder')) return;
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const inner = path.join(folder, entry.name);
    if (entry.isDirectory()) checkFolderTree(inner);
    else checkPlainEntry(inner, 'file');
  }
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function parseJson<T>(text: string | undefined): T | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

// Asynchronous readers, for the extension host (which must not block on the file system).

/** The newest run folder under `parent` (isRunFolderName, with a config.json), if any. */
export async function newestRunFolder(parent: string): Promise<string | undefined> {
  const entries = await readdir(parent, { withFileTypes: true }).catch(() => []);
  const names = newestFirst(entries.filter((entry) => entry.isDirectory() && isRunFolderName(entry.name)).map((entry) => entry.name));
  for (const name of names) {
    const candidate = path.join(parent, name);
    if (await exists(runFile(candidate, 'config'))) return candidate;
  }
  return undefined;
}

/** What the rows of a reconstruction grid show, top to bottom, for a model kind. */
export function reconstructionRows(modelKind: string): string[] {
  if (modelKind === 'denoising-ae') return ['test inputs', 'corrupted inputs', 'reconstructions'];
  if (modelKind === 'masked-ae') return ['test inputs', 'masked inputs', 'reconstructions'];
  return ['test inputs', 'reconstructions'];
}

/** What the rows of a sample grid show. */
export function sampleRows(conditional: boolean, temperature = 1): string[] {
  const prior = temperature === 1 ? 'z ~ N(0, I)' : `z ~ N(0, ${temperature}² I)`;
  return [conditional ? `${prior}, one row per class` : `${prior}, decoded`];
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(() => true, () => false);
}
