/** A run's model back from its folder: weights from a checkpoint onto a freshly built model. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { datasetClassCount, datasetShape, loadDataset } from '../data/index';
import type { DataConfig, ModelConfig } from '../format/schema';
import { loadExperiment } from '../format/validate';
import type { Autoencoder } from '../model/build';
import { allWeights } from '../model/build';
import { checkpointFile, readRunConfig, runFile } from '../run-folder';
import type { Checkpoint } from '../train/checkpoint';
import { loadCheckpoint } from '../train/checkpoint';
import { buildModelFor } from './check';

export function setWeights(model: Autoencoder, weights: Checkpoint['weights']): void {
  const targets = allWeights(model);
  if (targets.length !== weights.length) throw new Error(`the checkpoint holds ${weights.length} weight arrays, the model has ${targets.length}`);
  // Every shape is checked before any weight is written: a refused checkpoint leaves the model as it was.
  targets.forEach((target, index) => {
    if (target.shape.join() !== weights[index].shape.join()) throw new Error(`checkpoint weight ${index} has shape [${weights[index].shape}], the model expects [${target.shape}]`);
  });
  targets.forEach((target, index) => {
    tf.tidy(() => {
      target.write(tf.tensor(weights[index].values, weights[index].shape));
    });
  });
}

/**
 * Rebuilds a run's model from its folder (snapshot, resolved config, checkpoint): what
 * analysis of a finished run and exports start from. The caller disposes the model. `signal`
 * (Ctrl-C) stops the data loading a folder dataset needs for its shape.
 */
export async function loadRunModel(runDir: string, checkpoint: 'last' | 'best' = 'last', signal?: AbortSignal): Promise<{ model: Autoencoder; config: { seed: number; data: DataConfig; model: ModelConfig; dataDir: string } }> {
  const resolved = readRunConfig(runDir);
  const experiment = loadExperiment(readFileSync(runFile(runDir, 'experiment'), 'utf8'), resolved.sourceFile);
  let classes = datasetClassCount(resolved.data);
  let shape = datasetShape(resolved.data);
  if (shape === undefined || (resolved.model.kind === 'cvae' && classes === undefined)) {
    const dataset = await loadDataset(resolved.data, { dataDir: resolved.dataDir, baseDir: path.dirname(resolved.sourceFile), seed: resolved.seed, signal });
    classes = dataset.classes.length;
    shape = dataset.shape;
  }
  const model = buildModelFor(experiment, resolved.data, resolved.model, resolved.seed, shape, classes);
  setWeights(model, loadCheckpoint(checkpointFile(runDir, checkpoint)).weights);
  return { model, config: { seed: resolved.seed, data: resolved.data, model: resolved.model, dataDir: resolved.dataDir } };
}
