/**
 * Builds encoder and decoder networks from the model cell. Pure and backend-agnostic: TF.js
 * layers only; the caller picks the backend. Each model kind adds its loss in losses.ts.
 *
 * Both networks are functional models so that a conditional VAE can take its label on both sides
 * and a U-Net-style autoencoder can hand encoder features to the decoder:
 *   encoder: [image, label?] → [code, ...skip features]
 *   decoder: [z, label?, ...skip features] → logits or means, shaped like the image
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Activation, LayerSpec } from '../format/layers';
import { formatLayer } from '../format/layers';
import type { ModelConfig } from '../format/schema';
import { VARIATIONAL_KINDS } from '../format/schema';
import { SeededDropout } from './dropout';
import type { NoiseContext } from './dropout';

export type Shape = [number, number, number];
type SymbolicTensor = tfl.SymbolicTensor;
type ShapeOf = (number | null)[];

export class ModelError extends Error {
  override name = 'ModelError';
  /** The model-cell key the problem belongs to, for locating it. */
  constructor(message: string, readonly key: 'encoder' | 'decoder' | 'latent' | 'patch' | 'kind') {
    super(message);
  }
}

export interface SummaryRow {
  part: 'encoder' | 'decoder' | 'mask token';
  layer: string;
  outputShape: (number | null)[];
  parameters: number;
}

/** A weight as checkpoints see it: layer weights and free variables alike. */
export interface WeightHandle {
  shape: number[];
  read(): tf.Tensor;
  write(value: tf.Tensor): void;
}

export interface Autoencoder {
  config: ModelConfig;
  kind: ModelConfig['kind'];
  variational: boolean;
  latent: number;
  inputShape: Shape;
  likelihood: ModelConfig['likelihood'];
  sigma: number;
  /** cvae: the number of classes of the one-hot label; 0 otherwise. */
  classes: number;
  /** How many encoder features the decoder takes as U-Net skips. */
  skipCount: number;
  encoder: tfl.LayersModel;
  decoder: tfl.LayersModel;
  /** masked-ae: the learned value (one per channel) that replaces masked pixels. */
  maskToken?: tf.Variable;
  /** Seeds the dropout masks of the current training step. */
  noise: NoiseContext;
}

export function isVariational(kind: ModelConfig['kind']): boolean {
  return VARIATIONAL_KINDS.includes(kind);
}

/** Trainable variables in a fixed order: encoder, decoder (each in layer order), then the mask token. */
export function trainableVariables(model: Autoencoder): tf.Variable[] {
  const layers = [...model.encoder.trainableWeights, ...model.decoder.trainableWeights].map((weight) => weight.read() as tf.Variable);
  return model.maskToken ? [...layers, model.maskToken] : layers;
}

/** All weights (trainable or not, e.g. batch-norm statistics) in a fixed order, for checkpoints. */
export function allWeights(model: Autoencoder): WeightHandle[] {
  const handles: WeightHandle[] = [...model.encoder.weights, ...model.decoder.weights].map((weight) => ({
    shape: weight.shape as number[],
    read: () => weight.read(),
    write: (value: tf.Tensor) => weight.write(value),
  }));
  const token = model.maskToken;
  if (token) handles.push({ shape: token.shape, read: () => token, write: (value) => token.assign(value) });
  return handles;
}

export function parameterCount(model: Autoencoder): number {
  return model.encoder.countParams() + model.decoder.countParams() + (model.maskToken?.size ?? 0);
}

type Initializer = ReturnType<typeof tfl.initializers.zeros>;
type ActivationName = NonNullable<Parameters<typeof tfl.layers.dense>[0]['activation']>;

class Initializers {
  private counter = 0;
  constructor(private readonly scheme: ModelConfig['init'], private readonly seed: number) {}

