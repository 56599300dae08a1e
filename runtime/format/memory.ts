/**
 * Memory estimates from a validated configuration, before anything is allocated: the model's
 * (weights, optimizer state, gradients, one batch of activations) and the data's (every example's
 * pixels, one byte each). What cannot fit becomes a finding at the key that asks for it.
 */
import { DEFAULT_SPRITE_COUNT, DEFAULT_SPRITE_SIZE, datasetExampleCount, datasetShape } from '../data/shapes';
import type { LayerSpec } from './layers';
import { formatLayer } from './layers';
import type { DataConfig, ModelConfig, TrainConfig } from './schema';
import { VARIATIONAL_KINDS } from './schema';

export type KeyPath = (string | number)[];

/** A problem with a key of the data or model cell, located by the caller. */
export interface MemoryFinding {
  cell: 'data' | 'model';
  path: KeyPath;
  message: string;
}

export interface MemoryLimits {
  /** What this process may use in all. */
  availableBytes: number;
  /** The most the model may take (the wasm backend keeps it all in one heap). */
  modelBytes: number;
  /** The largest single tensor the backend holds; undefined where memory alone bounds it. */
  largestTensorBytes?: number;
  /** The largest array of bytes the JavaScript engine allocates (a dataset's pixels). */
  largestByteArray: number;
  /** The backend the limits are for, named in messages; undefined: not chosen yet. */
  backend?: string;
}

interface ArrayNeed {
  path: KeyPath;
  what: string;
  bytes: number;
}

export interface ModelEstimate {
  parameters: number;
  bytes: number;
  /** What the estimate counts, for the message: "weights, Adam state and one batch of activations". */
  counts: string;
  /** The key whose layers need the most. */
  heaviest: { path: KeyPath; what: string };
  largestArray: ArrayNeed;
}

export interface DataEstimate {
  examples: number;
  bytes: number;
  /** The key that asks for it, and how the message names it. */
  path: KeyPath;
  what: string;
  largestArray: ArrayNeed;
}

const FLOAT = 4;

type Shape = number[];

function elements(shape: Shape): number {
  return shape.reduce((product, dimension) => product * dimension, 1);
}

function asImage(shape: Shape): [number, number, number] {
  return shape.length === 3 ? [shape[0], shape[1], shape[2]] : [1, 1, shape[0]];
}

function outputShape(spec: LayerSpec, shape: Shape): Shape {
  const [height, width, channels] = asImage(shape);
  switch (spec.type) {
    case 'dense': return [spec.units];
    case 'conv': return [Math.ceil(height / spec.stride), Math.ceil(width / spec.stride), spec.filters];
    case 'deconv': return [height * spec.stride, width * spec.stride, spec.filters];
    case 'residual': return [height, width, spec.filters];
    case 'upsample': return [height * spec.factor, width * spec.factor, channels];
    case 'pool': return [Math.ceil(height / spec.size), Math.ceil(width / spec.size), channels];
    case 'reshape': return [...spec.shape];
    default: return shape;
  }
}

/** Parameters of a layer on this input, and the elements of its largest weight array. */
function layerWeights(spec: LayerSpec, shape: Shape, extraInputs: number): { parameters: number; largest: number } {
  const channels = asImage(shape)[2];
  switch (spec.type) {
    case 'dense': {
      const kernel = (elements(shape) + extraInputs) * spec.units;
      return { parameters: kernel + spec.units, largest: kernel };
    }
    case 'conv':
    case 'deconv': {
      const kernel = spec.kernel * spec.kernel * channels * spec.filters;
      return { parameters: kernel + spec.filters, largest: kernel };
    }
    case 'residual': {
      const first = spec.kernel * spec.kernel * channels * spec.filters;
      const second = spec.kernel * spec.kernel * spec.filters * spec.filters;
      const shortcut = channels === spec.filters ? 0 : channels * spec.filters + spec.filters;
      return { parameters: first + second + 2 * spec.filters + shortcut, largest: Math.max(first, second) };
    }
    case 'batchnorm':
      return { parameters: 4 * channels, largest: channels };
    default:
      return { parameters: 0, largest: 0 };
  }
}

function optimizerSlots(train: TrainConfig): { slots: number; name: string } {
  switch (train.optimizer) {
    case 'adam': return { slots: 2, name: 'Adam state' };
    case 'adamw': return { slots: 2, name: 'AdamW state' };
    case 'sgd': return { slots: train.momentum === 0 ? 0 : 1, name: 'SGD momentum' };
    case 'rmsprop': return { slots: train.momentum ? 2 : 1, name: 'RMSprop state' };
    default: return { slots: 2, name: 'optimizer state' };
  }
}

/**
 * The model's memory for one training step: each parameter as a float32 weight, its optimizer
 * slots and its gradient, plus one batch of every layer's output and its gradient. A mirrored
 * decoder is counted as the encoder's transpose (the same weights, the activations in reverse).
 */
