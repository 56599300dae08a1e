/**
 * The Runs panel's data, apart from VS Code: every run folder under the runs folders, read into
 * one row each (status, times, backend, final and best test metrics, the config flattened to
 * dotted keys), the config keys that differ between runs, and the table as CSV. Plain Node: tested
 * without VS Code.
 */
import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { MetricsRecord, RunSummary } from '../runtime/protocol';
import type { RunConfig } from '../runtime/run-folder';
import { isRunFolderName, parseMetrics, RUN_FILES } from '../runtime/run-folder';
import { readRunLock } from '../runtime/run-lock';
import { parse as parseYaml } from 'yaml';
import { parseAexp } from '../runtime/format/document';
import { KIND_KEYS } from '../runtime/format/schema';
import type { ConfigValue, PageMessage, RunAction, RunRow, SweepGroup } from './runs-panel-protocol';

export type { ConfigValue, RunRow, RunRowStatus, SweepGroup } from './runs-panel-protocol';

/** config.json's fields that say where or how a run was written, not what it computes. */
const NOT_CONFIG = new Set(['version', 'sourceFile', 'title', 'dataDir', 'configHash']);

/** `{ train: { lr: 1e-3 } }` → `{ 'train.lr': 0.001 }`; arrays stay whole (as JSON text), so that `encoder` is one key. */
export function flattenConfig(config: Partial<RunConfig> | Record<string, unknown>): Record<string, ConfigValue> {
  const flat: Record<string, ConfigValue> = {};
  const walk = (value: unknown, prefix: string) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [key, inner] of Object.entries(value)) walk(inner, prefix ? `${prefix}.${key}` : key);
      return;
    }
    if (value === undefined) return;
    flat[prefix] = value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : JSON.stringify(value);
  };
  for (const [key, value] of Object.entries(config)) if (!NOT_CONFIG.has(key)) walk(value, key);
  return flat;
}

/**
 * Whether the config key means anything for a run of this model kind: config.json stores every
 * model default whatever the kind (a plain vae's `model.beta` is 4), and the schema says which
 * keys apply to which kinds. A run with no kind (a damaged config) keeps every key.
 */
export function keyApplies(key: string, kind: ConfigValue | undefined): boolean {
  const [cell, name] = key.split('.');
  const kinds = cell === 'model' ? KIND_KEYS[name] : undefined;
  return !kinds || typeof kind !== 'string' || (kinds as readonly string[]).includes(kind);
}

/** A flattened config without the model keys that do not apply to its model's kind. */
export function applicableConfig(config: Record<string, ConfigValue>): Record<string, ConfigValue> {
  return Object.fromEntries(Object.entries(config).filter(([key]) => keyApplies(key, config['model.kind'])));
}

/**
 * The config keys whose values are not the same in every one of `rows` it applies to (a key one
 * of them lacks differs; a model key of another kind's runs does not), in a stable order: seed,
 * data, model, train, then the rest, each alphabetically.
 */
export function differingKeys(rows: readonly Pick<RunRow, 'config'>[]): string[] {
  if (rows.length < 2) return [];
  const keys = new Set(rows.flatMap((row) => Object.keys(row.config)));
  const differ = [...keys].filter((key) => {
    const applying = rows.filter((row) => keyApplies(key, row.config['model.kind']));
    if (applying.length < 2) return false;
    const first = JSON.stringify(applying[0].config[key]);
    return applying.some((row) => JSON.stringify(row.config[key]) !== first);
  });
  const group = (key: string) => ['seed', 'data', 'model', 'train'].indexOf(key.split('.')[0]) >>> 0;
  return differ.sort((a, b) => group(a) - group(b) || a.localeCompare(b));
}

async function readJson<T>(file: string): Promise<{ value?: T; problem?: string }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? {} : { problem: `${file}: ${(error as Error).message}` };
  }
  try {
    return { value: JSON.parse(text) as T };
  } catch (error) {
    return { problem: `${file}: ${(error as Error).message}` };
  }
}

function numbers(values: object | undefined): Record<string, number> {
  return Object.fromEntries(Object.entries(values ?? {}).filter((entry): entry is [string, number] => typeof entry[1] === 'number'));
}

/**
 * A sweep's sweep.json as `aexp sweep` writes it (runtime/sweep/sweep-folder.ts SweepRecord), the
 * fields the panel reads: the runtime's sweep modules stay out of the extension host.
 */
