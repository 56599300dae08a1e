/**
 * A sweep's run folders written with the run-folder module (not trained), as `aexp sweep` leaves
 * them: the experiment file with its sweep cell, one `<runs>/<name>-sweep-NNNN/<run>` per run of
 * the expanded cell, and the sweep's folder `<runs>/.sweeps/<name>/sweep.json`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RunSummary } from '../../runtime/protocol';
import { readSweep } from '../../runtime/sweep/sweep-cell';
import type { SweepRun } from '../../runtime/sweep/expand';
import { sweepFolder, writeSweepRecord } from '../../runtime/sweep/sweep-folder';
import { sweepRunParent } from '../../runtime/sweep/sweep-run';
import { writeRun } from './written-runs';

/** Two learning rates drawn log-uniformly, each with seeds 1 and 2: four runs. */
export const FOUR_RUN_SWEEP = '```sweep\nrandom:\n  count: 2\n  seed: 0\n  params:\n    train.lr: {loguniform: [1e-4, 1e-2]}\nseeds: [1, 2]\nmetric: test.loss\n```\n';

export interface WrittenSweep {
  file: string;
  runsFolder: string;
  /** The sweep's folder, `<runs>/.sweeps/<name>`: its id in the Runs panel. */
  folder: string;
  runs: SweepRun[];
  /** Each run's folder, by index. */
  runDirs: string[];
}

/**
 * Writes `<directory>/<name>.aexp` with `sweepCell` and its runs under `runsFolder`, each started a
 * minute after `start`; `status(index)` is a run's summary status (undefined: still going).
 */
export function writeSweep(directory: string, name: string, runsFolder: string, start: Date, status: (index: number) => RunSummary['status'] | undefined, sweepCell = FOUR_RUN_SWEEP): WrittenSweep {
  const file = path.join(directory, `${name}.aexp`);
  writeFileSync(file, `---\nseed: 7\n---\n\`\`\`data\ndataset: sprites\n\`\`\`\n\n\`\`\`model\nkind: vae\nlatent: 4\n\`\`\`\n\n\`\`\`train\nepochs: 3\n\`\`\`\n\n${sweepCell}`);
  const sweep = readSweep(readFileSync(file, 'utf8'), file)!;
  const folder = sweepFolder(runsFolder, file);
  writeSweepRecord(folder, { version: 1, file, runsFolder, ...(sweep.config.metric ? { metric: sweep.config.metric } : {}), runs: sweep.runs });
  const runDirs = sweep.runs.map((run) => {
    const lr = run.overrides.find(([key]) => key === 'train.lr')?.[1] as number | undefined;
    const parent = sweepRunParent(runsFolder, file, run.index);
    return writeRun(path.dirname(parent), { experiment: path.basename(parent), start: new Date(start.getTime() + run.index * 60_000), lr, seed: run.seed, status: status(run.index), sourceFile: file });
  });
  return { file, runsFolder, folder, runs: sweep.runs, runDirs };
}
