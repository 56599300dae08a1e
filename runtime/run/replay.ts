/** A reused run's training, shown again as it was. */
import type { EngineEvent, RunSummary } from '../protocol';
import { imageFile, readMetrics } from '../run-folder';
import { existsSync } from 'node:fs';

/**
 * Shows a reused run's training as it was: its per-epoch metrics, its last reconstruction and
 * sample grids, and where they came from.
 */
export function replayTraining(runDir: string, summary: RunSummary, emit: (event: EngineEvent) => void): void {
  for (const record of readMetrics(runDir)) if (record.kind === 'epoch') emit({ type: 'metrics', record });
  for (const kind of ['reconstructions', 'samples'] as const) {
    const file = imageFile(runDir, kind, summary.epochs);
    if (existsSync(file)) emit({ type: 'image', cell: 'train', kind, epoch: summary.epochs, path: file });
  }
  emit({ type: 'cellOutput', cell: 'train', text: `reused the model trained in ${runDir}: the data, model and train cells have not changed since (Latent Lab: Train Again retrains from scratch)` });
}