interface SweepRecord {
  file?: string;
  metric?: string;
  runs?: { index: number; overrides: [string, unknown][]; seed?: number }[];
}
const SWEEP_RECORD = 'sweep.json';

/** The keys the experiment's sweep cell draws log-uniformly (`random.params.<key>: {loguniform: …}`). */
function logUniformKeys(text: string, file: string): string[] {
  const cell = parseAexp(text, file).blocks.find((block) => block.type === 'cell' && block.kind === 'sweep');
  if (cell?.type !== 'cell') return [];
  const params = (parseYaml(cell.body) as { random?: { params?: Record<string, unknown> } } | null)?.random?.params;
  if (typeof params !== 'object' || params === null) return [];
  return Object.entries(params).filter(([, distribution]) => typeof distribution === 'object' && distribution !== null && 'loguniform' in distribution).map(([key]) => key);
}

/** The run of a sweep's folder of runs, `<name>-sweep-NNNN` (sweepRunFolderName). */
const SWEEP_RUN_PARENT = /^(.+)-sweep-(\d{4,})$/;
const FINISHED = new Set(['completed', 'early-stopped', 'diverged']);

/** The run folder's UTC start, from its name (isRunFolderName has checked it). */
function startOf(name: string): string {
  const [, year, month, day, hour, minute, second] = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})/.exec(name)!;
  return `${year}-${month}-${day}T${hour}:${minute}:${second}Z`;
}

function isLockLive(runDir: string): boolean {
  try {
    const lock = readRunLock(runDir);
    return lock !== undefined && !lock.abandoned;
  } catch {
    // A lock.json that is a link or not a file holds nothing this panel trusts.
    return false;
  }
}

/**
 * Names for a list of runs (the explorer's run picker): the experiment's title and the start time
 * to the second, then what differs from the other runs of the same experiment (at most three keys),
 * so that runs started within one minute, or differing only in their seed, read apart.
 */
export function runChoiceLabels(rows: readonly Pick<RunRow, 'runDir' | 'experiment' | 'title' | 'startedAt' | 'config'>[]): Map<string, string> {
  const byExperiment = new Map<string, Pick<RunRow, 'config'>[]>();
  for (const row of rows) byExperiment.set(row.experiment, [...(byExperiment.get(row.experiment) ?? []), row]);
  const keysOf = new Map([...byExperiment].map(([experiment, group]) => [experiment, group.length > 1 ? differingKeys(group) : []]));
  return new Map(rows.map((row) => {
    const keys = keysOf.get(row.experiment)!;
    const shown = keys.slice(0, 3).filter((key) => row.config[key] !== undefined).map((key) => `${key} ${String(row.config[key])}`);
    const start = row.startedAt.replace('T', ' ').slice(0, 19);
    return [row.runDir, [row.title ?? row.experiment, start, ...shown, ...(keys.length > 3 ? ['…'] : [])].join(' · ')];
  }));
}

