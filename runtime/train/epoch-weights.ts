/**
 * Weights of past epochs, for the views that look at a model as it was (the latent explorer's
 * epoch picker, `--checkpoint epoch-N`): `checkpoints/weights/epoch-NNNN.ckpt`, the checkpoint
 * format without optimizer state (a third of an Adam checkpoint), written atomically beside
 * `last.ckpt`. `checkpoint_every` keeps full, resumable checkpoints; these are only weights.
 *
 * Which epochs: every epoch while the run's weight files stay under WEIGHTS_BUDGET_BYTES in all;
 * a larger model (or a longer run) keeps every k-th epoch so they do, and always the last.
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Autoencoder } from '../model/build';
import { allWeights } from '../model/build';
import { RUN_FILES } from '../run-folder';
import type { TrainingPosition } from './checkpoint';
import { saveCheckpoint } from './checkpoint';

export const WEIGHTS_FOLDER = 'weights';
/** What a run's per-epoch weights may take on disk in all, by default. */
export const WEIGHTS_BUDGET_BYTES = 256 * 1024 * 1024;
const EPOCH_FILE = /^epoch-(\d{4,})\.ckpt$/;

export function epochWeightsFolder(runDir: string): string {
  return path.join(runDir, RUN_FILES.checkpoints, WEIGHTS_FOLDER);
}

export function epochWeightsFile(runDir: string, epoch: number): string {
  return path.join(epochWeightsFolder(runDir), `epoch-${String(epoch).padStart(4, '0')}.ckpt`);
}

/** Keep every `stride`-th epoch's weights: 1 while `epochs` files of `weightBytes` fit the budget. */
export function epochWeightsStride(weightBytes: number, epochs: number, budget = WEIGHTS_BUDGET_BYTES): number {
  return Math.max(1, Math.ceil((weightBytes * epochs) / budget));
}

/** Whether the end of `epoch` (1-based) keeps its weights: every stride-th, and the run's last. */
export function keepsEpochWeights(epoch: number, stride: number, lastEpoch: number): boolean {
  return epoch % stride === 0 || epoch === lastEpoch;
}

export async function saveEpochWeights(runDir: string, model: Autoencoder, position: TrainingPosition): Promise<string> {
  const weights = await Promise.all(allWeights(model).map(async (handle) => {
    const tensor = handle.read();
    const values = (await tensor.data()) as Float32Array;
    return { shape: handle.shape, values: Float32Array.from(values) };
  }));
  const file = epochWeightsFile(runDir, position.epoch);
  mkdirSync(path.dirname(file), { recursive: true });
  saveCheckpoint(file, { position, weights, optimizer: { name: 'none', step: 0, slots: [] }, configHash: '' });
  return file;
}

/** The epochs whose weights are kept, ascending. */
export function epochsWithWeights(runDir: string): number[] {
  try {
    return readdirSync(epochWeightsFolder(runDir), { withFileTypes: true }).filter((entry) => entry.isFile() && EPOCH_FILE.test(entry.name)).map((entry) => Number(EPOCH_FILE.exec(entry.name)![1])).sort((a, b) => a - b);
  } catch {
    return [];
  }
}

/** Before a resume from the end of `epoch`: the weights of later epochs are trained again, so they go. */
export function truncateEpochWeights(runDir: string, epoch: number): number {
  const later = epochsWithWeights(runDir).filter((kept) => kept > epoch);
  for (const kept of later) rmSync(epochWeightsFile(runDir, kept), { force: true });
  return later.length;
}