  /** Kernel and bias initializers for a layer with the given fan-in. */
  for(fanIn: number): { kernelInitializer: Initializer; biasInitializer: Initializer } {
    const seed = this.seed * 1000 + this.counter++;
    if (this.scheme === 'pytorch') {
      // torch.nn.Linear / Conv2d: kaiming_uniform(a=√5) = U(±1/√fan_in) for weights and biases.
      const limit = 1 / Math.sqrt(fanIn);
      return {
        kernelInitializer: tfl.initializers.varianceScaling({ scale: 1 / 3, mode: 'fanIn', distribution: 'uniform', seed }),
        biasInitializer: tfl.initializers.randomUniform({ minval: -limit, maxval: limit, seed: seed + 500 }),
      };
    }
    return { kernelInitializer: tfl.initializers.glorotUniform({ seed }), biasInitializer: tfl.initializers.zeros() };
  }
}

function size(shape: readonly (number | null)[]): number {
  return shape.slice(1).reduce<number>((product, dimension) => product * (dimension ?? 1), 1);
}

/** TF.js has no leaky-ReLU activation string: that one becomes a separate layer after a linear one. */
function activationName(activation: Activation): ActivationName {
  return activation === 'leaky_relu' ? 'linear' : (activation as ActivationName);
}

function activate(h: SymbolicTensor, activation: Activation): SymbolicTensor {
  if (activation === 'leaky_relu') return tfl.layers.leakyReLU({ alpha: 0.2 }).apply(h) as SymbolicTensor;
  if (activation === 'linear') return h;
  return tfl.layers.activation({ activation: activation as ActivationName }).apply(h) as SymbolicTensor;
}

interface BuildContext {
  init: Initializers;
  noise: NoiseContext;
  part: 'encoder' | 'decoder';
  dropouts: { count: number };
}

function needImage(spec: LayerSpec, shape: ShapeOf, part: string): void {
  if (shape.length !== 4) throw new ModelError(`\`${formatLayer(spec)}\` needs an image, but the ${part} has a vector of ${shape[1]} here: put \`reshape HxWxC\` before it`, part === 'encoder' ? 'encoder' : 'decoder');
}

/** Applies one layer spec to a symbolic tensor. */
function applyLayer(spec: LayerSpec, h: SymbolicTensor, context: BuildContext): SymbolicTensor {
  const shape = h.shape;
  const { init, part } = context;
  switch (spec.type) {
    case 'dense': {
      let input = h;
      if (shape.length > 2) input = tfl.layers.flatten().apply(h) as SymbolicTensor;
      const out = tfl.layers.dense({ units: spec.units, activation: activationName(spec.activation), ...init.for(size(input.shape)) }).apply(input) as SymbolicTensor;
      return spec.activation === 'leaky_relu' ? activate(out, 'leaky_relu') : out;
    }
    case 'conv':
    case 'deconv': {
      needImage(spec, shape, part);
      const channels = shape[3]!;
      const options = { filters: spec.filters, kernelSize: spec.kernel, strides: spec.stride, padding: 'same' as const, activation: activationName(spec.activation) };
      const layer = spec.type === 'conv'
        ? tfl.layers.conv2d({ ...options, ...init.for(spec.kernel * spec.kernel * channels) })
        : tfl.layers.conv2dTranspose({ ...options, ...init.for(spec.kernel * spec.kernel * spec.filters) });
      const out = layer.apply(h) as SymbolicTensor;
      return spec.activation === 'leaky_relu' ? activate(out, 'leaky_relu') : out;
    }
    case 'residual': {
      needImage(spec, shape, part);
      const channels = shape[3]!;
      const conv = (input: SymbolicTensor, filters: number, kernel: number, fanIn: number) =>
        tfl.layers.conv2d({ filters, kernelSize: kernel, padding: 'same', ...init.for(kernel * kernel * fanIn) }).apply(input) as SymbolicTensor;
      const inner = activate(conv(h, spec.filters, spec.kernel, channels), spec.activation);
      const branch = conv(inner, spec.filters, spec.kernel, spec.filters);
      // The shortcut is the identity when channels match, a 1×1 projection otherwise (He et al.).
      const shortcut = channels === spec.filters ? h : conv(h, spec.filters, 1, channels);
      return activate(tfl.layers.add().apply([branch, shortcut]) as SymbolicTensor, spec.activation);
    }
    case 'upsample':
      needImage(spec, shape, part);
      return tfl.layers.upSampling2d({ size: [spec.factor, spec.factor], interpolation: spec.interpolation }).apply(h) as SymbolicTensor;
    case 'pool':
      needImage(spec, shape, part);
      return tfl.layers.maxPooling2d({ poolSize: spec.size, strides: spec.size, padding: 'same' }).apply(h) as SymbolicTensor;
    case 'batchnorm':
      // PyTorch's momentum 0.1 (TF.js calls the kept fraction "momentum": 0.9) and ε 1e-5.
      return activate(tfl.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 }).apply(h) as SymbolicTensor, spec.activation);
    case 'dropout':
      return new SeededDropout({ rate: spec.rate, context: context.noise, stream: context.dropouts.count++ }).apply(h) as SymbolicTensor;
    case 'reshape': {
      const values = spec.shape[0] * spec.shape[1] * spec.shape[2];
      if (size(shape) !== values) throw new ModelError(`\`${formatLayer(spec)}\` holds ${values} values, but the ${part} has ${size(shape)} here`, part);
      return tfl.layers.reshape({ targetShape: spec.shape }).apply(h) as SymbolicTensor;
    }
  }
}

