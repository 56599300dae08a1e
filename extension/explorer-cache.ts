/**
 * The Latent Explorer's points kept on disk, in the extension's storage (never in the run folder,
 * which the explorer only reads): a window reload restarts the extension host and with it the
 * explorer's runtime, and the page asks for its run again; this answers without encoding the
 * split again. An entry is named by the run folder, checkpoint, split and projection and by the
 * checkpoint file's time and size, so a checkpoint written again (a new epoch in `last`) is a miss.
 */
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ExplorerChoice, ExploreResult } from './explorer-protocol';

/** Entries kept: a 70k-point split is about 8 MB. */
export const EXPLORER_CACHE_ENTRIES = 8;
const VERSION = 1;

/** The file a checkpoint name stands for in a run folder, with its time and size; undefined when it has none. */
export function checkpointStamp(runDir: string, checkpoint: string): string | undefined {
  const folder = path.join(runDir, 'checkpoints');
  const epoch = /^epoch-(\d+)$/.exec(checkpoint);
  const candidates = epoch ? [folder, path.join(folder, 'weights')].flatMap((where) => {
    try {
      return readdirSync(where).filter((name) => new RegExp(`^epoch-0*${epoch[1]}\\.ckpt$`).test(name)).map((name) => path.join(where, name));
    } catch {
      return [];
    }
  }) : [path.join(folder, `${checkpoint}.ckpt`)];
  for (const file of candidates) {
    try {
      const stats = statSync(file);
      if (stats.isFile()) return `${file} ${stats.mtimeMs} ${stats.size}`;
    } catch {
      // Not there: the next candidate.
    }
  }
  return undefined;
}

function isResult(value: unknown): value is ExploreResult {
  const result = value as Partial<ExploreResult> | null;
  return typeof result === 'object' && result !== null && Number.isInteger(result.count) && typeof result.means === 'string' && typeof result.labels === 'string'
    && typeof result.losses === 'string' && typeof result.projection?.points === 'string' && Array.isArray(result.dimensions) && typeof result.model === 'object';
}

export class ExplorerCache {
  /** `folder` undefined: nothing is kept (no storage for this window). */
  constructor(private readonly folder: string | undefined, private readonly entries = EXPLORER_CACHE_ENTRIES) {}

  private file(choice: ExplorerChoice): string | undefined {
    const stamp = checkpointStamp(choice.runDir, choice.checkpoint);
    if (!this.folder || !stamp) return undefined;
    const key = createHash('sha256').update(JSON.stringify([VERSION, choice.runDir, choice.checkpoint, choice.split, choice.projection ?? 'pca', stamp])).digest('hex').slice(0, 32);
    return path.join(this.folder, `${key}.json`);
  }

  /** The points kept for this choice and its checkpoint as it is now, if any. */
  async read(choice: ExplorerChoice): Promise<ExploreResult | undefined> {
    const file = this.file(choice);
    if (!file) return undefined;
    try {
      const parsed = JSON.parse(await readFile(file, 'utf8')) as { version?: number; result?: unknown };
      return parsed.version === VERSION && isResult(parsed.result) ? parsed.result : undefined;
    } catch {
      // Missing or torn: computed again.
      return undefined;
    }
  }

  /** Keeps the points (written whole, then renamed into place), dropping the oldest entries past the limit. */
  async write(choice: ExplorerChoice, result: ExploreResult): Promise<void> {
    const file = this.file(choice);
    if (!file || !this.folder) return;
    await mkdir(this.folder, { recursive: true });
    const partial = `${file}.${process.pid}.partial`;
    await writeFile(partial, JSON.stringify({ version: VERSION, result }));
    await rename(partial, file);
    const kept = await Promise.all((await readdir(this.folder)).filter((name) => name.endsWith('.json')).map(async (name) => {
      const where = path.join(this.folder!, name);
      return { where, time: (await stat(where).catch(() => undefined))?.mtimeMs ?? 0 };
    }));
    kept.sort((a, b) => b.time - a.time);
    await Promise.all(kept.slice(this.entries).map((entry) => rm(entry.where, { force: true })));
  }
}
