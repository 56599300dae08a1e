/**
 * The engine: runs an experiment's cells (data → model → train → evaluate / reconstruct / sample)
 * and writes the run folder. Both front ends (the CLI and the IPC server) call runExperiment.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendInfo, BackendName, ConcreteBackend } from './backends/select';
import { BackendError, selectBackend } from './backends/select';
import type { CheckSubject } from './backends/check';
import { CHECK_TOLERANCE, verifyBackend } from './backends/check';
import type { Dataset } from './data/dataset';
import { exampleSize, mixSeed, permutation } from './data/dataset';
import { datasetClassCount, datasetShape, loadDataset, resolveDataDir } from './data/index';
import type { Diagnostic } from './format/document';
import type { CellConfigs, DataConfig, EvaluateConfig, ModelConfig, TrainConfig } from './format/schema';
import type { Experiment } from './format/validate';
import { applyOverrides } from './format/overrides';
import { cellConfig, diagnosticAtKey, formatDiagnostic, loadExperiment } from './format/validate';
import type { Autoencoder } from './model/build';
import { ModelError, allWeights, buildAutoencoder, disposeAutoencoder, formatSummary, parameterCount, trainableVariables } from './model/build';
import type { ForwardInputs } from './model/losses';
import { decode, finalSchedule, forward, gaussianKlPerExample, l1PerExample, lossTerms, objective, reconstructionPerExample, regularizerSchedule, toPixels } from './model/losses';
import type { CellName, EngineEvent, MetricsRecord, RunOutputs, RunResult, RunSummary } from './protocol';
import type { BatchNeeds } from './train/batches';
import { batchInputs, range } from './train/batches';
import type { Checkpoint, TrainingPosition } from './train/checkpoint';
import { loadCheckpoint, saveCheckpoint, writeFileAtomic } from './train/checkpoint';
import type { ImageBatch } from './train/images';
import { gridPng, rowsPng, writePng } from './train/images';
import { Optimizer, clipGradients, learningRate } from './train/optimizers';

export class ExperimentError extends Error {
  override name = 'ExperimentError';
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.filter((diagnostic) => diagnostic.severity === 'error').map(formatDiagnostic).join('\n'));
  }
}

export interface RunOptions {
  /** Path of the .aexp file; names the experiment and anchors relative paths. */
  file: string;
  /** The file's text, when the caller has it (an unsaved editor); read from disk otherwise. */
  text?: string;
  /** Parent of the run folder; default `<cwd>/.aexp/runs/<experiment>`. */
  outDir?: string;
  dataDir?: string;
  backend?: BackendName;
  epochs?: number;
  /** `cell.key=value` changes applied to the file's text before it runs (ignored on resume: the snapshot has them). */
  overrides?: string[];
  /** A run folder to continue from its last checkpoint. */
  resume?: string;
  cells?: CellName[];
  /**
   * Use the checkpoint of a finished run under `outDir` whose data, model and train configuration,
   * backend and data folder are this run's, instead of training again (the notebook's semantics).
   */
  reuse?: boolean;
  signal?: AbortSignal;
  onEvent?: (event: EngineEvent) => void;
}

interface ResolvedConfig {
  version: 1;
  sourceFile: string;
  title?: string;
  seed: number;
  data: DataConfig;
  model: ModelConfig;
  train: TrainConfig;
  backend: ConcreteBackend;
  dataDir: string;
  configHash: string;
}

const EVALUATION_BATCH = 500;
export const OUTPUTS_FILE = 'outputs.json';

export function experimentName(file: string): string {
  return path.basename(file).replace(/\.aexp$/i, '');
}

function configHash(config: Pick<ResolvedConfig, 'seed' | 'data' | 'model' | 'train'>): string {
  return createHash('sha256').update(JSON.stringify([config.seed, config.data, config.model, config.train])).digest('hex').slice(0, 16);
}

function timestamp(): string {
  return new Date().toISOString();
}