/** A skip connection in a mirrored decoder: concatenate encoder feature `feature` here. */
export type DecoderStep = LayerSpec | { type: 'skip'; feature: number };

interface Block {
  /** The layer that changes the shape; absent for leading batchnorm/dropout. */
  main?: LayerSpec;
  /** batchnorm and dropout layers that follow it. */
  attachments: LayerSpec[];
}

function blocksOf(encoder: LayerSpec[]): Block[] {
  const blocks: Block[] = [];
  for (const spec of encoder) {
    if (spec.type === 'batchnorm' || spec.type === 'dropout') {
      if (blocks.length === 0) blocks.push({ attachments: [] });
      blocks[blocks.length - 1].attachments.push(spec);
    } else blocks.push({ main: spec, attachments: [] });
  }
  return blocks;
}

function outputShapeOf(spec: LayerSpec, shape: ShapeOf): ShapeOf {
  switch (spec.type) {
    case 'dense': return [null, spec.units];
    case 'conv': return [null, Math.ceil(shape[1]! / spec.stride), Math.ceil(shape[2]! / spec.stride), spec.filters];
    case 'deconv': return [null, shape[1]! * spec.stride, shape[2]! * spec.stride, spec.filters];
    case 'residual': return [null, shape[1], shape[2], spec.filters];
    case 'upsample': return [null, shape[1]! * spec.factor, shape[2]! * spec.factor, shape[3]];
    case 'pool': return [null, Math.ceil(shape[1]! / spec.size), Math.ceil(shape[2]! / spec.size), shape[3]];
    case 'reshape': return [null, ...spec.shape];
    default: return shape;
  }
}

/**
 * The activation of the mirrored layer that restores a block's output: the block's main activation,
 * or linear when the block has batch norm (whose own activation then follows the mirrored layer).
 */
function blockActivation(block: Block | undefined): Activation {
  if (!block) return 'relu';
  if (block.attachments.some((spec) => spec.type === 'batchnorm')) return 'linear';
  return block.main && 'activation' in block.main ? block.main.activation : 'relu';
}

/**
 * The decoder that mirrors the encoder: each block mapped back from its output to its input shape,
 * ending (for the first block) in a linear layer: logits or means. Batch norm and dropout follow
 * the mirrored layer that restores the shape they were applied at; with `skips`, that layer's
 * output is joined with the encoder's features of the same shape.
 */
