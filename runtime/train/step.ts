/**
 * One training step: forward, loss terms, gradients, clipping, optimizer update. The engine, the
 * benchmarks and the backend check all run this one, so what is measured and checked is what trains.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TrainConfig } from '../format/schema';
import type { Autoencoder } from '../model/build';
import type { ForwardInputs, ForwardOptions, Schedule } from '../model/losses';
import { lossTerms } from '../model/losses';
import type { BatchNeeds } from './batches';
import type { Optimizer } from './optimizers';
import { clipGradients } from './optimizers';

/** What each batch needs beside the images, for this model. */
export function batchNeeds(model: Autoencoder): BatchNeeds {
  return { classes: model.classes, mask: model.kind === 'masked-ae' ? { patch: model.config.patch, ratio: model.config.mask_ratio } : undefined };
}

export interface StepOptions {
  /** Seeds the reparameterization noise and the denoising corruption. */
  seed?: number;
  /** Explicit reparameterization noise (the backend check draws its own). */
  noise?: tf.Tensor2D;
  schedule?: Schedule;
}

/** The loss, its two terms and the gradient of the loss for each variable; the caller disposes them (disposeGradients). */
export interface Gradients {
  loss: tf.Scalar;
  reconstruction: tf.Scalar;
  kl: tf.Scalar;
  /** In the variables' order. */
  gradients: tf.Tensor[];
}

/** Forward and backward of one batch, with the model in training mode. */
export function lossAndGradients(model: Autoencoder, variables: tf.Variable[], inputs: ForwardInputs, options: StepOptions = {}): Gradients {
  let terms: { reconstruction?: tf.Scalar; kl?: tf.Scalar } = {};
  const forwardOptions: ForwardOptions & { schedule?: Schedule } = { training: true, seed: options.seed, noise: options.noise, schedule: options.schedule };
  const { value, grads } = tf.variableGrads(() => {
    const result = lossTerms(model, inputs, forwardOptions);
    terms = { reconstruction: tf.keep(result.reconstruction), kl: tf.keep(result.kl) };
    return result.loss;
  }, variables);
  return { loss: value, reconstruction: terms.reconstruction!, kl: terms.kl!, gradients: variables.map((variable) => grads[variable.name]) };
}

export function disposeGradients(result: Gradients): void {
  tf.dispose([result.loss, result.reconstruction, result.kl, ...result.gradients]);
}

/** Clips the gradients as the train cell says and applies one optimizer update with learning rate `lr`. */
export function applyGradients(optimizer: Optimizer, gradients: tf.Tensor[], train: Pick<TrainConfig, 'clip_norm' | 'clip_value'>, lr: number): void {
  tf.tidy(() => {
    const { gradients: clipped } = clipGradients(gradients, train);
    optimizer.apply(clipped, lr);
  });
}

export interface StepResult {
  loss: number;
  reconstruction: number;
  kl: number;
  /** false when the loss was not finite: the update was skipped, the weights are as before. */
  applied: boolean;
}

/**
 * One step on one batch. A non-finite loss skips the update, so the weights stay the last good
 * ones. The batch's tensors stay the caller's; nothing else outlives the call.
 */
export async function trainingStep(model: Autoencoder, variables: tf.Variable[], optimizer: Optimizer, inputs: ForwardInputs, options: StepOptions & { train: Pick<TrainConfig, 'clip_norm' | 'clip_value'>; lr: number }): Promise<StepResult> {
  const result = lossAndGradients(model, variables, inputs, options);
  try {
    const stacked = tf.stack([result.loss, result.reconstruction, result.kl]);
    const [loss, reconstruction, kl] = await stacked.data();
    stacked.dispose();
    if (!Number.isFinite(loss)) return { loss, reconstruction, kl, applied: false };
    applyGradients(optimizer, result.gradients, options.train, options.lr);
    return { loss, reconstruction, kl, applied: true };
  } finally {
    disposeGradients(result);
  }
}
