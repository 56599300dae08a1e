/**
 * Reads a run folder back for a notebook that reopens, as untrusted input: a repository can ship
 * any `outputs.json`. Only regular files inside the run folder are read (symbolic links that lead
 * out are refused), each with a size limit and a bounded read, images only when they are PNGs,
 * and every parsed JSON shape is checked before use. No `vscode` here: tested in plain Node.
 */
import { constants } from 'node:fs';
import { lstat, open, readdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import type { CellName, EngineEvent, Evaluation, MetricsRecordOf, RunResult, RunSummary, TrainMeans } from '../runtime/protocol';
import { CELL_KINDS } from '../runtime/cells';
import { imageFile, RUN_FILES } from '../runtime/run-folder';

export const IMAGE_LIMIT_BYTES = 16 * 1024 * 1024;
const JSON_LIMIT_BYTES = 8 * 1024 * 1024;
const METRICS_LIMIT_BYTES = 64 * 1024 * 1024;
const TEXT_LIMIT_CHARS = 64 * 1024;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const STATUSES: readonly RunResult['status'][] = ['completed', 'stopped', 'early-stopped', 'diverged', 'analysis'];
type ImageKind = Extract<EngineEvent, { type: 'image' }>['kind'];
const IMAGE_KINDS: readonly string[] = ['reconstructions', 'samples', 'history', 'interpolations', 'traversals', 'projection'];

export class RefusedFile extends Error {
  override name = 'RefusedFile';
}

function inside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative !== '' && relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}

/**
 * The bytes of `file` (relative to `root`, or absolute), refused unless it is a regular file
 * inside `root` after every symbolic link is followed, of at most `limitBytes`. Opened without
 * blocking (a FIFO cannot hang it) and read only up to the size it had when opened.
 */
export async function readFileInside(root: string, file: string, limitBytes: number): Promise<Buffer> {
  const candidate = path.resolve(root, file);
  if (!inside(path.resolve(root), candidate)) throw new RefusedFile(`${file}: not inside the run folder ${root}`);
  const real = await realpath(candidate).catch(() => undefined);
  if (!real) throw new RefusedFile(`${file}: no such file`);
  if (!inside(await realpath(root), real)) throw new RefusedFile(`${file}: leads outside the run folder ${root} (to ${real})`);
  const handle = await open(real, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOFOLLOW ?? 0));
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new RefusedFile(`${file}: not a regular file`);
    if (info.size > limitBytes) throw new RefusedFile(`${file}: ${info.size} bytes, more than the ${limitBytes} allowed`);
    const bytes = Buffer.alloc(info.size);
    let filled = 0;
    while (filled < bytes.length) {
      const { bytesRead } = await handle.read(bytes, filled, bytes.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return bytes.subarray(0, filled);
  } finally {
    await handle.close();
  }
}

/**
 * Where a recorded image is now: its path as recorded when that lies inside the run folder, else
 * the file of that name in the run folder's images/ (a run folder that moved, with the project,
 * keeps its images; a name never leads out of the folder).
 */
export function recordedImagePath(runDir: string, recorded: string): string {
  const resolved = path.resolve(runDir, recorded);
  return inside(path.resolve(runDir), resolved) ? path.relative(path.resolve(runDir), resolved) : path.join(RUN_FILES.images, path.basename(recorded));
}

/** A PNG inside `root` (see readFileInside), refused when its bytes do not start with the PNG signature. */
export async function readImageInside(root: string, file: string): Promise<Buffer> {
  const bytes = await readFileInside(root, file, IMAGE_LIMIT_BYTES);
  if (bytes.length < PNG_SIGNATURE.length || !bytes.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE)) throw new RefusedFile(`${file}: not a PNG image`);
  return bytes;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

function isNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function numbers(value: unknown, keys: readonly string[]): Record<string, number> | undefined {
  if (!isObject(value)) return undefined;
  const result: Record<string, number> = {};
  for (const [key, entry] of Object.entries(value)) {
    if (isNumber(entry)) result[key] = entry;
    else if (entry !== undefined && entry !== null) return undefined;
  }
  return keys.every((key) => key in result) ? result : undefined;
}