export function mirrorLayers(encoder: LayerSpec[], inputShape: Shape, options: { upsample?: ModelConfig['upsample']; skips?: boolean } = {}): DecoderStep[] {
  const blocks = blocksOf(encoder);
  const shapes: ShapeOf[] = [[null, ...inputShape]];
  for (const block of blocks) {
    let shape = shapes[shapes.length - 1];
    if (block.main) shape = outputShapeOf(block.main, shape);
    shapes.push(shape);
  }
  const upsample = options.upsample ?? 'deconv';
  const last = shapes[shapes.length - 1];
  const steps: DecoderStep[] = [{ type: 'dense', units: size(last), activation: blockActivation(blocks[blocks.length - 1]) }];
  if (last.length === 4) steps.push({ type: 'reshape', shape: [last[1]!, last[2]!, last[3]!] });
  steps.push(...(blocks[blocks.length - 1]?.attachments ?? []).filter((spec) => spec.type === 'batchnorm'));
  for (let index = blocks.length - 1; index >= 0; index--) {
    const { main } = blocks[index];
    const target = shapes[index];
    const source = shapes[index + 1];
    // The mirror of the first block produces the output, so it is linear (logits or means).
    const activation: Activation = index === 0 ? 'linear' : blockActivation(blocks[index - 1]);
    if (!main) continue;
    const image = target.length === 4 ? ([target[1]!, target[2]!, target[3]!] as Shape) : undefined;
    switch (main.type) {
      case 'dense':
        if (index === 0) return steps;
        if (source.length === 2 && target.length === 4) {
          steps.push({ type: 'dense', units: size(target), activation }, { type: 'reshape', shape: image! });
        } else if (target.length === 2) steps.push({ type: 'dense', units: target[1]!, activation });
        break;
      case 'conv':
        if (upsample !== 'deconv' && main.stride > 1) {
          steps.push({ type: 'upsample', factor: main.stride, interpolation: upsample }, { type: 'conv', filters: image![2], kernel: main.kernel, stride: 1, activation });
        } else if (upsample !== 'deconv') steps.push({ type: 'conv', filters: image![2], kernel: main.kernel, stride: 1, activation });
        else steps.push({ type: 'deconv', filters: image![2], kernel: main.kernel, stride: main.stride, activation });
        break;
      case 'deconv':
        steps.push({ type: 'conv', filters: image![2], kernel: main.kernel, stride: main.stride, activation });
        break;
      case 'pool':
        steps.push({ type: 'upsample', factor: main.size, interpolation: upsample === 'bilinear' ? 'bilinear' : 'nearest' });
        break;
      case 'upsample':
        steps.push({ type: 'pool', size: main.factor });
        break;
      case 'residual':
        if (index === 0) steps.push({ type: 'residual', filters: source[3]!, kernel: main.kernel, activation: main.activation }, { type: 'conv', filters: image![2], kernel: 1, stride: 1, activation: 'linear' });
        else steps.push({ type: 'residual', filters: image![2], kernel: main.kernel, activation });
        break;
      case 'reshape':
        steps.push({ type: 'reshape', shape: image ?? [target[1]!, 1, 1] });
        break;
      default:
        break;
    }
    if (index > 0) {
      steps.push(...blocks[index - 1].attachments.filter((spec) => spec.type === 'batchnorm'));
      if (options.skips && target.length === 4) steps.push({ type: 'skip', feature: index - 1 });
    }
  }
  return steps;
}

