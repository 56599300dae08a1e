/**
 * The epoch and batch loop: shuffles, steps, logs, validates, checkpoints and draws the epoch's
 * grids, and stops at a cancel (with a checkpoint), a non-finite loss or early stopping.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Evaluation } from '../analysis/evaluate';
import { evaluateSplit } from '../analysis/evaluate';
import { writeHistoryPng } from '../analysis/history';
import { reconstructionViews, sampleImages } from '../analysis/images';
import type { Dataset } from '../data/dataset';
import type { DataConfig, ModelConfig, TrainConfig } from '../format/schema';
import type { Autoencoder } from '../model/build';
import { parameterCount } from '../model/build';
import { regularizerSchedule } from '../model/losses';
import type { EngineEvent, LossUnits, MetricsRecord, RunStatus, RunSummary, TrainMeans } from '../protocol';
import type { CheckpointName, MetricsLog } from '../run-folder';
import { checkpointFile, epochCheckpointName, imageFile, sampleRows } from '../run-folder';
import { mixSeed, permutation } from '../util/random';
import { quantizePixels, writeViewEpoch, writeViewInputs } from '../views-data';
import { batchInputs, range } from './batches';
import type { TrainingPosition } from './checkpoint';
import { verifyCheckpoint } from './checkpoint';
import { epochWeightsStride, keepsEpochWeights, saveEpochWeights } from './epoch-weights';
import { gridPng, rowsPng, writePng } from './images';
import type { Optimizer } from './optimizers';
import { learningRate } from './optimizers';
import { batchNeeds, trainingStep } from './step';

export interface LoopContext {
  runDir: string;
  model: Autoencoder;
  variables: tf.Variable[];
  optimizer: Optimizer;
  dataset: Dataset;
  data: DataConfig;
  modelConfig: ModelConfig;
  train: TrainConfig;
  seed: number;
  units: LossUnits;
  /** Where training stands; advanced in place, so a checkpoint written at any time is current. */
  position: TrainingPosition;
  metrics: MetricsLog;
  /** Writes a checkpoint of the model, the optimizer and `position` under this name. */
  checkpoint: (name: CheckpointName) => Promise<void>;
  emit: (event: EngineEvent) => void;
  signal?: AbortSignal;
}

export interface LoopOutcome {
  status: RunStatus;
  message?: string;
  stoppedBy?: RunSummary['stoppedBy'];
  stoppedAt?: RunSummary['stoppedAt'];
  /** The last epoch's test metrics, when it validated. */
  lastTest?: Evaluation;
  lastTrain?: TrainMeans;
  /** Examples per second over the batches this process ran. */
  samplesPerSecond: number;
}