/** An epoch record as the notebook shows it, or undefined when any field it reads has the wrong type. */
export function parseEpochRecord(value: unknown): MetricsRecordOf<'epoch'> | undefined {
  if (!isObject(value) || value.kind !== 'epoch' || !isCount(value.epoch) || value.epoch < 1) return undefined;
  if (value.units !== 'nats' && value.units !== 'loss') return undefined;
  const train = numbers(value.train, ['loss', 'reconstruction']);
  if (!train || !isNumber(value.samplesPerSecond)) return undefined;
  const test = value.test === undefined ? undefined : numbers(value.test, ['loss', 'reconstruction']);
  if (value.test !== undefined && !test) return undefined;
  return {
    kind: 'epoch',
    epoch: value.epoch,
    step: isCount(value.step) ? value.step : 0,
    time: typeof value.time === 'string' ? value.time : '',
    units: value.units,
    train: train as unknown as TrainMeans,
    ...(test ? { test: test as unknown as Evaluation } : {}),
    samplesPerSecond: value.samplesPerSecond,
    tensors: isCount(value.tensors) ? value.tensors : 0,
  };
}

/** One recorded cell output, or undefined for anything else (other event kinds, wrong types). */
export function parseShownEvent(value: unknown): EngineEvent | undefined {
  if (!isObject(value)) return undefined;
  const cell = value.cell as CellName;
  switch (value.type) {
    case 'cellOutput':
      return CELL_KINDS.includes(cell) && typeof value.text === 'string' && value.text.length <= TEXT_LIMIT_CHARS ? { type: 'cellOutput', cell, text: value.text } : undefined;
    case 'image':
      if (!CELL_KINDS.includes(cell) || !IMAGE_KINDS.includes(value.kind as ImageKind) || !isCount(value.epoch) || typeof value.path !== 'string') return undefined;
      // Row labels are shown as a caption: a few short strings, or none at all.
      if (value.rows !== undefined && !(Array.isArray(value.rows) && value.rows.length <= 64 && value.rows.every((row) => typeof row === 'string' && row.length <= 100))) return undefined;
      return { type: 'image', cell, kind: value.kind as ImageKind, epoch: value.epoch, path: value.path, ...(value.rows ? { rows: value.rows as string[] } : {}) };
    case 'metrics': {
      const record = parseEpochRecord(value.record);
      return record ? { type: 'metrics', record } : undefined;
    }
    default:
      return undefined;
  }
}

/** `outputs.json`'s events (those that pass parseShownEvent), or a reason. */
export function parseOutputs(value: unknown): EngineEvent[] | string {
  if (!isObject(value) || value.version !== 1 || !Array.isArray(value.events)) return 'expected {"version": 1, "events": [...]}';
  return value.events.flatMap((event) => parseShownEvent(event) ?? []);
}

/** At most this many of a cell's recorded outputs, and of the train cell's epoch lines, are shown again (an 8 MB outputs.json holds ~100k). */
export const RESTORED_PER_CELL = 200;

/**
 * What the cells show again: outputs.json's events, with the train cell's epoch records taken from
 * metrics.jsonl when it has any (a continued run's outputs.json holds only its last session's
 * epochs), where the first epoch record stood (else before the train cell's first output). Each
 * cell keeps its first `limit` outputs and the train cell its last `limit` epochs; a line says how
 * many more there were.
 */