/** The row of one run folder: what its files say, each unreadable file named in `problem`. */
export async function readRunRow(runDir: string, experiment: string): Promise<RunRow> {
  const problems: string[] = [];
  const config = await readJson<RunConfig>(path.join(runDir, RUN_FILES.config));
  const summary = await readJson<RunSummary>(path.join(runDir, RUN_FILES.summary));
  if (config.problem) problems.push(config.problem);
  if (summary.problem) problems.push(summary.problem);
  if (!config.value && !config.problem) problems.push(`${runDir}: no ${RUN_FILES.config}`);
  const metrics = parseMetrics(await readFile(path.join(runDir, RUN_FILES.metrics), 'utf8').catch(() => ''));
  const epochs = metrics.filter((record): record is Extract<MetricsRecord, { kind: 'epoch' }> => record.kind === 'epoch');
  const tested = epochs.filter((record) => record.test);
  const done = summary.value;
  const live = isLockLive(runDir);
  let best = done?.best;
  if (!best && tested.length > 0) {
    const lowest = tested.reduce((low, record) => (record.test!.loss < low.test!.loss ? record : low));
    best = { epoch: lowest.epoch, loss: lowest.test!.loss };
  }
  const times = metrics.map((record) => Date.parse(record.time)).filter(Number.isFinite);
  const value = config.value;
  const name = path.basename(runDir);
  return {
    runDir,
    experiment,
    ...(done?.title ?? value?.title ? { title: done?.title ?? value?.title } : {}),
    ...(value?.sourceFile ? { sourceFile: value.sourceFile } : {}),
    status: live ? 'running' : done?.status ?? 'interrupted',
    startedAt: startOf(name),
    ...(done && !live ? { durationSeconds: done.durationSeconds } : times.length > 1 ? { durationSeconds: (Math.max(...times) - Math.min(...times)) / 1000 } : {}),
    ...(done?.backend ?? value?.backend ? { backend: done?.backend ?? value?.backend } : {}),
    ...(done?.device ? { device: done.device } : {}),
    ...(done?.units ?? epochs.at(-1)?.units ? { units: done?.units ?? epochs.at(-1)?.units } : {}),
    epochs: done && !live ? done.epochs : epochs.at(-1)?.epoch ?? 0,
    ...(done?.targetEpochs ?? value?.train?.epochs ? { targetEpochs: done?.targetEpochs ?? value?.train?.epochs } : {}),
    ...(done?.test ?? tested.at(-1)?.test ? { test: done?.test ?? tested.at(-1)?.test } : {}),
    ...(best ? { best } : {}),
    ...(done?.train ?? epochs.at(-1)?.train ? { train: numbers(done?.train ?? epochs.at(-1)?.train) } : {}),
    config: value ? applicableConfig(flattenConfig(value)) : {},
    ...(problems.length > 0 ? { problem: problems.join('; ') } : {}),
  };
}

async function folders(parent: string): Promise<Dirent[]> {
  // Links are not followed: a repository's run folders cannot point the panel elsewhere.
  return (await readdir(parent, { withFileTypes: true }).catch(() => [])).filter((entry) => entry.isDirectory());
}

/** A run folder found under the runs folders: its experiment, and its sweep where it is one of a sweep's runs. */
export interface FoundRunFolder {
  runDir: string;
  experiment: string;
  sweep?: { id: string; index: number };
}

/**
 * The run folders under the runs folders, by their names alone (nothing inside them is read):
 * `<root>/<experiment>/<run>` as the extension writes them and `<root>/<run>` as the CLI's `--out`
 * does; a sweep's runs one level deeper, in `<runs>/<experiment>-sweep-NNNN/<run>`, its folder
 * `<runs>/.sweeps/<experiment>`. Only folders named as newRunDir names them count. A folder found
 * under two roots appears once.
 */
export async function findRunFolders(roots: readonly string[], now = new Date()): Promise<FoundRunFolder[]> {
  const found = new Map<string, FoundRunFolder>();
  const addRuns = async (parent: string, experiment: string, sweep?: { id: string; index: number }) => {
    for (const run of await folders(parent)) if (isRunFolderName(run.name, now)) found.set(path.join(parent, run.name), { runDir: path.join(parent, run.name), experiment, ...(sweep ? { sweep } : {}) });
  };
  /** `folder`'s `<name>-sweep-NNNN`, whose runs go under the sweep `<runs>/.sweeps/<name>`. */
  const sweepOf = (runs: string, name: string) => {
    const match = SWEEP_RUN_PARENT.exec(name);
    return match ? { experiment: match[1], sweep: { id: path.join(runs, '.sweeps', match[1]), index: Number(match[2]) } } : undefined;
  };
  for (const root of roots) {
    for (const entry of await folders(root)) {
      const inner = path.join(root, entry.name);
      if (isRunFolderName(entry.name, now)) {
        found.set(inner, { runDir: inner, experiment: path.basename(root) });
        continue;
      }
      const sweep = sweepOf(root, entry.name);
      if (sweep) {
        await addRuns(inner, sweep.experiment, sweep.sweep);
        continue;
      }
      await addRuns(inner, entry.name);
      for (const child of await folders(inner)) {
        const nested = sweepOf(inner, child.name);
        if (nested) await addRuns(path.join(inner, child.name), nested.experiment, nested.sweep);
      }
    }
  }
  return [...found.values()];
}

/** The run folders (findRunFolders) that hold a run: its config.json, the first file a run writes. */
export async function runFoldersHoldingRuns(roots: readonly string[], now = new Date()): Promise<FoundRunFolder[]> {
  const found = await findRunFolders(roots, now);
  const holding = await Promise.all(found.map((run) => stat(path.join(run.runDir, RUN_FILES.config)).then((info) => info.isFile(), () => false)));
  return found.filter((_, index) => holding[index]);
}