export function estimateModelMemory(
  model: ModelConfig,
  layers: { encoder: LayerSpec[]; decoder: 'mirror' | LayerSpec[] },
  inputShape: [number, number, number],
  options: { batch: number; classes?: number; train?: TrainConfig },
): ModelEstimate {
  const optimizer = options.train ? optimizerSlots(options.train) : undefined;
  const perParameter = FLOAT * (1 + (optimizer ? optimizer.slots + 1 : 0));
  const perActivation = FLOAT * options.batch * (optimizer ? 2 : 1);
  const classes = model.kind === 'cvae' ? (options.classes ?? 0) : 0;
  const byKey = new Map<string, { path: KeyPath; what: string; bytes: number }>();
  let parameters = 0;
  let bytes = 0;
  let largestArray: ArrayNeed = { path: ['encoder'], what: 'nothing', bytes: 0 };
  const add = (path: KeyPath, what: string, weights: { parameters: number; largest: number }, activations: number) => {
    const need = weights.parameters * perParameter + activations * perActivation;
    parameters += weights.parameters;
    bytes += need;
    const key = JSON.stringify(path);
    const entry = byKey.get(key) ?? { path, what, bytes: 0 };
    entry.bytes += need;
    byKey.set(key, entry);
    if (weights.largest * FLOAT > largestArray.bytes) largestArray = { path, what: `the weights of ${what}`, bytes: weights.largest * FLOAT };
    const batchOfOutputs = activations * FLOAT * options.batch;
    if (batchOfOutputs > largestArray.bytes) largestArray = { path, what: `one batch of outputs of ${what}`, bytes: batchOfOutputs };
  };
  const layerName = (spec: LayerSpec) => `\`${formatLayer(spec)}\``;

  const decoder = layers.decoder === 'mirror' ? undefined : layers.decoder;
  const mirror = decoder === undefined;
  const conditionAtInput = classes > 0 && layers.encoder[0]?.type === 'dense';
  let shape: Shape = inputShape;
  layers.encoder.forEach((spec, index) => {
    const weights = layerWeights(spec, shape, index === 0 && conditionAtInput ? classes : 0);
    const output = outputShape(spec, shape);
    const activations = elements(output) * (spec.type === 'residual' ? 3 : 1);
    // Its mirror has the same weights, transposed, and outputs what this layer takes in.
    add(['encoder', index], layerName(spec), weights, activations + (mirror ? elements(shape) : 0));
    if (mirror) add(['encoder', index], layerName(spec), weights, 0);
    shape = output;
  });

  const features = elements(shape);
  const last: KeyPath = layers.encoder.length > 0 ? ['encoder', layers.encoder.length - 1] : ['latent'];
  const lastName = layers.encoder.length > 0 ? layerName(layers.encoder[layers.encoder.length - 1]) : 'the code';
  const codeSize = VARIATIONAL_KINDS.includes(model.kind) ? 2 * model.latent : model.latent;
  const codeInputs = features + (classes > 0 && !conditionAtInput ? classes : 0);
  // The code layer is as large as the larger of its two sides: blame that side.
  const codeBlame: [KeyPath, string] = codeSize >= codeInputs ? [['latent'], `the ${model.latent}-d code`] : [last, lastName];
  add(codeBlame[0], codeBlame[1], { parameters: codeInputs * codeSize + codeSize, largest: codeInputs * codeSize }, codeSize);

  const outputSize = elements(inputShape);
  if (!decoder) {
    const fromCode = (model.latent + classes) * features;
    const blame: [KeyPath, string] = model.latent >= features ? [['latent'], `the ${model.latent}-d code`] : [last, lastName];
    add(blame[0], blame[1], { parameters: fromCode + features, largest: fromCode }, features);
    // The reconstruction, its loss per element and their gradients, beside the input batch.
    add(layers.encoder.length > 0 ? ['encoder', 0] : ['latent'], layers.encoder.length > 0 ? layerName(layers.encoder[0]) : 'the output layer', { parameters: 0, largest: 0 }, 2 * outputSize);
  } else {
    let decoded: Shape = [model.latent + classes];
    decoder.forEach((spec, index) => {
      const output = outputShape(spec, decoded);
      add(['decoder', index], layerName(spec), layerWeights(spec, decoded, 0), elements(output) * (spec.type === 'residual' ? 3 : 1));
      decoded = output;
    });
    const lastDecoder: KeyPath = decoder.length > 0 ? ['decoder', decoder.length - 1] : ['decoder'];
    const outputLayer: LayerSpec = decoded.length === 1
      ? { type: 'dense', units: outputSize, activation: 'linear' }
      : { type: 'conv', filters: inputShape[2], kernel: 3, stride: 1, activation: 'linear' };
    add(lastDecoder, 'the output layer', layerWeights(outputLayer, decoded, 0), 3 * outputSize);
  }

  const heaviest = [...byKey.values()].reduce((best, entry) => (entry.bytes > best.bytes ? entry : best));
  const counts = optimizer ? `weights, ${optimizer.slots > 0 ? `${optimizer.name}, ` : ''}gradients and one batch of activations` : 'weights and one batch of activations';
  return { parameters, bytes, counts, heaviest: { path: heaviest.path, what: heaviest.what }, largestArray };
}

