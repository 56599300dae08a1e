/**
 * One run of a sweep, as `aexp run <file> --sweep-index i` runs it: the experiment's text with run
 * i's overrides and seed written in, and what its runs folder already holds for exactly that text
 * (finished: nothing to do; stopped or killed with a checkpoint: resume it; else a new run).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { parseAexp } from '../format/document';
import type { FrontMatterBlock } from '../format/document';
import { applyOverrides } from '../format/overrides';
import type { RunSummary } from '../protocol';
import { checkpointFile, defaultRunsParent, experimentName, isRunFolderName, readRunSummary, runFile } from '../run-folder';
import { readRunLock } from '../run-lock';
import type { SweepRun } from './expand';
import { overrideArguments } from './expand';
import { sweepRunFolderName } from './slurm-script';
import type { Sweep } from './sweep-cell';
import { readSweep } from './sweep-cell';

export class SweepRunError extends Error {
  override name = 'SweepRunError';
}

/** The front matter's seed (0 when it names none, as the schema's default). */
function frontMatterSeed(text: string, file: string): number {
  const block = parseAexp(text, file).blocks.find((candidate): candidate is FrontMatterBlock => candidate.type === 'frontMatter');
  const seed = block ? (parseDocument(block.body).toJS() as { seed?: unknown } | null)?.seed : undefined;
  return typeof seed === 'number' ? seed : 0;
}

function withFrontMatterSeed(text: string, file: string, seed: number): string {
  const block = parseAexp(text, file).blocks.find((candidate): candidate is FrontMatterBlock => candidate.type === 'frontMatter');
  if (!block) return `---\nseed: ${seed}\n---\n${text}`;
  const yaml = parseDocument(block.body);
  if (yaml.contents === null) yaml.contents = yaml.createNode({}) as unknown as typeof yaml.contents;
  yaml.setIn(['seed'], seed);
  let body = yaml.toString({ flowCollectionPadding: false });
  if (block.body.includes('\r\n')) body = body.replace(/\r?\n/g, '\r\n');
  return text.slice(0, block.bodyOffset) + body + text.slice(block.bodyOffset + block.body.length);
}

function dataCellHasSeed(text: string, file: string): boolean {
  const block = parseAexp(text, file).blocks.find((candidate) => candidate.type === 'cell' && candidate.kind === 'data');
  const data = block?.type === 'cell' ? (parseDocument(block.body).toJS() as Record<string, unknown> | null) : null;
  return data !== null && typeof data === 'object' && 'seed' in data;
}

/**
 * The text run `run` trains: its overrides applied, then its seed as the front matter's. A run
 * with a seed of its own keeps the data split of the experiment's seed (data.seed), so every run
 * of the sweep is tested on the same images.
 */
export function sweepRunText(text: string, file: string, run: SweepRun): string {
  let result = applyOverrides(text, file, overrideArguments(run));
  if (run.seed === undefined) return result;
  if (!dataCellHasSeed(result, file)) result = applyOverrides(result, file, [`data.seed=${frontMatterSeed(text, file)}`]);
  return withFrontMatterSeed(result, file, run.seed);
}

/** Where a sweep's runs go: `--out`, else the experiment's own runs folder. */
export function sweepRunsFolder(file: string, out?: string): string {
  return path.resolve(out ?? defaultRunsParent(file));
}

/** The folder run `index` of the sweep makes its run folders in (the `--out` of its `aexp run`). */
export function sweepRunParent(runsFolder: string, file: string, index: number): string {
  return path.join(runsFolder, sweepRunFolderName(experimentName(file), index));
}

/** The run folders under `parent`, newest first. */
export function runFoldersNewestFirst(parent: string): string[] {
  if (!existsSync(parent)) return [];
  const names = readdirSync(parent, { withFileTypes: true }).filter((entry) => entry.isDirectory() && isRunFolderName(entry.name)).map((entry) => entry.name);
  const suffix = (name: string) => Number(/-(\d+)$/.exec(name.slice(15))?.[1] ?? 1);
  return names.sort((a, b) => b.slice(0, 15).localeCompare(a.slice(0, 15)) || suffix(b) - suffix(a)).map((name) => path.join(parent, name));
}

export type SweepRunState =
  | { kind: 'finished'; runDir: string; summary: RunSummary }
  /** Another process trains it now (its folder's lock is live): neither resumed nor started again. */
  | { kind: 'running'; runDir: string; holder: string }
  | { kind: 'resume'; runDir: string }
  | { kind: 'new' };

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * What `parent` holds for a run of exactly `text`: its newest run folder, when that folder trained
 * this text, is finished (completed, early-stopped or diverged: running it again gives the same)
 * being trained by a live process (its lock), or to be resumed (stopped, or killed after a
 * checkpoint). Anything else starts a new run folder.
 */
export function sweepRunState(parent: string, text: string): SweepRunState {
  const newest = runFoldersNewestFirst(parent)[0];
  if (!newest || readText(runFile(newest, 'experiment')) !== text) return { kind: 'new' };
  const summary = readRunSummary(newest);
  if (summary && ['completed', 'early-stopped', 'diverged'].includes(summary.status)) return { kind: 'finished', runDir: newest, summary };
  const lock = readRunLock(newest);
  if (lock && !lock.abandoned) return { kind: 'running', runDir: newest, holder: lock.holder ? `pid ${lock.holder.pid} on ${lock.holder.host}` : 'another process' };
  return existsSync(checkpointFile(newest, 'last')) ? { kind: 'resume', runDir: newest } : { kind: 'new' };
}

/** The sweep of a file, which must have a sweep cell. */
export function requireSweep(file: string, text: string): Sweep {
  const sweep = readSweep(text, file);
  if (!sweep) throw new SweepRunError(`${file} has no sweep cell (a \`\`\`sweep fence with grid, random or seeds)`);
  return sweep;
}

/** Run `index` of the file's sweep: its text and the state of its runs folder. */
export function prepareSweepRun(file: string, index: number, parent: string, extraOverrides: readonly string[] = []): { run: SweepRun; text: string; state: SweepRunState } {
  const base = readFileSync(file, 'utf8');
  const sweep = requireSweep(file, base);
  const run = sweep.runs[index];
  if (!run) throw new SweepRunError(`--sweep-index ${index}: the sweep of ${file} has runs 0 to ${sweep.runs.length - 1}`);
  let text = sweepRunText(base, file, run);
  if (extraOverrides.length > 0) text = applyOverrides(text, file, extraOverrides);
  return { run, text, state: sweepRunState(parent, text) };
}