export function restoredEvents(recorded: readonly EngineEvent[], epochs: readonly MetricsRecordOf<'epoch'>[], limit = RESTORED_PER_CELL): EngineEvent[] {
  const records = epochs.length > 0 ? epochs : recorded.flatMap((event) => (event.type === 'metrics' && event.record.kind === 'epoch' ? [event.record] : []));
  const firstMetrics = recorded.findIndex((event) => event.type === 'metrics');
  const firstTrain = recorded.findIndex((event) => (event.type === 'cellOutput' || event.type === 'image') && event.cell === 'train');
  const at = firstMetrics >= 0 ? firstMetrics : firstTrain >= 0 ? firstTrain : recorded.length;
  const shownEpochs: EngineEvent[] = records.slice(-limit).map((record) => ({ type: 'metrics', record }));
  if (records.length > limit) shownEpochs.unshift({ type: 'cellOutput', cell: 'train', text: `${records.length - limit} earlier epochs are not listed here (the run folder's ${RUN_FILES.metrics} has every one)` });
  const counts = new Map<CellName, number>();
  const kept = (events: readonly EngineEvent[]) => events.filter((event) => {
    if (event.type === 'metrics') return false;
    if (event.type !== 'cellOutput' && event.type !== 'image') return true;
    counts.set(event.cell, (counts.get(event.cell) ?? 0) + 1);
    return counts.get(event.cell)! <= limit;
  });
  const events = [...kept(recorded.slice(0, at)), ...shownEpochs, ...kept(recorded.slice(at))];
  for (const [cell, count] of counts) if (count > limit) events.push({ type: 'cellOutput', cell, text: `${count - limit} more outputs of this cell are not shown again (at most ${limit} are)` });
  return events;
}

/** `summary.json` with the fields the notebook reads checked (and only those kept), or a reason. */
export function parseSummary(value: unknown): RunSummary | string {
  if (!isObject(value)) return 'expected an object';
  if (!STATUSES.includes(value.status as RunResult['status'])) return `status must be one of ${STATUSES.join(', ')}`;
  for (const key of ['epochs', 'targetEpochs', 'steps'] as const) if (!isCount(value[key])) return `${key} must be a whole number`;
  for (const key of ['backend', 'device'] as const) if (typeof value[key] !== 'string' || (value[key] as string).length > 500) return `${key} must be a short string`;
  if (!isNumber(value.durationSeconds)) return 'durationSeconds must be a number';
  if (value.units !== 'nats' && value.units !== 'loss') return 'units must be nats or loss';
  const summary: RunSummary = {
    status: value.status as RunResult['status'],
    backend: value.backend as string,
    device: value.device as string,
    dataset: typeof value.dataset === 'string' ? value.dataset : '',
    model: typeof value.model === 'string' ? value.model : '',
    parameters: isCount(value.parameters) ? value.parameters : 0,
    epochs: value.epochs as number,
    targetEpochs: value.targetEpochs as number,
    steps: value.steps as number,
    units: value.units,
    durationSeconds: value.durationSeconds,
  };
  if (value.test !== undefined) {
    const test = numbers(value.test, ['loss', 'reconstruction']);
    if (!test) return 'test must map metric names to numbers';
    summary.test = test as unknown as Evaluation;
  }
  if (value.samplesPerSecond !== undefined) {
    if (!isNumber(value.samplesPerSecond)) return 'samplesPerSecond must be a number';
    summary.samplesPerSecond = value.samplesPerSecond;
  }
  if (value.message !== undefined) {
    if (typeof value.message !== 'string' || value.message.length > TEXT_LIMIT_CHARS) return 'message must be a string';
    summary.message = value.message;
  }
  if (value.reused !== undefined) {
    if (!isObject(value.reused) || !isNumber(value.reused.trainedSeconds)) return 'reused must be {trainedSeconds}';
    summary.reused = { trainedSeconds: value.reused.trainedSeconds };
  }
  if (value.stoppedBy !== undefined) {
    if (value.stoppedBy !== 'cancelled' && value.stoppedBy !== 'shutdown') return 'stoppedBy must be cancelled or shutdown';
    summary.stoppedBy = value.stoppedBy;
  }
  if (value.stoppedAt !== undefined) {
    if (!isObject(value.stoppedAt) || !isCount(value.stoppedAt.epoch) || !isCount(value.stoppedAt.batch)) return 'stoppedAt must be {epoch, batch}';
    summary.stoppedAt = { epoch: value.stoppedAt.epoch, batch: value.stoppedAt.batch };
  }
  return summary;
}