/** The run that `folder` is, under the runs folders (runFoldersHoldingRuns), or why it is none. */
export async function runFolderAt(folder: string, roots: readonly string[]): Promise<FoundRunFolder | string> {
  const run = (await runFoldersHoldingRuns(roots)).find((found) => found.runDir === path.resolve(folder));
  return run ?? `${folder} is not a run folder: a run is a folder under the runs folders (${roots.join(', ')}), named by its start time, that holds ${RUN_FILES.config}.`;
}

/** Every run under the runs folders (findRunFolders) read into its row, newest first. */
export async function listRuns(roots: readonly string[], now = new Date()): Promise<RunRow[]> {
  const found = await findRunFolders(roots, now);
  const rows = await Promise.all(found.map(async ({ runDir, experiment, sweep }) => {
    const row = await readRunRow(runDir, experiment);
    return sweep ? { ...row, sweep: { ...sweep, newest: false } } : row;
  }));
  rows.sort((a, b) => b.startedAt.localeCompare(a.startedAt) || b.runDir.localeCompare(a.runDir));
  // Newest first: the first row of a sweep's index is its newest run folder.
  const seen = new Set<string>();
  for (const row of rows) {
    if (!row.sweep) continue;
    const key = `${row.sweep.id}\0${row.sweep.index}`;
    row.sweep.newest = !seen.has(key);
    seen.add(key);
  }
  return rows;
}

