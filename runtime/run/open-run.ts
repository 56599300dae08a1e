/**
 * A finished (or stopped) run opened for analysis: a backend chosen, its model rebuilt from the
 * chosen checkpoint, and its data loaded from this machine's data folder. What `aexp evaluate`,
 * `encode` and `decode` start from.
 */
import path from 'node:path';
import type { BackendInfo, BackendName } from '../backends/select';
import { selectBackend } from '../backends/select';
import type { Dataset } from '../data/dataset';
import { loadDataset, resolveDataDir } from '../data/index';
import type { DataConfig, ModelConfig } from '../format/schema';
import type { Autoencoder } from '../model/build';
import { disposeAutoencoder } from '../model/build';
import { readRunConfig } from '../run-folder';
import { loadRunModel } from './load-run';

export interface OpenRunOptions {
  /** last (default), best or epoch-N. */
  checkpoint?: string;
  /** This machine's data folder; config.json's is the training machine's and is used only when it exists here. */
  dataDir?: string;
  backend?: BackendName;
  /** Load the run's dataset too. */
  data?: boolean;
  signal?: AbortSignal;
}

export interface OpenRun {
  runDir: string;
  checkpoint: string;
  backend: BackendInfo;
  model: Autoencoder;
  config: { seed: number; data: DataConfig; model: ModelConfig; dataDir: string };
  dataset?: Dataset;
  /** Completed epochs of the checkpoint. */
  epoch: number;
  dispose(): void;
}

export async function openRun(runDir: string, options: OpenRunOptions = {}): Promise<OpenRun> {
  const backend = await selectBackend(options.backend ?? 'auto');
  const recorded = readRunConfig(runDir);
  const dataDir = options.dataDir !== undefined ? path.resolve(options.dataDir) : process.env.AEXP_DATA_DIR ? resolveDataDir(undefined) : recorded.dataDir;
  const checkpoint = options.checkpoint ?? 'last';
  const { model, config, position } = await loadRunModel(runDir, checkpoint, options.signal, { dataDir });
  try {
    const dataset = options.data ? await loadDataset(config.data, { dataDir, baseDir: path.dirname(recorded.sourceFile), seed: config.seed, signal: options.signal }) : undefined;
    return { runDir, checkpoint, backend, model, config, epoch: position.epoch, ...(dataset ? { dataset } : {}), dispose: () => disposeAutoencoder(model) };
  } catch (error) {
    disposeAutoencoder(model);
    throw error;
  }
}
