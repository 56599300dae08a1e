/** How far one run of a sweep has got, read from its newest run folder (config.json, metrics.jsonl, summary.json). */
import type { RunSummary } from '../protocol';
import { readMetrics, readRunConfig, readRunSummary } from '../run-folder';
import { runFoldersNewestFirst } from './sweep-run';

export interface RunProgress {
  runDir?: string;
  /** Epochs done. */
  epoch: number;
  /** The run's target epochs, once its config.json is written. */
  epochs?: number;
  /** The newest epoch's test loss (else its train loss). */
  loss?: number;
  summary?: RunSummary;
}

export function readRunProgress(parent: string): RunProgress {
  const runDir = runFoldersNewestFirst(parent)[0];
  if (!runDir) return { epoch: 0 };
  let epochs: number | undefined;
  try {
    epochs = readRunConfig(runDir).train?.epochs;
  } catch {
    epochs = undefined;
  }
  const records = readMetrics(runDir);
  let epoch = 0;
  let loss: number | undefined;
  for (const record of records) {
    if (record.kind !== 'epoch') continue;
    epoch = record.epoch;
    loss = record.test?.loss ?? record.train.loss;
  }
  return { runDir, epoch, epochs, loss, summary: readRunSummary(runDir) };
}