function timestamp(): string {
  return new Date().toISOString();
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The abort reason of a run whose folder's lock was taken by another process: it stops without writing there. */
export const LOCK_LOST = 'lock-lost';

/** Test examples in each epoch's reconstruction grid (and so in the history grid's rows). */
const EPOCH_GRID_EXAMPLES = 16;

/**
 * A test hook, read only here: `AEXP_TEST_KILL_AT=epoch-end:<e>` kills this process with SIGKILL
 * right after epoch e's record is appended (before its checkpoint), `epoch-images:<e>` right after
 * epoch e's images and views are written (before its checkpoint), `step:<n>` right after step
 * n's train record. The tests of resuming after a kill use it to hit those moments exactly.
 */
function testKillPoint(): { at: 'epoch-end' | 'epoch-images' | 'step'; value: number } | undefined {
  const match = /^(epoch-end|epoch-images|step):(\d+)$/.exec(process.env.AEXP_TEST_KILL_AT ?? '');
  return match ? { at: match[1] as 'epoch-end' | 'epoch-images' | 'step', value: Number(match[2]) } : undefined;
}

function killHere(): never {
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable: killed');
}

/** Trains from `position` to the train cell's last epoch, or until something stops it. */
export async function trainEpochs(context: LoopContext): Promise<LoopOutcome> {
  const { runDir, model, variables, optimizer, dataset, data, modelConfig, train, seed, units, position, metrics, emit, signal } = context;
  const count = dataset.train.count;
  const stepsPerEpoch = Math.ceil(count / data.batch);
  const totalSteps = train.epochs * stepsPerEpoch;
  const sampleNoiseSeed = mixSeed(seed, 404);
  const needs = batchNeeds(model);
  const outcome: LoopOutcome = { status: 'completed', samplesPerSecond: 0 };
  const killAt = testKillPoint();
  let sessionSteps = 0;
  let viewInputsWritten = false;
  const weightsStride = epochWeightsStride(parameterCount(model) * 4, train.epochs);
  let sessionExamples = 0;
  const sessionStart = Date.now();

  training: for (let epoch = position.epoch; epoch < train.epochs; epoch++) {
    const order = data.shuffle ? permutation(count, mixSeed(seed, 1, epoch)) : range(0, count);
    for (let batch = position.batch; batch < stepsPerEpoch; batch++) {
      await yieldToEventLoop();
      if (signal?.aborted && signal.reason === LOCK_LOST) {
        outcome.status = 'stopped';
        outcome.stoppedBy = 'cancelled';
        outcome.stoppedAt = { epoch: epoch + 1, batch };
        outcome.message = `stopped at epoch ${epoch + 1}, batch ${batch}: another process took this run folder's lock, so nothing more is written here`;
        break training;
      }
      if (signal?.aborted) {
        position.epoch = epoch;
        position.batch = batch;
        await context.checkpoint('last');
        const reason = signal.reason === 'shutdown' ? 'shutdown' : 'cancelled';
        metrics.append({ kind: 'stop', epoch, step: position.globalStep, time: timestamp(), batch, reason });
        outcome.status = 'stopped';
        outcome.stoppedBy = reason;
        outcome.stoppedAt = { epoch: epoch + 1, batch };
        outcome.message = `stopped at epoch ${epoch + 1}, batch ${batch}${reason === 'shutdown' ? ' because the runtime was shutting down' : ''}`;
        break training;
      }
      const indices = order.subarray(batch * data.batch, Math.min(count, (batch + 1) * data.batch));
      const inputs = batchInputs(dataset.train, indices, dataset.shape, data.binarize, mixSeed(seed, 2, position.globalStep), needs);
      model.noise.seed = mixSeed(seed, 4, position.globalStep);
      const lr = learningRate(train, position.globalStep, stepsPerEpoch, totalSteps);
      let step;
      try {
        step = await trainingStep(model, variables, optimizer, inputs, { seed: mixSeed(seed, 3, position.globalStep), schedule: regularizerSchedule(modelConfig, position.globalStep, stepsPerEpoch), train, lr });
      } finally {
        tf.dispose([inputs.x, inputs.labels, inputs.mask].filter((tensor) => tensor !== undefined));
      }
      const { loss, reconstruction, kl } = step;
      if (!step.applied) {
        outcome.status = 'diverged';
        outcome.message = `the loss became ${loss} at epoch ${epoch + 1}, step ${position.globalStep + 1}; training stopped before that update${keptCheckpoint(runDir)}. Lower lr or set clip_norm.`;
        metrics.append({ kind: 'stop', epoch, step: position.globalStep, time: timestamp(), reason: 'diverged', loss: String(loss) });
        break training;
      }

      const examples = indices.length;
      position.partial.loss += loss * examples;
      position.partial.reconstruction += reconstruction * examples;
      position.partial.kl += kl * examples;
      position.partial.examples += examples;
      position.globalStep++;
      position.batch = batch + 1;
      sessionSteps++;
      sessionExamples += examples;
      const elapsed = (Date.now() - sessionStart) / 1000;
      const remaining = totalSteps - position.globalStep;
      emit({ type: 'progress', epoch: epoch + 1, epochs: train.epochs, step: batch + 1, stepsPerEpoch, loss, etaSeconds: (elapsed / sessionSteps) * remaining, samplesPerSecond: sessionExamples / Math.max(elapsed, 1e-9) });
      if (position.globalStep % train.log_every === 0) {
        const logged: MetricsRecord & { kind: 'train' } = { kind: 'train', epoch: epoch + 1, step: position.globalStep, time: timestamp(), loss, reconstruction, ...(model.variational ? { kl } : {}), lr };
        metrics.append(logged);
        // The notebook's chart draws each logged step as it happens.
        emit({ type: 'metrics', record: logged });
        if (killAt?.at === 'step' && killAt.value === position.globalStep) killHere();
      }
    }

    const trainMeans: TrainMeans = { loss: position.partial.loss / position.partial.examples, reconstruction: position.partial.reconstruction / position.partial.examples };
    if (model.variational) trainMeans.kl = position.partial.kl / position.partial.examples;
    outcome.lastTrain = trainMeans;
    position.epoch = epoch + 1;
    position.batch = 0;
    position.partial = { loss: 0, reconstruction: 0, kl: 0, examples: 0 };
    const record: MetricsRecord & { kind: 'epoch' } = { kind: 'epoch', epoch: epoch + 1, step: position.globalStep, time: timestamp(), units, train: trainMeans, samplesPerSecond: sessionExamples / ((Date.now() - sessionStart) / 1000), tensors: tf.memory().numTensors };
    let improved = false;
    if (train.validate) {
      outcome.lastTest = await evaluateSplit(model, dataset, data, seed);
      record.test = outcome.lastTest;
      const minDelta = train.early_stopping?.min_delta ?? 0;
      improved = position.bestLoss === null || outcome.lastTest.loss < position.bestLoss - minDelta;
      if (improved) {
        position.bestLoss = outcome.lastTest.loss;
        position.bestEpoch = epoch + 1;
        position.epochsWithoutImprovement = 0;
      } else position.epochsWithoutImprovement++;
    }
    metrics.append(record);
    if (killAt?.at === 'epoch-end' && killAt.value === epoch + 1) killHere();
    emit({ type: 'metrics', record });
    // Each epoch's grid stays in the folder; the cell shows the history of its first examples instead.
    // Written before the checkpoint, so no epoch lacks them: a process killed in between trains it again, and replaces them.
    const views = await reconstructionViews(model, dataset, data, EPOCH_GRID_EXAMPLES, seed);
    writePng(imageFile(runDir, 'reconstructions', epoch + 1), rowsPng(views.rows));
    const history = writeHistoryPng(runDir, model.kind, epoch + 1, Math.min(EPOCH_GRID_EXAMPLES, dataset.test.count));
    let samples: { pixels: Float32Array; columns: number; path: string } | undefined;
    if (model.variational) {
      // The same draws every epoch (not the sample cell's), so the grids compare across epochs.
      const sampleFile = imageFile(runDir, 'samples', epoch + 1);
      const { images, columns } = await sampleImages(model, model.classes > 0 ? 8 * model.classes : 32, 1, sampleNoiseSeed);
      writePng(sampleFile, gridPng(images, columns));
      samples = { pixels: images.pixels, columns, path: sampleFile };
    }
    // The inputs, corruptions and masks are drawn from the seed alone: the same every epoch, so written once per process.
    if (!viewInputsWritten) {
      writeViewInputs(runDir, {
        modelKind: model.kind,
        units,
        examples: Array.from({ length: views.rows[0].count }, (_, index) => index),
        shape: dataset.shape,
        inputs: quantizePixels(views.rows[0].pixels),
        ...(views.rows.length > 2 ? { corrupted: quantizePixels(views.rows[1].pixels) } : {}),
        ...(views.mask ? { mask: Uint8Array.from(views.mask) } : {}),
      });
      viewInputsWritten = true;
    }
    writeViewEpoch(runDir, dataset.shape, {
      epoch: epoch + 1,
      reconstructions: quantizePixels(views.rows[views.rows.length - 1].pixels),
      ...views.losses,
      ...(samples ? { samples: quantizePixels(samples.pixels), sampleColumns: samples.columns } : {}),
    });
    // Announced once the epoch's views file is written: the notebook's image view reads it on this event.
    if (history) emit({ type: 'image', cell: 'train', kind: 'history', epoch: epoch + 1, path: history.path, rows: history.rows });
    if (samples) emit({ type: 'image', cell: 'train', kind: 'samples', epoch: epoch + 1, path: samples.path, rows: [`${sampleRows(model.classes > 0)[0]}, the same draws every epoch`] });
    if (killAt?.at === 'epoch-images' && killAt.value === epoch + 1) killHere();
    await context.checkpoint('last');
    if (improved) await context.checkpoint('best');
    if (train.checkpoint_every > 0 && (epoch + 1) % train.checkpoint_every === 0) await context.checkpoint(epochCheckpointName(epoch + 1));
    if (keepsEpochWeights(epoch + 1, weightsStride, train.epochs)) await saveEpochWeights(runDir, model, { ...position, partial: { ...position.partial } });

    if (train.early_stopping && position.epochsWithoutImprovement >= train.early_stopping.patience) {
      outcome.status = 'early-stopped';
      outcome.message = `early stopping after epoch ${epoch + 1}: no improvement of the test loss for ${train.early_stopping.patience} epoch(s); best ${position.bestLoss?.toFixed(3)} at epoch ${position.bestEpoch}`;
      break;
    }
  }
  outcome.samplesPerSecond = sessionExamples / Math.max((Date.now() - sessionStart) / 1000, 1e-9);
  return outcome;
}

/** What a diverged run keeps: `last.ckpt` is named only when it verifies. */
function keptCheckpoint(runDir: string): string {
  const last = checkpointFile(runDir, 'last');
  const verdict = verifyCheckpoint(last);
  if (verdict.ok) return `, and the last good checkpoint was kept (${last})`;
  if (/no checkpoint there$/.test(verdict.reason)) return '; there is no checkpoint yet (it diverged in the first epoch)';
  return `; there is no good checkpoint (${verdict.reason})`;
}