export function buildAutoencoder(
  config: ModelConfig,
  layers: { encoder: LayerSpec[]; decoder: 'mirror' | LayerSpec[] },
  inputShape: Shape,
  seed: number,
  options: { classes?: number } = {},
): Autoencoder {
  const init = new Initializers(config.init, seed);
  const noise: NoiseContext = { seed: 0 };
  const variational = isVariational(config.kind);
  const classes = config.kind === 'cvae' ? (options.classes ?? 0) : 0;
  if (config.kind === 'cvae' && classes < 2) throw new ModelError('a cvae needs a dataset with at least two classes (labels) to condition on', 'kind');
  if (config.kind === 'masked-ae' && (inputShape[0] % config.patch !== 0 || inputShape[1] % config.patch !== 0)) {
    throw new ModelError(`patch ${config.patch} does not divide the ${inputShape[0]}×${inputShape[1]} image: pick a divisor of both`, 'patch');
  }
  const codeSize = variational ? 2 * config.latent : config.latent;
  const mirror = layers.decoder === 'mirror';
  const decoderSteps: DecoderStep[] = mirror ? mirrorLayers(layers.encoder, inputShape, { upsample: config.upsample, skips: config.skips }) : layers.decoder as LayerSpec[];
  const skipFeatures = decoderSteps.filter((step): step is { type: 'skip'; feature: number } => step.type === 'skip').map((step) => step.feature);

  // Encoder.
  const encoderContext: BuildContext = { init, noise, part: 'encoder', dropouts: { count: 0 } };
  const image = tfl.input({ shape: [...inputShape], name: 'image' });
  const label = classes > 0 ? tfl.input({ shape: [classes], name: 'label' }) : undefined;
  const conditionAtInput = label !== undefined && layers.encoder[0]?.type === 'dense';
  let h: SymbolicTensor = image;
  if (conditionAtInput) h = tfl.layers.concatenate().apply([tfl.layers.flatten().apply(image) as SymbolicTensor, label!]) as SymbolicTensor;
  const blockOutputs: SymbolicTensor[] = [];
  const blocks = blocksOf(layers.encoder);
  for (const block of blocks) {
    for (const spec of [...(block.main ? [block.main] : []), ...block.attachments]) h = applyLayer(spec, h, encoderContext);
    blockOutputs.push(h);
  }
  if (h.shape.length > 2) h = tfl.layers.flatten().apply(h) as SymbolicTensor;
  // A conv encoder takes the label beside its flattened features, where it can be concatenated.
  if (label && !conditionAtInput) h = tfl.layers.concatenate().apply([h, label]) as SymbolicTensor;
  const codeActivation = variational ? 'linear' : config.code_activation;
  const code = tfl.layers.dense({ units: codeSize, activation: codeActivation, ...init.for(size(h.shape)), name: 'code' }).apply(h) as SymbolicTensor;
  const encoder = tfl.model({ inputs: label ? [image, label] : [image], outputs: [code, ...skipFeatures.map((feature) => blockOutputs[feature])], name: 'encoder' });

  // Decoder.
  const decoderContext: BuildContext = { init, noise, part: 'decoder', dropouts: { count: encoderContext.dropouts.count } };
  const z = tfl.input({ shape: [config.latent], name: 'z' });
  const decoderLabel = classes > 0 ? tfl.input({ shape: [classes], name: 'label' }) : undefined;
  const skipInputs = skipFeatures.map((feature, index) => tfl.input({ shape: blockOutputs[feature].shape.slice(1) as number[], name: `skip_${index}` }));
  let d: SymbolicTensor = decoderLabel ? tfl.layers.concatenate().apply([z, decoderLabel]) as SymbolicTensor : z;
  let skipIndex = 0;
  for (const step of decoderSteps) {
    if (step.type === 'skip') d = tfl.layers.concatenate().apply([d, skipInputs[skipIndex++]]) as SymbolicTensor;
    else d = applyLayer(step, d, decoderContext);
  }
  const outputSize = inputShape[0] * inputShape[1] * inputShape[2];
  if (!mirror || d.shape.length === 2) {
    // The output layer, added for explicit decoders (and mirrors of dense-only encoders).
    if (d.shape.length === 2) {
      d = tfl.layers.dense({ units: outputSize, ...init.for(size(d.shape)) }).apply(d) as SymbolicTensor;
      d = tfl.layers.reshape({ targetShape: inputShape }).apply(d) as SymbolicTensor;
    } else {
      d = tfl.layers.conv2d({ filters: inputShape[2], kernelSize: 3, padding: 'same', ...init.for(9 * d.shape[3]!) }).apply(d) as SymbolicTensor;
    }
  }
  const decoded = d.shape;
  if (decoded.length !== 4 || decoded[1] !== inputShape[0] || decoded[2] !== inputShape[1] || decoded[3] !== inputShape[2]) {
    throw new ModelError(
      `the decoder produces ${decoded.slice(1).join('×')} but the input is ${inputShape.join('×')}: ${mirror ? 'strided layers whose stride does not divide the image size cannot be mirrored exactly; use strides that divide it or write the decoder out' : 'change the decoder layers so that they end at the input\'s height and width'}`,
      mirror ? 'encoder' : 'decoder',
    );
  }
  const decoder = tfl.model({ inputs: [z, ...(decoderLabel ? [decoderLabel] : []), ...skipInputs], outputs: d, name: 'decoder' });
  const maskToken = config.kind === 'masked-ae' ? tf.variable(tf.zeros([inputShape[2]]), true, `mask_token_${seed}_${Math.random().toString(36).slice(2)}`) : undefined;
  return {
    config,
    kind: config.kind,
    variational,
    latent: config.latent,
    inputShape,
    likelihood: config.likelihood,
    sigma: config.sigma,
    classes,
    skipCount: skipFeatures.length,
    encoder,
    decoder,
    maskToken,
    noise,
  };
}