/** A logged training step as the chart draws it, or undefined when any field it reads has the wrong type. */
export function parseTrainRecord(value: unknown): MetricsRecordOf<'train'> | undefined {
  if (!isObject(value) || value.kind !== 'train' || !isCount(value.epoch) || value.epoch < 1 || !isCount(value.step)) return undefined;
  if (!isNumber(value.loss) || !isNumber(value.reconstruction) || !isNumber(value.lr) || (value.kl !== undefined && !isNumber(value.kl))) return undefined;
  return { kind: 'train', epoch: value.epoch, step: value.step, time: typeof value.time === 'string' ? value.time : '', loss: value.loss, reconstruction: value.reconstruction, ...(value.kl !== undefined ? { kl: value.kl as number } : {}), lr: value.lr };
}

function parseResumeRecord(value: unknown): MetricsRecordOf<'resume'> | undefined {
  if (!isObject(value) || value.kind !== 'resume' || !isCount(value.epoch) || !isCount(value.step)) return undefined;
  return { kind: 'resume', epoch: value.epoch, step: value.step, time: typeof value.time === 'string' ? value.time : '', batch: isCount(value.batch) ? value.batch : 0 };
}

/** What `metrics.jsonl` says about training, each epoch and each logged step once (a resumed run may have written one twice: the last counts). */
export interface MetricsHistory {
  epochs: MetricsRecordOf<'epoch'>[];
  steps: MetricsRecordOf<'train'>[];
  resumes: MetricsRecordOf<'resume'>[];
}

export function parseMetricsHistory(text: string): MetricsHistory {
  const byEpoch = new Map<number, MetricsRecordOf<'epoch'>>();
  const byStep = new Map<number, MetricsRecordOf<'train'>>();
  const resumes: MetricsRecordOf<'resume'>[] = [];
  for (const line of text.split('\n')) {
    if (!line.includes('"kind"')) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      continue;
    }
    const epoch = parseEpochRecord(parsed);
    if (epoch) byEpoch.set(epoch.epoch, epoch);
    const step = epoch ? undefined : parseTrainRecord(parsed);
    if (step) byStep.set(step.step, step);
    const resume = epoch || step ? undefined : parseResumeRecord(parsed);
    if (resume) resumes.push(resume);
  }
  return { epochs: [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch), steps: [...byStep.values()].sort((a, b) => a.step - b.step), resumes };
}

/** Epoch records of `metrics.jsonl`, each epoch once (see parseMetricsHistory). */
export function parseEpochRecords(text: string): MetricsRecordOf<'epoch'>[] {
  return parseMetricsHistory(text).epochs;
}

async function readOptional(root: string, name: string, limitBytes: number, problems: string[]): Promise<string | undefined> {
  try {
    return (await readFileInside(root, name, limitBytes)).toString('utf8');
  } catch (error) {
    if (!(error instanceof RefusedFile && /: no such file$/.test(error.message))) problems.push(error instanceof RefusedFile ? error.message : `${name}: ${(error as Error).message}`);
    return undefined;
  }
}

async function readJson<T>(root: string, name: string, parse: (value: unknown) => T | string, problems: string[]): Promise<T | undefined> {
  const text = await readOptional(root, name, JSON_LIMIT_BYTES, problems);
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    problems.push(`${path.join(root, name)}: not JSON (${(error as Error).message})`);
    return undefined;
  }
  const parsed = parse(value);
  if (typeof parsed === 'string') {
    problems.push(`${path.join(root, name)}: ${parsed}`);
    return undefined;
  }
  return parsed;
}

const RUN_FOLDER_NAME = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})(?:-(\d+))?$/;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * When a run folder of this name started (newRunDir's `YYYYMMDD-HHMMSS[-n]`, in UTC) and its
 * same-second suffix, or undefined for any other name, an impossible date, or a time more than a
 * day after `now` (a repository's `zzz/` or `99999999-999999/` must not pass for the newest run).
 */
export function runFolderTime(name: string, now = new Date()): { time: number; suffix: number } | undefined {
  const match = RUN_FOLDER_NAME.exec(name);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number);
  const time = Date.UTC(year, month - 1, day, hour, minute, second);
  const date = new Date(time);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || date.getUTCHours() !== hour || date.getUTCMinutes() !== minute || date.getUTCSeconds() !== second) return undefined;
  if (time > now.getTime() + DAY_MS) return undefined;
  return { time, suffix: match[7] === undefined ? 1 : Number(match[7]) };
}