function newRunDir(parent: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '').replace('T', '-');
  mkdirSync(parent, { recursive: true });
  for (let attempt = 1; ; attempt++) {
    const candidate = path.join(parent, attempt === 1 ? stamp : `${stamp}-${attempt}`);
    try {
      mkdirSync(candidate);
      return candidate;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

/**
 * The newest finished run in `parent` trained with exactly this configuration, if any. Runs that
 * were stopped, diverged or are being continued (their config.json names more epochs) never match.
 */
export function findReusableRun(parent: string, resolved: Pick<ResolvedConfig, 'configHash' | 'backend' | 'dataDir'>): { runDir: string; summary: RunSummary } | undefined {
  if (!existsSync(parent)) return undefined;
  const names = readdirSync(parent, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort().reverse();
  for (const name of names) {
    const runDir = path.join(parent, name);
    try {
      const config = JSON.parse(readFileSync(path.join(runDir, 'config.json'), 'utf8')) as ResolvedConfig;
      if (config.configHash !== resolved.configHash || config.backend !== resolved.backend || config.dataDir !== resolved.dataDir) continue;
      const summary = JSON.parse(readFileSync(path.join(runDir, 'summary.json'), 'utf8')) as RunSummary;
      if ((summary.status === 'completed' || summary.status === 'early-stopped') && existsSync(path.join(runDir, 'checkpoints', 'last.ckpt'))) return { runDir, summary };
    } catch {
      // A run folder being written, or not one of ours: not reusable.
    }
  }
  return undefined;
}

/** Appends one JSON record per line and lets the OS have it at once, so a kill loses nothing written. */
class MetricsLog {
  private readonly descriptor: number;
  constructor(file: string) {
    this.descriptor = openSync(file, 'a');
  }
  append(record: MetricsRecord): void {
    appendFileSync(this.descriptor, `${JSON.stringify(record)}\n`);
  }
  close(): void {
    closeSync(this.descriptor);
  }
}

export function dataIsBinary(data: DataConfig): boolean {
  return data.binarize !== 'none' || data.dataset === 'sprites';
}

/** Units of the loss: nats where the objective is a true negative log-likelihood (MODELS.md). */
export function lossUnits(data: DataConfig, model: ModelConfig): 'nats' | 'loss' {
  // A weighted regularizer (sparsity, β ≠ 1, capacity) makes the objective a loss, not an NLL.
  if (model.kind === 'sparse-ae' || (model.kind === 'beta-vae' && (model.beta !== 1 || model.capacity))) return 'loss';
  if (model.likelihood === 'smooth-l1') return 'loss';
  return model.likelihood === 'gaussian' || model.likelihood === 'laplace' || dataIsBinary(data) ? 'nats' : 'loss';
}

export interface Evaluation {
  /** The objective with warm-up and annealing finished (−ELBO for a vae and cvae). */
  loss: number;
  reconstruction: number;
  kl: number;
  mse: number;
  psnr: number;
  /** variational kinds: −(reconstruction + KL), a lower bound on log p(x) where the units are nats. */
  elbo?: number;
  /** sparse-ae: mean (1/D)Σ|z| and the fraction of code values near zero relative to the code's scale. */
  l1?: number;
  sparsity?: number;
  /** denoising-ae: MSE of the corrupted input against the clean one (what the model improves on). */
  noisyMse?: number;
  /** masked-ae: MSE over the masked pixels only. */
  maskedMse?: number;
}

/** What each batch needs beside the images, for this model. */
export function batchNeeds(model: Autoencoder): BatchNeeds {
  return { classes: model.classes, mask: model.kind === 'masked-ae' ? { patch: model.config.patch, ratio: model.config.mask_ratio } : undefined };
}

/** The fraction of code values within 10% of the code's root-mean-square: sparsity that the scale of z cannot fake. */
export function nearZeroFraction(codes: Float32Array): number {
  let squares = 0;
  for (const value of codes) squares += value * value;
  const threshold = 0.1 * Math.sqrt(squares / Math.max(1, codes.length));
  let near = 0;
  for (const value of codes) if (Math.abs(value) <= threshold) near++;
  return near / Math.max(1, codes.length);
}

/** Test-split metrics, per example; codes, corruptions and masks are drawn with fixed seeds so epochs compare. */
export async function evaluateSplit(model: Autoencoder, dataset: Dataset, data: DataConfig, seed: number): Promise<Evaluation> {
  const split = dataset.test;
  const size = exampleSize(dataset);
  const needs = batchNeeds(model);
  let reconstruction = 0;
  let kl = 0;
  let l1 = 0;
  let squared = 0;
  let noisySquared = 0;
  let maskedSquared = 0;
  let maskedCount = 0;
  const codes = model.kind === 'sparse-ae' ? new Float32Array(split.count * model.latent) : undefined;
  for (let start = 0; start < split.count; start += EVALUATION_BATCH) {
    const indices = range(start, Math.min(split.count, start + EVALUATION_BATCH));
    const inputs = batchInputs(split, indices, dataset.shape, data.binarize, mixSeed(seed, 77, start), needs);
    const [stacked, code] = tf.tidy(() => {
      const { x, mask } = inputs;
      const { input, encoded, output } = forward(model, inputs, { training: false, seed: mixSeed(seed, 78, start) });
      const pixels = toPixels(model, output);
      const rec = tf.sum(reconstructionPerExample(model.config, x, output, model.kind === 'masked-ae' ? mask : undefined));
      const divergence = encoded.logVariance ? tf.sum(gaussianKlPerExample(encoded.mean, encoded.logVariance)) : tf.scalar(0);
      const absolute = model.kind === 'sparse-ae' ? tf.sum(l1PerExample(encoded.z)) : tf.scalar(0);
      const error = tf.sum(tf.squaredDifference(pixels, x));
      const noisy = model.kind === 'denoising-ae' ? tf.sum(tf.squaredDifference(input, x)) : tf.scalar(0);
      const masked = mask ? tf.sum(tf.mul(tf.squaredDifference(pixels, x), mask)) : tf.scalar(0);
      const maskedElements = mask ? tf.mul(tf.sum(mask), x.shape[3]!) : tf.scalar(0);
      return [tf.stack([rec, divergence, absolute, error, noisy, masked, maskedElements]), codes ? encoded.z : undefined] as const;
    });
    const values = await stacked.data();
    if (codes && code) codes.set(await code.data(), start * model.latent);
    tf.dispose([stacked, code].filter((tensor) => tensor !== undefined));
    tf.dispose([inputs.x, inputs.labels, inputs.mask].filter((tensor) => tensor !== undefined));
    reconstruction += values[0];
    kl += values[1];
    l1 += values[2];
    squared += values[3];
    noisySquared += values[4];
    maskedSquared += values[5];
    maskedCount += values[6];
  }
  const count = split.count;
  const mse = squared / (count * size);
  const lossTensor = tf.tidy(() => objective(model.config, tf.scalar(reconstruction / count), tf.scalar(kl / count), tf.scalar(l1 / count), finalSchedule(model.config)));
  const loss = (await lossTensor.data())[0];
  lossTensor.dispose();
  const evaluation: Evaluation = { loss, reconstruction: reconstruction / count, kl: kl / count, mse, psnr: 10 * Math.log10(1 / Math.max(mse, 1e-12)) };
  if (model.variational) evaluation.elbo = -(reconstruction + kl) / count;
  if (codes) {
    evaluation.l1 = l1 / count;
    evaluation.sparsity = nearZeroFraction(codes);
  }
  if (model.kind === 'denoising-ae') evaluation.noisyMse = noisySquared / (count * size);
  if (model.kind === 'masked-ae') evaluation.maskedMse = maskedSquared / Math.max(1, maskedCount);
  return evaluation;
}

/** Rows of test images for the reconstruction grid: input (corrupted or masked, where the kind has one) and output. */
async function reconstructionImages(model: Autoencoder, dataset: Dataset, data: DataConfig, count: number, seed: number): Promise<ImageBatch[]> {
  const n = Math.min(count, dataset.test.count);
  const [height, width, channels] = dataset.shape;
  const batch = (pixels: Float32Array): ImageBatch => ({ pixels, count: n, height, width, channels });
  const inputs = batchInputs(dataset.test, range(0, n), dataset.shape, data.binarize, mixSeed(seed, 91), batchNeeds(model));
  const tensors = tf.tidy(() => {
    const { input, output } = forward(model, inputs, { training: false, sample: false, seed: mixSeed(seed, 92) });
    const result: tf.Tensor[] = [tf.clone(inputs.x)];
    if (model.kind === 'denoising-ae') result.push(input);
    // Masked patches are shown mid-grey, whatever value the learned token has.
    if (model.kind === 'masked-ae') result.push(tf.add(tf.mul(inputs.x, tf.sub(1, inputs.mask!)), tf.mul(inputs.mask!, 0.5)));
    result.push(toPixels(model, output));
    return result;
  });
  tf.dispose([inputs.x, inputs.labels, inputs.mask].filter((tensor) => tensor !== undefined));
  return Promise.all(tensors.map(async (tensor) => {
    const pixels = (await tensor.data()) as Float32Array;
    tensor.dispose();
    return batch(pixels);
  }));
}

/** Decodes z ~ N(0, T²I). A cvae gets one row per class: `columns` samples of each label. */
export async function sampleImages(model: Autoencoder, count: number, temperature: number, seed: number, columns = 8): Promise<{ images: ImageBatch; columns: number }> {
  const [height, width, channels] = model.inputShape;
  const perClass = model.classes > 0 ? Math.max(1, Math.floor(count / model.classes)) : 0;
  const total = model.classes > 0 ? perClass * model.classes : count;
  const decoded = tf.tidy(() => {
    const z = tf.mul(tf.randomNormal([total, model.latent], 0, 1, 'float32', seed), temperature) as tf.Tensor2D;
    const labels = model.classes > 0 ? (tf.cast(tf.oneHot(tf.tensor1d(Array.from({ length: total }, (_, index) => Math.floor(index / perClass)), 'int32'), model.classes), 'float32') as tf.Tensor2D) : undefined;
    return toPixels(model, decode(model, z, { training: false, labels }));
  });
  const pixels = (await decoded.data()) as Float32Array;
  decoded.dispose();
  return { images: { pixels, count: total, height, width, channels }, columns: model.classes > 0 ? perClass : columns };
}

/** Builds the model for a validated experiment, turning shape problems into located diagnostics. */
export function buildModelFor(experiment: Experiment, data: DataConfig, model: ModelConfig, seed: number, shape?: [number, number, number], classes?: number): Autoencoder {
  const inputShape = shape ?? datasetShape(data);
  if (!inputShape) throw new ExperimentError([diagnosticAtKey(experiment, 'data', 'size', 'the data cell needs `size` so that the model\'s input shape is known')]);
  try {
    return buildAutoencoder(model, experiment.layers!, inputShape, seed, { classes: classes ?? datasetClassCount(data) });
  } catch (error) {
    if (error instanceof ModelError) throw new ExperimentError([diagnosticAtKey(experiment, 'model', error.key, error.message)]);
    throw error;
  }
}

/** Parses, validates and (with a backend ready) builds the model: what `aexp validate` reports. */
export function checkExperiment(text: string, file: string): { experiment: Experiment; summary?: string; diagnostics: Diagnostic[] } {
  const experiment = loadExperiment(text, file);
  const diagnostics = [...experiment.diagnostics];
  const data = cellConfig(experiment, 'data');
  const model = cellConfig(experiment, 'model');
  let summary: string | undefined;
  if (!diagnostics.some((d) => d.severity === 'error') && data && model && experiment.layers) {
    const shape = datasetShape(data);
    // A cvae on an image folder learns its class count only when the folder is read.
    if (shape && (model.kind !== 'cvae' || datasetClassCount(data) !== undefined)) {
      try {
        const built = buildModelFor(experiment, data, model, experiment.frontMatter.seed, shape);
        summary = formatSummary(built);
        disposeAutoencoder(built);
      } catch (error) {
        if (error instanceof ExperimentError) diagnostics.push(...error.diagnostics);
        else throw error;
      }
    }
  }
  return { experiment, summary, diagnostics };
}

function setWeights(model: Autoencoder, weights: Checkpoint['weights']): void {
  const targets = allWeights(model);
  if (targets.length !== weights.length) throw new Error(`the checkpoint holds ${weights.length} weight arrays, the model has ${targets.length}`);
  targets.forEach((target, index) => {
    if (target.shape.join() !== weights[index].shape.join()) throw new Error(`checkpoint weight ${index} has shape [${weights[index].shape}], the model expects [${target.shape}]`);
    tf.tidy(() => {
      target.write(tf.tensor(weights[index].values, weights[index].shape));
    });
  });
}

/**
 * Rebuilds a run's model from its folder (snapshot, resolved config, checkpoint): what
 * analysis of a finished run and exports start from. The caller disposes the model.
 */
export async function loadRunModel(runDir: string, checkpoint: 'last' | 'best' = 'last'): Promise<{ model: Autoencoder; config: { seed: number; data: DataConfig; model: ModelConfig; dataDir: string } }> {
  const resolved = JSON.parse(readFileSync(path.join(runDir, 'config.json'), 'utf8')) as ResolvedConfig;
  const experiment = loadExperiment(readFileSync(path.join(runDir, 'experiment.aexp'), 'utf8'), resolved.sourceFile);
  let classes = datasetClassCount(resolved.data);
  let shape = datasetShape(resolved.data);
  if (shape === undefined || (resolved.model.kind === 'cvae' && classes === undefined)) {
    const dataset = await loadDataset(resolved.data, { dataDir: resolved.dataDir, baseDir: path.dirname(resolved.sourceFile), seed: resolved.seed });
    classes = dataset.classes.length;
    shape = dataset.shape;
  }
  const model = buildModelFor(experiment, resolved.data, resolved.model, resolved.seed, shape, classes);
  setWeights(model, loadCheckpoint(path.join(runDir, 'checkpoints', `${checkpoint}.ckpt`)).weights);
  return { model, config: { seed: resolved.seed, data: resolved.data, model: resolved.model, dataDir: resolved.dataDir } };
}

/** Saves encoder and decoder as TF.js layers models (model.json + weights.bin) a browser can load. */
export async function exportModel(model: Autoencoder, directory: string): Promise<void> {
  for (const [name, network] of [['encoder', model.encoder], ['decoder', model.decoder]] as const) {
    const target = path.join(directory, name);
    mkdirSync(target, { recursive: true });
    await network.save(tf.io.withSaveHandler(async (artifacts) => {
      const data = artifacts.weightData;
      const buffers = data === undefined ? [] : Array.isArray(data) ? data : [data];
      writeFileAtomic(path.join(target, 'weights.bin'), buffers.map((buffer) => new Uint8Array(buffer)));
      const manifest = { modelTopology: artifacts.modelTopology, format: 'layers-model', generatedBy: `TensorFlow.js tfjs-layers (Latent Lab)`, convertedBy: null, weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }] };
      writeFileAtomic(path.join(target, 'model.json'), [Buffer.from(JSON.stringify(manifest))]);
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Selects the backend and builds the model on it. A backend other than cpu must first pass the
 * gradient check on this model; `auto` then moves on to the next candidate, an explicit choice is refused.
 */
async function chooseBackend(requested: BackendName, subject: Omit<CheckSubject, 'build'> & { build: () => Autoencoder }, emit: (event: EngineEvent) => void): Promise<{ backend: BackendInfo; model: Autoencoder }> {
  const refused: ConcreteBackend[] = [];
  for (;;) {
    const backend = await selectBackend(requested, { exclude: refused });
    for (const reason of backend.skipped) emit({ type: 'log', level: 'info', message: `auto: skipped ${reason}` });
    const verdict = await verifyBackend(backend, subject);
    if (verdict.ok) {
      if (backend.backend !== 'cpu') emit({ type: 'log', level: 'info', message: `gradient check against cpu: ${verdict.error.toExponential(1)} relative (largest, in ${verdict.where})${verdict.cached ? ', cached verdict' : ''}` });
      return { backend, model: subject.build() };
    }
    const message = `the ${backend.backend} backend (${backend.device}) failed the gradient check against cpu on this model: ${verdict.where} differs by ${verdict.error.toExponential(2)} relative (tolerance ${CHECK_TOLERANCE})`;
    if (requested !== 'auto') throw new BackendError(`${message}; it is refused. Choose another with --backend (wasm or cpu)`);
    emit({ type: 'log', level: 'warning', message: `${message}; trying the next backend` });
    refused.push(backend.backend);
  }
}

/**
 * Shows a reused run's training as it was: its per-epoch metrics, its last reconstruction and
 * sample grids, and where they came from.
 */
function replayTraining(runDir: string, summary: RunSummary, emit: (event: EngineEvent) => void): void {
  const records = readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').split('\n').filter((line) => line.trim()).flatMap((line) => {
    try {
      return [JSON.parse(line) as MetricsRecord];
    } catch {
      return [];
    }
  });
  for (const record of records) if (record.kind === 'epoch') emit({ type: 'metrics', record });
  const epochTag = `epoch-${String(summary.epochs).padStart(3, '0')}`;
  for (const kind of ['reconstructions', 'samples'] as const) {
    const file = path.join(runDir, 'images', `${epochTag}-${kind}.png`);
    if (existsSync(file)) emit({ type: 'image', cell: 'train', kind, epoch: summary.epochs, path: file });
  }
  emit({ type: 'cellOutput', cell: 'train', text: `reused the model trained in ${runDir}: the data, model and train cells have not changed since (Latent Lab: Train Again retrains from scratch)` });
}

export async function runExperiment(options: RunOptions): Promise<RunResult> {
  const started = Date.now();
  // What the cells showed, kept in the run folder (outputs.json) so an editor reopened later shows it again.
  const shown: EngineEvent[] = [];
  const emit = (event: EngineEvent) => {
    if (event.type === 'cellOutput' || event.type === 'image' || (event.type === 'metrics' && event.record.kind === 'epoch')) shown.push(event);
    options.onEvent?.(event);
  };
  let runDir: string | undefined;
  let resumed: Checkpoint | undefined;
  let previous: ResolvedConfig | undefined;
  let file = options.file;
  let text = options.text;

  if (options.resume) {
    runDir = path.resolve(options.resume);
    const configFile = path.join(runDir, 'config.json');
    if (!existsSync(configFile)) throw new Error(`${runDir} is not a run folder (no config.json)`);
    previous = JSON.parse(readFileSync(configFile, 'utf8')) as ResolvedConfig;
    file = previous.sourceFile;
    text = readFileSync(path.join(runDir, 'experiment.aexp'), 'utf8');
    resumed = loadCheckpoint(path.join(runDir, 'checkpoints', 'last.ckpt'));
  }
  text ??= readFileSync(file, 'utf8');
  if (!options.resume && options.overrides?.length) text = applyOverrides(text, file, options.overrides);

  const experiment = loadExperiment(text, file);
  const errors = experiment.diagnostics.filter((diagnostic) => diagnostic.severity === 'error');
  for (const warning of experiment.diagnostics.filter((diagnostic) => diagnostic.severity === 'warning')) emit({ type: 'log', level: 'warning', message: formatDiagnostic(warning) });
  if (errors.length > 0) throw new ExperimentError(experiment.diagnostics);
  const data = cellConfig(experiment, 'data');
  const modelConfig = cellConfig(experiment, 'model');
  const trainCell = cellConfig(experiment, 'train');
  if (!data || !modelConfig) throw new ExperimentError([diagnosticAtKey(experiment, 'data', 'dataset', 'an experiment needs a `data` cell and a `model` cell')]);
  const wanted = new Set<CellName>(options.cells ?? ['data', 'model', 'train', 'evaluate', 'reconstruct', 'sample']);
  const present = new Set(experiment.cells.map((cell) => cell.kind));
  const analysis = (['evaluate', 'reconstruct', 'sample'] as const).filter((kind) => wanted.has(kind) && present.has(kind));
  const needsTraining = trainCell !== undefined && (wanted.has('train') || analysis.length > 0);

  const seed = experiment.frontMatter.seed;
  const train: TrainConfig | undefined = trainCell ? { ...trainCell, epochs: options.epochs ?? previous?.train.epochs ?? trainCell.epochs } : undefined;
  const dataDir = resolveDataDir(options.dataDir ?? previous?.dataDir);
  const dataset = await loadDataset(data, { dataDir, baseDir: path.dirname(path.resolve(file)), seed });
  const { backend, model } = await chooseBackend(options.backend ?? previous?.backend ?? 'auto', {
    build: () => buildModelFor(experiment, data, modelConfig, seed, dataset.shape, dataset.classes.length),
    inputShape: dataset.shape,
    signature: [modelConfig, dataset.classes.length],
  }, emit);
  emit({ type: 'log', level: 'info', message: `Latent Lab runtime · TF.js ${tf.version_core} · backend ${backend.backend} · ${backend.device}` });
  emit({ type: 'cellOutput', cell: 'data', text: `${dataset.description}\nexamples are ${dataset.shape.join('×')}, batch ${data.batch}${data.binarize !== 'none' ? `, ${data.binarize} binarization` : ''}` });

  const units = lossUnits(data, modelConfig);
  emit({ type: 'cellOutput', cell: 'model', text: formatSummary(model) });

  const summary: RunSummary = {
    title: experiment.frontMatter.title,
    status: 'analysis',
    backend: backend.backend,
    device: backend.device,
    dataset: dataset.description,
    model: `${modelConfig.kind}, ${modelConfig.latent}-d code${model.classes > 0 ? `, ${model.classes} classes` : ''}`,
    parameters: parameterCount(model),
    epochs: 0,
    targetEpochs: train?.epochs ?? 0,
    steps: 0,
    units,
    durationSeconds: 0,
  };
  const variables = trainableVariables(model);
  let optimizer: Optimizer | undefined;
  let metrics: MetricsLog | undefined;

  try {
    if (!needsTraining || !train) return { runDir: runDir ?? '', status: 'analysis', summary: { ...summary, durationSeconds: (Date.now() - started) / 1000 } };

    const resolved: ResolvedConfig = {
      version: 1,
      sourceFile: path.resolve(file),
      title: experiment.frontMatter.title,
      seed,
      data,
      model: modelConfig,
      train,
      backend: backend.backend,
      dataDir,
      configHash: '',
    };
    resolved.configHash = configHash(resolved);
    const parent = options.outDir ? path.resolve(options.outDir) : path.join(process.cwd(), '.aexp', 'runs', experimentName(file));
    const reused = !runDir && options.reuse ? findReusableRun(parent, resolved) : undefined;
    if (reused) {
      runDir = reused.runDir;
      resumed = loadCheckpoint(path.join(runDir, 'checkpoints', 'last.ckpt'));
    }
    if (!runDir) {
      runDir = newRunDir(parent);
      writeFileSync(path.join(runDir, 'experiment.aexp'), text);
    }
    const checkpoints = path.join(runDir, 'checkpoints');
    const images = path.join(runDir, 'images');
    mkdirSync(checkpoints, { recursive: true });
    mkdirSync(images, { recursive: true });
    if (!reused) writeFileAtomic(path.join(runDir, 'config.json'), [Buffer.from(`${JSON.stringify(resolved, null, 2)}\n`)]);
    metrics = new MetricsLog(path.join(runDir, 'metrics.jsonl'));
    emit({ type: 'log', level: 'info', message: `run folder ${runDir}` });
    if (reused) replayTraining(runDir, reused.summary, emit);

    optimizer = new Optimizer(train, variables);
    const position: TrainingPosition = {
      epoch: 0,
      batch: 0,
      globalStep: 0,
      seed,
      bestLoss: null,
      bestEpoch: null,
      epochsWithoutImprovement: 0,
      partial: { loss: 0, reconstruction: 0, kl: 0, examples: 0 },
    };
    if (resumed) {
      setWeights(model, resumed.weights);
      optimizer.setState(resumed.optimizer);
      Object.assign(position, resumed.position);
    }
    if (resumed && !reused) {
      metrics.append({ kind: 'resume', epoch: position.epoch, step: position.globalStep, time: timestamp(), batch: position.batch });
      emit({ type: 'log', level: 'info', message: `resuming at epoch ${position.epoch + 1}, batch ${position.batch} (step ${position.globalStep})` });
    }

    const checkpointNow = async (name: string) => {
      const snapshot = { ...position, partial: { ...position.partial } };
      const weights: Checkpoint['weights'] = [];
      for (const weight of allWeights(model)) weights.push({ shape: weight.shape, values: (await weight.read().data()) as Float32Array });
      saveCheckpoint(path.join(checkpoints, name), { position: snapshot, weights, optimizer: await optimizer!.getState(), configHash: resolved.configHash });
    };

    const count = dataset.train.count;
    const stepsPerEpoch = Math.ceil(count / data.batch);
    const totalSteps = train.epochs * stepsPerEpoch;
    const sampleNoiseSeed = mixSeed(seed, 404);
    const needs = batchNeeds(model);
    let status: RunResult['status'] = reused?.summary.status ?? 'completed';
    let message = reused?.summary.message;
    let sessionSteps = 0;
    let sessionExamples = 0;
    const sessionStart = Date.now();
    let lastTest: Evaluation | undefined;
    let lastTrain = reused?.summary.train;

    training: for (let epoch = position.epoch; !reused && epoch < train.epochs; epoch++) {
      const order = data.shuffle ? permutation(count, mixSeed(seed, 1, epoch)) : range(0, count);
      for (let batch = position.batch; batch < stepsPerEpoch; batch++) {
        await yieldToEventLoop();
        if (options.signal?.aborted) {
          position.epoch = epoch;
          position.batch = batch;
          await checkpointNow('last.ckpt');
          const reason = options.signal.reason === 'shutdown' ? 'shutdown' : 'cancelled';
          metrics.append({ kind: 'stop', epoch, step: position.globalStep, time: timestamp(), batch, reason });
          status = 'stopped';
          summary.stoppedBy = reason;
          message = `stopped at epoch ${epoch + 1}, batch ${batch}${reason === 'shutdown' ? ' because the runtime was shutting down' : ''}; resume with: aexp run --resume ${runDir}`;
          break training;
        }
        const indices = order.subarray(batch * data.batch, Math.min(count, (batch + 1) * data.batch));
        const stepSeed = mixSeed(seed, 2, position.globalStep);
        const inputs: ForwardInputs = batchInputs(dataset.train, indices, dataset.shape, data.binarize, stepSeed, needs);
        model.noise.seed = mixSeed(seed, 4, position.globalStep);
        const schedule = regularizerSchedule(modelConfig, position.globalStep, stepsPerEpoch);
        let terms: { reconstruction?: tf.Scalar; kl?: tf.Scalar } = {};
        const { value, grads } = tf.variableGrads(() => {
          const result = lossTerms(model, inputs, { training: true, seed: mixSeed(seed, 3, position.globalStep), schedule });
          terms = { reconstruction: tf.keep(result.reconstruction), kl: tf.keep(result.kl) };
          return result.loss;
        }, variables);
        const stacked = tf.stack([value, terms.reconstruction!, terms.kl!]);
        const [loss, reconstruction, kl] = await stacked.data();
        stacked.dispose();
        tf.dispose([inputs.x, inputs.labels, inputs.mask, value, terms.reconstruction!, terms.kl!].filter((tensor) => tensor !== undefined));
        if (!Number.isFinite(loss)) {
          tf.dispose(Object.values(grads));
          status = 'diverged';
          message = `the loss became ${loss} at epoch ${epoch + 1}, step ${position.globalStep + 1}; training stopped before that update, and the last good checkpoint was kept${existsSync(path.join(checkpoints, 'last.ckpt')) ? ` (${path.join(checkpoints, 'last.ckpt')})` : ' (none yet: it diverged in the first epoch)'}. Lower lr or set clip_norm.`;
          metrics.append({ kind: 'stop', epoch, step: position.globalStep, time: timestamp(), reason: 'diverged', loss: String(loss) });
          break training;
        }
        const lr = learningRate(train, position.globalStep, stepsPerEpoch, totalSteps);
        tf.tidy(() => {
          const { gradients } = clipGradients(variables.map((variable) => grads[variable.name]), train);
          optimizer!.apply(gradients, lr);
        });
        tf.dispose(Object.values(grads));

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
          metrics.append({ kind: 'train', epoch: epoch + 1, step: position.globalStep, time: timestamp(), loss, reconstruction, kl, lr });
        }
      }

      const trainMeans = { loss: position.partial.loss / position.partial.examples, reconstruction: position.partial.reconstruction / position.partial.examples, kl: position.partial.kl / position.partial.examples };
      lastTrain = trainMeans;
      position.epoch = epoch + 1;
      position.batch = 0;
      position.partial = { loss: 0, reconstruction: 0, kl: 0, examples: 0 };
      const record: MetricsRecord = { kind: 'epoch', epoch: epoch + 1, step: position.globalStep, time: timestamp(), units, train: trainMeans, samplesPerSecond: sessionExamples / ((Date.now() - sessionStart) / 1000), tensors: tf.memory().numTensors };
      let improved = false;
      if (train.validate) {
        lastTest = await evaluateSplit(model, dataset, data, seed);
        record.test = lastTest;
        const minDelta = train.early_stopping?.min_delta ?? 0;
        improved = position.bestLoss === null || lastTest.loss < position.bestLoss - minDelta;
        if (improved) {
          position.bestLoss = lastTest.loss;
          position.bestEpoch = epoch + 1;
          position.epochsWithoutImprovement = 0;
        } else position.epochsWithoutImprovement++;
      }
      metrics.append(record);
      emit({ type: 'metrics', record });
      await checkpointNow('last.ckpt');
      if (improved) await checkpointNow('best.ckpt');
      if (train.checkpoint_every > 0 && (epoch + 1) % train.checkpoint_every === 0) await checkpointNow(`epoch-${String(epoch + 1).padStart(4, '0')}.ckpt`);

      const epochTag = `epoch-${String(epoch + 1).padStart(3, '0')}`;
      const reconstructionFile = path.join(images, `${epochTag}-reconstructions.png`);
      writePng(reconstructionFile, rowsPng(await reconstructionImages(model, dataset, data, 16, seed)));
      emit({ type: 'image', cell: 'train', kind: 'reconstructions', epoch: epoch + 1, path: reconstructionFile });
      if (model.variational) {
        const sampleFile = path.join(images, `${epochTag}-samples.png`);
        const { images: samples, columns } = await sampleImages(model, model.classes > 0 ? 8 * model.classes : 32, 1, sampleNoiseSeed);
        writePng(sampleFile, gridPng(samples, columns));
        emit({ type: 'image', cell: 'train', kind: 'samples', epoch: epoch + 1, path: sampleFile });
      }

      if (train.early_stopping && position.epochsWithoutImprovement >= train.early_stopping.patience) {
        status = 'early-stopped';
        message = `early stopping after epoch ${epoch + 1}: no improvement of the test loss for ${train.early_stopping.patience} epoch(s); best ${position.bestLoss?.toFixed(3)} at epoch ${position.bestEpoch}`;
        break;
      }
    }
    if (message && !reused) emit({ type: 'log', level: status === 'diverged' ? 'error' : 'info', message });

    summary.status = status;
    summary.epochs = position.epoch;
    summary.steps = position.globalStep;
    summary.train = lastTrain;
    summary.best = position.bestEpoch !== null ? { epoch: position.bestEpoch, loss: position.bestLoss! } : undefined;
    summary.samplesPerSecond = reused ? reused.summary.samplesPerSecond : sessionExamples / Math.max((Date.now() - sessionStart) / 1000, 1e-9);
    summary.message = message;
    if (reused) summary.reused = { trainedSeconds: reused.summary.durationSeconds };

    if (status !== 'diverged' && status !== 'stopped') {
      const evaluateConfig: EvaluateConfig = cellConfig(experiment, 'evaluate') ?? { metrics: ['loss', 'reconstruction', 'kl', 'mse', 'psnr'] };
      // The last epoch's validation used the same fixed seed, so its numbers are the final ones.
      lastTest ??= await evaluateSplit(model, dataset, data, seed);
      summary.test = { ...lastTest };
      if (analysis.includes('evaluate')) {
        const table = evaluateConfig.metrics.map((metric) => {
          const value = metric === 'elbo' ? (lastTest!.elbo ?? -lastTest!.loss) : lastTest![metric];
          const unit = metric === 'mse' ? '' : metric === 'psnr' ? ' dB' : ` ${units}`;
          return `${metric.padEnd(15)}${value.toFixed(metric === 'mse' ? 5 : 3)}${unit}`;
        });
        const extras = [
          ...(lastTest.sparsity !== undefined ? [`${'sparsity'.padEnd(15)}${(100 * lastTest.sparsity).toFixed(1)}% of code values within 10% of the code's RMS (mean |z| ${lastTest.l1!.toFixed(4)})`] : []),
          ...(lastTest.noisyMse !== undefined ? [`${'denoising'.padEnd(15)}MSE ${lastTest.mse.toFixed(5)} against the clean input; the corrupted input had ${lastTest.noisyMse.toFixed(5)}`] : []),
          ...(lastTest.maskedMse !== undefined ? [`${'masked mse'.padEnd(15)}${lastTest.maskedMse.toFixed(5)} over the masked pixels only`] : []),
        ];
        emit({ type: 'cellOutput', cell: 'evaluate', text: [`test split, ${dataset.test.count} examples, per example:`, ...table, ...extras].join('\n') });
        metrics.append({ kind: 'evaluate', epoch: position.epoch, step: position.globalStep, time: timestamp(), units, test: lastTest });
      }
      const reconstructCell = cellConfig(experiment, 'reconstruct') as CellConfigs['reconstruct'] | undefined;
      if (analysis.includes('reconstruct') && reconstructCell) {
        const target = path.join(images, 'reconstructions.png');
        writePng(target, rowsPng(await reconstructionImages(model, dataset, data, reconstructCell.count, seed)));
        emit({ type: 'image', cell: 'reconstruct', kind: 'reconstructions', epoch: position.epoch, path: target });
      }
      const sampleCell = cellConfig(experiment, 'sample') as CellConfigs['sample'] | undefined;
      if (analysis.includes('sample') && sampleCell && model.variational) {
        const target = path.join(images, 'samples.png');
        const { images: samples, columns } = await sampleImages(model, sampleCell.count, sampleCell.temperature, mixSeed(seed, 405), Math.min(8, sampleCell.count));
        writePng(target, gridPng(samples, columns));
        emit({ type: 'image', cell: 'sample', kind: 'samples', epoch: position.epoch, path: target });
      }
      if (!reused) await exportModel(model, path.join(runDir, 'model'));
    } else if (lastTest) summary.test = { ...lastTest };

    summary.durationSeconds = (Date.now() - started) / 1000;
    // A reused run's summary.json stays the record of its training.
    if (!reused) writeFileAtomic(path.join(runDir, 'summary.json'), [Buffer.from(`${JSON.stringify(summary, null, 2)}\n`)]);
    return { runDir, status, summary };
  } finally {
    if (metrics && runDir) writeFileAtomic(path.join(runDir, OUTPUTS_FILE), [Buffer.from(`${JSON.stringify({ version: 1, events: shown } satisfies RunOutputs)}\n`)]);
    metrics?.close();
    optimizer?.dispose();
    disposeAutoencoder(model);
  }
}

export { formatDiagnostic };