/**
 * The data's memory: every example's pixels at one byte each, for both splits. Generated and
 * decoded datasets are held twice while they are split into train and test.
 */
export function estimateDataMemory(data: DataConfig): DataEstimate | undefined {
  const shape = datasetShape(data);
  if (!shape) return undefined;
  const pixels = elements(shape);
  const size = `${shape[0]}×${shape[1]}${shape[2] > 1 ? `×${shape[2]}` : ''}`;
  if (data.dataset === 'folder') {
    // The folder is not read here; two images (a train and a test one) is the least it can hold.
    const bytes = 2 * pixels * 2;
    return { examples: 2, bytes, path: ['size'], what: `two images of ${size} (the fewest a folder dataset holds)`, largestArray: { path: ['size'], what: `two images of ${size}`, bytes: 2 * pixels } };
  }
  const examples = datasetExampleCount(data) ?? 0;
  const copies = data.dataset === 'sprites' ? 2 : 1;
  if (data.dataset === 'sprites') {
    // Blame whichever of count and size has grown more over its default.
    const growth = { count: examples / DEFAULT_SPRITE_COUNT, size: pixels / (DEFAULT_SPRITE_SIZE * DEFAULT_SPRITE_SIZE) };
    const path: KeyPath = [growth.size > growth.count ? 'size' : 'count'];
    const what = `${examples.toLocaleString('en-US')} sprites of ${size}`;
    return { examples, bytes: examples * pixels * copies, path, what, largestArray: { path, what, bytes: examples * pixels } };
  }
  const what = `${examples.toLocaleString('en-US')} ${data.dataset} images of ${size}`;
  return { examples, bytes: examples * pixels, path: ['dataset'], what, largestArray: { path: ['dataset'], what, bytes: examples * pixels } };
}

/** Bytes in GB or MB with one decimal, as the messages give them. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function processLimit(limits: MemoryLimits): string {
  return `this process can use at most ${formatBytes(limits.availableBytes)}`;
}

/**
 * What cannot fit, at most one finding: the data first (the model's size follows from the data's
 * shape), then the model in all, then its largest single array, then both together.
 */
export function memoryFindings(data: DataEstimate | undefined, model: ModelEstimate | undefined, limits: MemoryLimits): MemoryFinding[] {
  if (data) {
    if (data.bytes > limits.availableBytes) {
      return [{ cell: 'data', path: data.path, message: `${data.what} need about ${formatBytes(data.bytes)} in memory (one byte per pixel${data.bytes > data.largestArray.bytes ? ', held twice while the train and test splits are made' : ''}); ${processLimit(limits)}` }];
    }
    if (data.largestArray.bytes > limits.largestByteArray) {
      return [{ cell: 'data', path: data.path, message: `${data.what} are one array of ${formatBytes(data.largestArray.bytes)}; the largest array this process can allocate is ${formatBytes(limits.largestByteArray)}` }];
    }
  }
  if (!model) return [];
  const where = `most of it for ${model.heaviest.what}`;
  if (model.bytes > limits.modelBytes) {
    const limit = limits.modelBytes < limits.availableBytes ? `the ${limits.backend ?? 'chosen'} backend holds at most ${formatBytes(limits.modelBytes)}` : processLimit(limits);
    return [{ cell: 'model', path: model.heaviest.path, message: `the model needs about ${formatBytes(model.bytes)} (${model.counts}; ${where}); ${limit}` }];
  }
  if (limits.largestTensorBytes !== undefined && model.largestArray.bytes > limits.largestTensorBytes) {
    const backend = limits.backend ? `the ${limits.backend} backend` : 'a CPU-side backend';
    return [{ cell: 'model', path: model.largestArray.path, message: `${model.largestArray.what} would be one tensor of ${formatBytes(model.largestArray.bytes)}; the largest ${backend} can hold is ${formatBytes(limits.largestTensorBytes)}` }];
  }
  if (data && data.bytes + model.bytes > limits.availableBytes) {
    return [{ cell: 'model', path: model.heaviest.path, message: `the model needs about ${formatBytes(model.bytes)} (${model.counts}; ${where}) beside ${formatBytes(data.bytes)} of data; ${processLimit(limits)}` }];
  }
  return [];
}
