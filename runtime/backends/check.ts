/**
 * Trust, then verify: a backend other than `cpu` is used only after one training step of the
 * experiment's own model (its layers, its shapes, a few examples) gives the same loss and gradients
 * as the pure-JS `cpu` reference. A silent kernel bug (TF.js 4.22's WebGPU split-K matmul) shows
 * up only at the shapes a model really has, so a toy model would not do. The verdict is cached per
 * backend, device, library version and model.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendInfo } from './select';
import { Random } from '../util/random';
import type { Autoencoder, Shape } from '../model/build';
import { disposeAutoencoder, trainableVariables } from '../model/build';
import { patchMask } from '../train/batches';
import { disposeGradients, lossAndGradients } from '../train/step';
import { writeFileAtomic } from '../util/atomic-file';

export const CHECK_TOLERANCE = 1e-3;
const CHECK_BATCH = 2;

export interface Verdict {
  ok: boolean;
  /** The largest relative error (loss or a gradient, L2 norm). */
  error: number;
  /** Which quantity had it. */
  where: string;
  checkedAt: string;
  cached?: boolean;
}

export function cacheDirectory(): string {
  return process.env.AEXP_CACHE_DIR ? path.resolve(process.env.AEXP_CACHE_DIR) : path.join(os.homedir(), '.cache', 'latent-lab');
}

export interface CheckSubject {
  /** Builds the experiment's model on the current backend (same seed every time). */
  build: () => Autoencoder;
  inputShape: Shape;
  /** What makes this model's kernels and shapes: the model cell and the input. */
  signature: unknown;
  /** Ctrl-C or SIGTERM: the check stops between its steps (see stopIfAborted). */
  signal?: AbortSignal;
}

/**
 * Yields to the event loop, so that a signal that arrived during a long synchronous step reaches
 * its handler, then throws an `AbortError` (`interrupted while <doing>`) if the run was aborted.
 */
export async function stopIfAborted(signal: AbortSignal | undefined, doing: string): Promise<void> {
  if (!signal) return;
  await new Promise((resolve) => setImmediate(resolve));
  if (signal.aborted) throw new DOMException(`interrupted while ${doing}`, 'AbortError');
}

function gaussian(random: Random): number {
  return Math.sqrt(-2 * Math.log(1 - random.next())) * Math.cos(2 * Math.PI * random.next());
}

/** One training step's loss and gradients on the current backend, as float arrays. */
async function step(subject: CheckSubject, doing: string): Promise<{ names: string[]; values: Float32Array[] }> {
  const model = subject.build();
  try {
    // Building a large model takes a while: a signal that came meanwhile stops before the step.
    await stopIfAborted(subject.signal, doing);
    const [height, width, channels] = subject.inputShape;
    const random = new Random(20240607);
    const x = tf.tensor4d(Float32Array.from({ length: CHECK_BATCH * height * width * channels }, () => random.next()), [CHECK_BATCH, height, width, channels]);
    const noise = tf.tensor2d(Float32Array.from({ length: CHECK_BATCH * model.latent }, () => gaussian(random)), [CHECK_BATCH, model.latent]);
    const labels = model.classes > 0 ? tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(Array.from({ length: CHECK_BATCH }, (_, index) => index % model.classes), 'int32'), model.classes), 'float32') as tf.Tensor2D) : undefined;
    const mask = model.kind === 'masked-ae' ? tf.tensor4d(patchMask(CHECK_BATCH, height, width, model.config.patch, model.config.mask_ratio, 5), [CHECK_BATCH, height, width, 1]) : undefined;
    model.noise.seed = 99;
    const variables = trainableVariables(model);
    const gradients = lossAndGradients(model, variables, { x, labels, mask }, { noise, seed: 7 });
    const values: Float32Array[] = [];
    for (const tensor of [gradients.loss, ...gradients.gradients]) values.push((await tensor.data()) as Float32Array);
    const result = { names: ['loss', ...variables.map((variable) => variable.name.replace(/_\d+(?=\/|$)/g, ''))], values };
    disposeGradients(gradients);
    tf.dispose([x, noise, labels, mask].filter((tensor) => tensor !== undefined));
    return result;
  } finally {
    disposeAutoencoder(model);
  }
}

function squaredNorm(values: Float32Array): number {
  let sum = 0;
  for (const value of values) sum += value * value;
  return sum;
}

/**
 * ‖ours − reference‖ / max(‖reference‖, floor). The floor (a small fraction of the whole gradient's
 * norm) keeps gradients that are zero in exact arithmetic, e.g. a conv bias before batch norm, from
 * turning rounding noise into a huge relative error.
 */
function relativeError(ours: Float32Array, reference: Float32Array, floor: number): number {
  let difference = 0;
  for (let index = 0; index < reference.length; index++) difference += (ours[index] - reference[index]) ** 2;
  return Math.sqrt(difference) / Math.max(Math.sqrt(squaredNorm(reference)), floor, 1e-12);
}

function cacheKey(info: BackendInfo, subject: CheckSubject): string {
  return createHash('sha256').update(JSON.stringify([info.backend, info.device, tf.version_core, CHECK_TOLERANCE, subject.inputShape, subject.signature])).digest('hex').slice(0, 24);
}

function readCache(file: string): Record<string, Verdict> {
  try {
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, Verdict>) : {};
  } catch {
    return {};
  }
}

/** Compares the current backend with `cpu` on one step of the subject model; switches back after. */
export async function verifyBackend(info: BackendInfo, subject: CheckSubject, cacheFile = path.join(cacheDirectory(), 'backend-checks.json')): Promise<Verdict> {
  if (info.backend === 'cpu') return { ok: true, error: 0, where: 'cpu is the reference', checkedAt: new Date().toISOString() };
  const key = cacheKey(info, subject);
  const cached = readCache(cacheFile)[key];
  if (cached) return { ...cached, cached: true };

  const doing = `checking the ${info.backend} backend against cpu`;
  await stopIfAborted(subject.signal, doing);
  const ours = await step(subject, doing);
  await stopIfAborted(subject.signal, doing);
  await tf.setBackend('cpu');
  let reference: Awaited<ReturnType<typeof step>>;
  try {
    reference = await step(subject, doing);
  } finally {
    await tf.setBackend(info.backend);
  }
  await stopIfAborted(subject.signal, doing);
  let error = 0;
  let where = 'loss';
  const floor = 1e-2 * Math.sqrt(reference.values.slice(1).reduce((sum, values) => sum + squaredNorm(values), 0) / Math.max(1, reference.values.length - 1));
  ours.values.forEach((values, index) => {
    const relative = relativeError(values, reference.values[index], index === 0 ? 0 : floor);
    if (!(relative <= error)) {
      error = Number.isNaN(relative) ? Infinity : relative;
      where = ours.names[index];
    }
  });
  const verdict: Verdict = { ok: error <= CHECK_TOLERANCE, error, where, checkedAt: new Date().toISOString() };
  const all = readCache(cacheFile);
  all[key] = verdict;
  mkdirSync(path.dirname(cacheFile), { recursive: true });
  writeFileAtomic(cacheFile, [Buffer.from(`${JSON.stringify(all, null, 2)}\n`)]);
  return verdict;
}
