/** A reused run's training, shown again as it was. */
import { existsSync } from 'node:fs';
import type { EngineEvent, RunSummary } from '../protocol';
import { historyImageFile, imageFile, readMetrics, sampleRows } from '../run-folder';

/**
 * Shows a reused run's training as it was: its per-epoch metrics, its history grid (or, for a run
 * folder written before there was one, its last reconstruction grid), its last sample grid, and
 * where they came from. `historyRows` labels the history grid's rows.
 */
export function replayTraining(runDir: string, summary: RunSummary, modelKind: string, historyRows: string[], emit: (event: EngineEvent) => void): void {
  for (const record of readMetrics(runDir)) if (record.kind === 'epoch') emit({ type: 'metrics', record });
  const history = historyImageFile(runDir);
  const reconstructions = imageFile(runDir, 'reconstructions', summary.epochs);
  if (existsSync(history)) emit({ type: 'image', cell: 'train', kind: 'history', epoch: summary.epochs, path: history, rows: historyRows });
  else if (existsSync(reconstructions)) emit({ type: 'image', cell: 'train', kind: 'reconstructions', epoch: summary.epochs, path: reconstructions });
  const samples = imageFile(runDir, 'samples', summary.epochs);
  if (existsSync(samples)) emit({ type: 'image', cell: 'train', kind: 'samples', epoch: summary.epochs, path: samples, rows: [`${sampleRows(modelKind === 'cvae')[0]}, the same draws every epoch`] });
  emit({ type: 'cellOutput', cell: 'train', text: `reused the model trained in ${runDir}: the data, model and train cells have not changed since (Latent Lab: Train Again retrains from scratch)` });
}