function describe(layer: tfl.layers.Layer): string {
  const config = layer.getConfig();
  const detail = [
    config.units,
    config.filters,
    config.kernelSize ? `k${String(config.kernelSize).split(',')[0]}` : undefined,
    config.strides && String(config.strides) !== '1,1' ? `s${String(config.strides).split(',')[0]}` : undefined,
    config.size && layer.getClassName() === 'UpSampling2D' ? `×${String(config.size).split(',')[0]} ${String(config.interpolation)}` : undefined,
    config.rate,
    config.activation && config.activation !== 'linear' ? config.activation : undefined,
  ].filter((value) => value !== undefined).join(' ');
  return `${layer.getClassName()}${detail ? ` ${detail}` : ''}`;
}

export function summarize(model: Autoencoder): SummaryRow[] {
  const rows: SummaryRow[] = [];
  for (const [part, network] of [['encoder', model.encoder], ['decoder', model.decoder]] as const) {
    for (const layer of network.layers) {
      if (layer.getClassName() === 'InputLayer') continue;
      const shape = layer.outputShape as (number | null)[] | (number | null)[][];
      rows.push({ part, layer: describe(layer), outputShape: Array.isArray(shape[0]) ? (shape[0] as (number | null)[]) : (shape as (number | null)[]), parameters: layer.countParams() });
    }
  }
  if (model.maskToken) rows.push({ part: 'mask token', layer: 'learned value per channel', outputShape: [...model.maskToken.shape], parameters: model.maskToken.size });
  return rows;
}

function kindDescription(model: Autoencoder): string {
  const { config } = model;
  switch (config.kind) {
    case 'sparse-ae': return `sparse-ae (L1 weight ${config.sparsity} on the code)`;
    case 'denoising-ae': return `denoising-ae (${config.corruption} corruption ${config.noise})`;
    case 'masked-ae': return `masked-ae (SimMIM-style: ${Math.round(config.mask_ratio * 100)}% of ${config.patch}×${config.patch} patches replaced by a learned token, loss on masked patches only)`;
    case 'beta-vae': return config.capacity ? `beta-vae (capacity annealing to ${config.capacity.max} nats, γ ${config.capacity.gamma})` : `beta-vae (β ${config.beta})`;
    case 'cvae': return `cvae (conditioned on ${model.classes} classes)`;
    default: return config.kind;
  }
}

export function formatSummary(model: Autoencoder): string {
  const rows = summarize(model);
  const lines = rows.map((row) => [row.part, row.layer, `[${row.outputShape.map((value) => value ?? 'b').join(', ')}]`, row.parameters.toLocaleString('en-US')]);
  const header = ['part', 'layer', 'output shape', 'parameters'];
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column].length)));
  const format = (line: string[]) => line.map((cell, column) => (column === 3 ? cell.padStart(widths[column]) : cell.padEnd(widths[column]))).join('  ');
  const total = parameterCount(model).toLocaleString('en-US');
  const skips = model.skipCount > 0 ? `, ${model.skipCount} U-Net skip connection${model.skipCount > 1 ? 's' : ''}` : '';
  return [format(header), ...lines.map(format), `${kindDescription(model)}, ${model.latent}-d code, ${model.likelihood} likelihood${skips}: ${total} parameters`].join('\n');
}

export function disposeAutoencoder(model: Autoencoder): void {
  model.encoder.dispose();
  model.decoder.dispose();
  model.maskToken?.dispose();
}
