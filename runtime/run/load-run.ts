/** A run's model back from its folder: weights from a checkpoint onto a freshly built model. */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { datasetClassCount, datasetShape, loadDataset } from '../data/index';
import type { DataConfig, ModelConfig } from '../format/schema';
import { loadExperiment } from '../format/validate';
import type { Autoencoder } from '../model/build';
import { allWeights, disposeAutoencoder } from '../model/build';
import type { CheckpointName } from '../run-folder';
import { checkpointFile, epochCheckpointName, readRunConfig, runFile } from '../run-folder';
import type { Checkpoint, TrainingPosition } from '../train/checkpoint';
import { loadCheckpoint } from '../train/checkpoint';
import { epochWeightsFile, epochsWithWeights } from '../train/epoch-weights';
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

/** A `--checkpoint` that names no checkpoint of the run; the message says which exist. */
export class CheckpointChoiceError extends Error {
  override name = 'CheckpointChoiceError';
}

/** 1-3, 5, 7-9: runs of consecutive epochs joined. */
function describeEpochs(epochs: number[]): string {
  const parts: string[] = [];
  for (let start = 0; start < epochs.length; ) {
    let end = start;
    while (end + 1 < epochs.length && epochs[end + 1] === epochs[end] + 1) end++;
    parts.push(end === start ? `${epochs[start]}` : `${epochs[start]}-${epochs[end]}`);
    start = end + 1;
  }
  return parts.join(', ');
}

/**
 * The file `--checkpoint last|best|epoch-N` names in a run folder. An epoch's checkpoint exists
 * where `checkpoint_every` kept it; otherwise the message lists the epochs that have one.
 */
export function resolveCheckpoint(runDir: string, choice: string): string {
  const epoch = /^epoch-(\d+)$/.exec(choice);
  if (choice !== 'last' && choice !== 'best' && !epoch) throw new CheckpointChoiceError(`--checkpoint ${JSON.stringify(choice.slice(0, 60))}: expected last, best or epoch-N`);
  const name: CheckpointName = epoch ? epochCheckpointName(Number(epoch[1])) : (choice as CheckpointName);
  const file = checkpointFile(runDir, name);
  if (existsSync(file)) return file;
  // Past epochs keep their weights without optimizer state (train/epoch-weights.ts).
  if (epoch && existsSync(epochWeightsFile(runDir, Number(epoch[1])))) return epochWeightsFile(runDir, Number(epoch[1]));
  let kept: string[] = [];
  try {
    kept = readdirSync(path.dirname(file)).filter((entry) => /^(last|best|epoch-\d+)\.ckpt$/.test(entry)).map((entry) => entry.replace(/\.ckpt$/, '').replace(/^epoch-0*(\d)/, 'epoch-$1')).sort();
  } catch {
    // No checkpoints folder: the list stays empty.
  }
  const weights = epochsWithWeights(runDir);
  const weightsText = weights.length > 0 ? `; weights of epochs ${describeEpochs(weights)}` : '';
  throw new CheckpointChoiceError(`${runDir}: no ${choice} checkpoint; ${kept.length > 0 ? `it keeps ${kept.join(', ')}` : 'it keeps none'}${weightsText}`);
}

/**
 * Rebuilds a run's model from its folder (snapshot, resolved config, checkpoint): what
 * analysis of a finished run and exports start from. The caller disposes the model. `signal`
 * (Ctrl-C) stops the data loading a folder dataset needs for its shape.
 */
export async function loadRunModel(runDir: string, checkpoint = 'last', signal?: AbortSignal, options: { dataDir?: string } = {}): Promise<{ model: Autoencoder; config: { seed: number; data: DataConfig; model: ModelConfig; dataDir: string }; position: TrainingPosition }> {
  const file = resolveCheckpoint(runDir, checkpoint);
  const recorded = readRunConfig(runDir);
  // The data folder in config.json is the training machine's: another machine names its own.
  const resolved = { ...recorded, dataDir: options.dataDir ?? recorded.dataDir };
  const experiment = loadExperiment(readFileSync(runFile(runDir, 'experiment'), 'utf8'), resolved.sourceFile);
  let classes = datasetClassCount(resolved.data);
  let shape = datasetShape(resolved.data);
  if (shape === undefined || (resolved.model.kind === 'cvae' && classes === undefined)) {
    const dataset = await loadDataset(resolved.data, { dataDir: resolved.dataDir, baseDir: path.dirname(resolved.sourceFile), seed: resolved.seed, signal });
    classes = dataset.classes.length;
    shape = dataset.shape;
  }
  const model = buildModelFor(experiment, resolved.data, resolved.model, resolved.seed, shape, classes);
  let position: TrainingPosition;
  try {
    const checkpointData = loadCheckpoint(file);
    setWeights(model, checkpointData.weights);
    position = checkpointData.position;
  } catch (error) {
    disposeAutoencoder(model);
    throw error;
  }
  return { model, config: { seed: resolved.seed, data: resolved.data, model: resolved.model, dataDir: resolved.dataDir }, position };
}