/**
 * The newest run folder under `parent`: of the folders (not links) named as newRunDir names them,
 * with a config.json, the latest by name's time and then by its same-second suffix.
 */
export async function newestRunFolder(parent: string, now = new Date()): Promise<string | undefined> {
  const entries = await readdir(parent, { withFileTypes: true }).catch(() => []);
  const runs = entries.filter((entry) => entry.isDirectory()).flatMap((entry) => {
    const started = runFolderTime(entry.name, now);
    return started ? [{ name: entry.name, ...started }] : [];
  });
  const names = runs.sort((a, b) => b.time - a.time || b.suffix - a.suffix).map((run) => run.name);
  for (const name of names) {
    const candidate = path.join(parent, name);
    if (await lstat(path.join(candidate, RUN_FILES.config)).then((info) => info.isFile(), () => false)) return candidate;
  }
  return undefined;
}

/** What a run folder says about its run, every part checked. */
export interface RecordedRun {
  runDir: string;
  summary?: RunSummary;
  /** The cells' outputs in order (see restoredEvents): outputs.json's, else the epoch records and newest grids. */
  events: EngineEvent[];
  /** Each finished epoch's record, once. */
  epochs: MetricsRecordOf<'epoch'>[];
  /** Each logged training step's record, once (the training chart's history). */
  steps: MetricsRecordOf<'train'>[];
  /** Where the run was resumed from a checkpoint. */
  resumes: MetricsRecordOf<'resume'>[];
  /** The train cell's `epochs` from config.json. */
  configEpochs?: number;
  /** The model cell's `kind` from config.json (what an image grid's rows are depends on it). */
  modelKind?: string;
  /** When the run last wrote its summary (or metrics). */
  when: Date;
  /** Files that were refused or malformed, one line each, for the log. */
  problems: string[];
}

export async function readRecordedRun(runDir: string): Promise<RecordedRun> {
  const problems: string[] = [];
  const summary = await readJson(runDir, RUN_FILES.summary, parseSummary, problems);
  const config = await readJson(runDir, RUN_FILES.config, (value) => (isObject(value) ? value : 'expected an object'), problems);
  const configTrain = config?.train;
  const configEpochs = isObject(configTrain) && isCount(configTrain.epochs) ? configTrain.epochs : undefined;
  const configModel = config?.model;
  const modelKind = isObject(configModel) && typeof configModel.kind === 'string' ? configModel.kind : undefined;
  const { epochs, steps, resumes } = parseMetricsHistory(await readOptional(runDir, RUN_FILES.metrics, METRICS_LIMIT_BYTES, problems) ?? '');
  const outputs = (await readJson(runDir, RUN_FILES.outputs, parseOutputs, problems))?.map((event) => (event.type === 'image' ? { ...event, path: recordedImagePath(runDir, event.path) } : event));
  const events = restoredEvents(outputs ?? [], epochs);
  if (!outputs) {
    const last = summary?.epochs ?? epochs.at(-1)?.epoch;
    for (const kind of ['reconstructions', 'samples'] as const) {
      const file = last ? imageFile(runDir, kind, last) : undefined;
      if (file && await lstat(file).then((info) => info.isFile(), () => false)) events.push({ type: 'image', cell: 'train', kind, epoch: last!, path: path.relative(runDir, file) });
    }
  }
  const when = await lstat(path.join(runDir, summary ? RUN_FILES.summary : RUN_FILES.metrics)).then((info) => info.mtime, () => new Date());
  return { runDir, summary, events, epochs, steps, resumes, configEpochs, modelKind, when, problems };
}