/** A run's value of `split.metric` (test.loss, train.loss, test.psnr; a leading `-` ignored). */
export function metricOf(row: Pick<RunRow, 'test' | 'train'>, metric: string): number | undefined {
  const [split, name] = metric.replace(/^-/, '').split('.');
  const values = (split === 'test' ? row.test : split === 'train' ? row.train : undefined) as Record<string, unknown> | undefined;
  const value = values?.[name];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/**
 * The sweeps `rows` have runs of, one group each, and each sweep run's row given its metric. A
 * sweep's swept keys and run count come from its sweep.json; which keys are log-uniform from the
 * sweep cell of the experiment file it names, when that file still has one. Done and best count
 * each index's newest run folder only, and a run's metric is its final one (finished runs only).
 */
export async function sweepGroups(rows: readonly RunRow[]): Promise<SweepGroup[]> {
  const ids = [...new Set(rows.flatMap((row) => (row.sweep ? [row.sweep.id] : [])))];
  const groups: SweepGroup[] = [];
  for (const id of ids) {
    const problems: string[] = [];
    const recordFile = path.join(id, SWEEP_RECORD);
    const read = await readJson<SweepRecord>(recordFile);
    if (read.problem) problems.push(read.problem);
    const record = read.value && Array.isArray(read.value.runs) ? read.value : undefined;
    if (!record && !read.problem) problems.push(`${recordFile}: ${read.value ? 'no list of runs' : 'missing'}`);
    const metric = typeof record?.metric === 'string' ? record.metric : 'test.loss';
    const runs = (record?.runs ?? []).filter((run) => typeof run === 'object' && run !== null);
    const keys = [...new Set(runs.flatMap((run) => (Array.isArray(run.overrides) ? run.overrides.map(([key]) => String(key)) : [])))];
    if (runs.some((run) => run.seed !== undefined)) keys.push('seed');
    const logKeys: string[] = [];
    if (typeof record?.file === 'string') {
      try {
        logKeys.push(...logUniformKeys(await readFile(record.file, 'utf8'), record.file));
      } catch (error) {
        // The experiment moved or its sweep cell changed since: the axis is linear unless chosen.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') problems.push(`${record.file}: ${(error as Error).message.split('\n')[0]}`);
      }
    }
    const members = rows.filter((row) => row.sweep?.id === id);
    let best: SweepGroup['best'];
    for (const row of members) {
      // A run's metric counts once it has finished: a run still going has only its latest epoch's.
      const value = FINISHED.has(row.status) ? metricOf(row, metric) : undefined;
      if (value === undefined) continue;
      row.sweep!.metric = value;
      if (!row.sweep!.newest) continue;
      if (!best || (metric.startsWith('-') ? value > best.value : value < best.value)) best = { value, run: row.runDir, index: row.sweep!.index };
    }
    const name = path.basename(id);
    groups.push({
      id, name, ...(typeof record?.file === 'string' ? { file: record.file } : {}),
      total: Math.max(runs.length, new Set(members.map((row) => row.sweep!.index)).size),
      done: members.filter((row) => row.sweep!.newest && FINISHED.has(row.status)).length,
      metric, keys, logKeys, ...(best ? { best } : {}),
      ...(problems.length > 0 ? { problem: problems.join('; ') } : {}),
    });
  }
  return groups;
}

/** One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break. */
function field(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = typeof value === 'number' ? String(Number(value.toPrecision(12))) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The table as CSV: one line per run in the order given, the fixed columns, then `keys` of the config. */
export function runsCsv(rows: readonly RunRow[], keys: readonly string[]): string {
  const header = ['experiment', 'title', 'run_folder', 'status', 'started', 'duration_s', 'backend', 'device', 'epochs', 'units', 'test_loss', 'test_reconstruction', 'test_kl', 'test_mse', 'test_psnr', 'best_test_loss', 'best_epoch', ...keys];
  const lines = rows.map((row) => [row.experiment, row.title, row.runDir, row.status, row.startedAt, row.durationSeconds, row.backend, row.device, row.epochs, row.units, row.test?.loss, row.test?.reconstruction, row.test?.kl, row.test?.mse, row.test?.psnr, row.best?.loss, row.best?.epoch, ...keys.map((key) => row.config[key])].map(field).join(','));
  return `${[header.map(field).join(','), ...lines].join('\r\n')}\r\n`;
}

/**
 * Why Continue Training does not apply to `row`, or undefined when it does. The command goes on
 * from the run its experiment's notebook shows, its newest, so only that run continues, once it has
 * ended, and only while its experiment file is there to open.
 */
export function continueRefusal(row: RunRow, rows: readonly RunRow[], fileExists: (file: string) => boolean): string | undefined {
  if (row.status === 'running') return 'this run is training now.';
  if (!row.sourceFile || !fileExists(row.sourceFile)) return `its experiment file ${row.sourceFile ?? ''} is gone; open its folder to see the snapshot it kept.`;
  const newer = rows.find((other) => other.sourceFile === row.sourceFile && other.startedAt > row.startedAt);
  if (newer) return `Continue Training goes on from an experiment's newest run, and ${path.basename(row.sourceFile)} has a newer one (${newer.startedAt}).`;
  return undefined;
}

const ACTIONS = new Set(['openExperiment', 'openFolder', 'continue', 'delete']);
/** More config columns than any experiment has: a longer list is not the page's. */
const KEY_LIMIT = 500;
/** More runs than a page can name: its list is not looked through. */
const RUN_LIMIT = 100_000;

/**
 * A message of the panel's page, checked: the runs it names must be among `known` (the folders the
 * host listed), so that a page cannot make the host read, open or delete anything else. Anything
 * malformed is `undefined` and dropped.
 */
export function parsePageMessage(value: unknown, known: ReadonlySet<string>): PageMessage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const message = value as Record<string, unknown>;
  const runList = (runs: unknown) => (Array.isArray(runs) && runs.length <= RUN_LIMIT && runs.every((run) => typeof run === 'string' && known.has(run)) ? (runs as string[]) : undefined);
  switch (message.type) {
    case 'ready':
    case 'refresh':
      return { type: message.type };
    case 'select': {
      const runs = runList(message.runs);
      return runs && { type: 'select', runs: [...new Set(runs)] };
    }
    case 'viewsEpoch':
      if (message.epoch === undefined) return { type: 'viewsEpoch' };
      return Number.isSafeInteger(message.epoch) && (message.epoch as number) >= 0 ? { type: 'viewsEpoch', epoch: message.epoch as number } : undefined;
    case 'action':
      return typeof message.action === 'string' && ACTIONS.has(message.action) && typeof message.run === 'string' && known.has(message.run) ? { type: 'action', action: message.action as RunAction, run: message.run } : undefined;
    case 'exportCsv': {
      const runs = runList(message.runs);
      const keys = message.keys;
      const keysValid = Array.isArray(keys) && keys.length <= KEY_LIMIT && keys.every((key) => typeof key === 'string' && key.length <= 200);
      return runs && keysValid ? { type: 'exportCsv', runs, keys: keys as string[] } : undefined;
    }
    default:
      return undefined;
  }
}
