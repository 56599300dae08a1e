/**
 * Builds encoder and decoder networks from the model cell. Pure and backend-agnostic: TF.js
 * layers only; the caller picks the backend. Each model kind adds its loss in losses.ts.
 */
import type * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerSpec } from '../format/layers';
import { formatLayer } from '../format/layers';
import type { ModelConfig } from '../format/schema';

export type Shape = [number, number, number];

export class ModelError extends Error {
  override name = 'ModelError';
  /** The model-cell key the problem belongs to, for locating it. */
  constructor(message: string, readonly key: 'encoder' | 'decoder' | 'latent') {
    super(message);
  }
}

export interface SummaryRow {
  part: 'encoder' | 'decoder';
  layer: string;
  outputShape: (number | null)[];
  parameters: number;
}

export interface Autoencoder {
  kind: ModelConfig['kind'];
  latent: number;
  inputShape: Shape;
  likelihood: ModelConfig['likelihood'];
  sigma: number;
  /** x [b, h, w, c] → code [b, latent] (ae) or [μ, log σ²] concatenated [b, 2·latent] (vae). */
  encoder: tfl.LayersModel;
  /** z [b, latent] → logits (bernoulli) or means (gaussian), [b, h, w, c]. */
  decoder: tfl.LayersModel;
}

/** Trainable variables in a fixed order: encoder then decoder, each in layer order. */
export function trainableVariables(model: Autoencoder): tf.Variable[] {
  return [...model.encoder.trainableWeights, ...model.decoder.trainableWeights].map((weight) => weight.read() as tf.Variable);
}

/** All weights (trainable or not) in a fixed order, for checkpoints. */
export function allWeights(model: Autoencoder): tfl.LayerVariable[] {
  return [...model.encoder.weights, ...model.decoder.weights];
}

export function parameterCount(model: Autoencoder): number {
  return model.encoder.countParams() + model.decoder.countParams();
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
function activationOf(spec: LayerSpec): ActivationName {
  if (!('activation' in spec) || spec.activation === 'leaky_relu') return 'linear';
  return spec.activation as ActivationName;
}

/** Appends a layer spec to a list of TF.js layers, tracking the current output shape. */
function appendLayer(list: tfl.layers.Layer[], spec: LayerSpec, shape: (number | null)[], init: Initializers, first: number[] | undefined, part: 'encoder' | 'decoder'): (number | null)[] {
  const inputShape = first ? { inputShape: first } : {};
  const activation = activationOf(spec);
  const leaky = 'activation' in spec && spec.activation === 'leaky_relu';
  switch (spec.type) {
    case 'dense': {
      if (shape.length > 2) {
        list.push(tfl.layers.flatten(inputShape));
        shape = [null, size(shape)];
        list.push(tfl.layers.dense({ units: spec.units, activation, ...init.for(shape[1]!) }));
      } else {
        list.push(tfl.layers.dense({ units: spec.units, activation, ...init.for(shape[1]!), ...inputShape }));
      }
      shape = [null, spec.units];
      break;
    }
    case 'conv':
    case 'deconv': {
      if (shape.length !== 4) {
        throw new ModelError(`\`${formatLayer(spec)}\` needs an image, but the ${part} has a vector of ${shape[1]} here: put \`reshape HxWxC\` before it`, part);
      }
      const channels = shape[3]!;
      const options = { filters: spec.filters, kernelSize: spec.kernel, strides: spec.stride, padding: 'same' as const, activation, ...inputShape };
      if (spec.type === 'conv') {
        list.push(tfl.layers.conv2d({ ...options, ...init.for(spec.kernel * spec.kernel * channels) }));
        shape = [null, Math.ceil(shape[1]! / spec.stride), Math.ceil(shape[2]! / spec.stride), spec.filters];
      } else {
        list.push(tfl.layers.conv2dTranspose({ ...options, ...init.for(spec.kernel * spec.kernel * spec.filters) }));
        shape = [null, shape[1]! * spec.stride, shape[2]! * spec.stride, spec.filters];
      }
      break;
    }
    case 'reshape': {
      if (size(shape) !== spec.shape[0] * spec.shape[1] * spec.shape[2]) {
        throw new ModelError(`\`${formatLayer(spec)}\` holds ${spec.shape[0] * spec.shape[1] * spec.shape[2]} values, but the ${part} has ${size(shape)} here`, part);
      }
      list.push(tfl.layers.reshape({ targetShape: spec.shape, ...inputShape }));
      shape = [null, ...spec.shape];
      break;
    }
  }
  if (leaky) list.push(tfl.layers.leakyReLU({ alpha: 0.2 }));
  return shape;
}

/** The decoder that mirrors the encoder: each layer mapped back from its output to its input shape. */
export function mirrorLayers(encoder: LayerSpec[], inputShape: Shape): LayerSpec[] {
  const shapes: (number | null)[][] = [[null, ...inputShape]];
  const flattened: boolean[] = [];
  let shape: (number | null)[] = [null, ...inputShape];
  for (const spec of encoder) {
    flattened.push(spec.type === 'dense' && shape.length > 2);
    if (spec.type === 'dense') shape = [null, spec.units];
    else if (spec.type === 'conv') shape = [null, Math.ceil(shape[1]! / spec.stride), Math.ceil(shape[2]! / spec.stride), spec.filters];
    else if (spec.type === 'deconv') shape = [null, shape[1]! * spec.stride, shape[2]! * spec.stride, spec.filters];
    else shape = [null, ...(spec as { shape: Shape }).shape];
    shapes.push(shape);
  }
  const hiddenActivation = (spec: LayerSpec | undefined) => (spec && 'activation' in spec ? spec.activation : 'relu');
  const last = shapes[shapes.length - 1];
  const mirrored: LayerSpec[] = [{ type: 'dense', units: size(last), activation: hiddenActivation(encoder[encoder.length - 1]) }];
  if (last.length === 4) mirrored.push({ type: 'reshape', shape: [last[1]!, last[2]!, last[3]!] });
  for (let index = encoder.length - 1; index >= 0; index--) {
    const spec = encoder[index];
    const target = shapes[index];
    // The mirror of the first layer produces the output, so it is linear (logits or means).
    const activation = index === 0 ? 'linear' : hiddenActivation(encoder[index - 1]);
    if (spec.type === 'dense') {
      if (index === 0) break;
      if (flattened[index]) {
        mirrored.push({ type: 'dense', units: size(target), activation });
        mirrored.push({ type: 'reshape', shape: [target[1]!, target[2]!, target[3]!] });
      } else mirrored.push({ type: 'dense', units: target[1]!, activation });
    } else if (spec.type === 'conv') {
      mirrored.push({ type: 'deconv', filters: target[3]!, kernel: spec.kernel, stride: spec.stride, activation });
    } else if (spec.type === 'deconv') {
      mirrored.push({ type: 'conv', filters: target[3]!, kernel: spec.kernel, stride: spec.stride, activation });
    } else {
      mirrored.push({ type: 'reshape', shape: target.length === 4 ? [target[1]!, target[2]!, target[3]!] : [target[1]!, 1, 1] });
    }
  }
  return mirrored;
}

export function buildAutoencoder(config: ModelConfig, layers: { encoder: LayerSpec[]; decoder: 'mirror' | LayerSpec[] }, inputShape: Shape, seed: number): Autoencoder {
  const init = new Initializers(config.init, seed);
  const codeSize = config.kind === 'vae' ? 2 * config.latent : config.latent;

  const encoderLayers: tfl.layers.Layer[] = [];
  let shape: (number | null)[] = [null, ...inputShape];
  layers.encoder.forEach((spec, index) => {
    shape = appendLayer(encoderLayers, spec, shape, init, index === 0 ? inputShape : undefined, 'encoder');
  });
  if (shape.length > 2) encoderLayers.push(tfl.layers.flatten());
  encoderLayers.push(tfl.layers.dense({ units: codeSize, ...init.for(size(shape)) }));

  const decoderSpecs = layers.decoder === 'mirror' ? mirrorLayers(layers.encoder, inputShape) : layers.decoder;
  const decoderLayers: tfl.layers.Layer[] = [];
  let decoded: (number | null)[] = [null, config.latent];
  decoderSpecs.forEach((spec, index) => {
    decoded = appendLayer(decoderLayers, spec, decoded, init, index === 0 ? [config.latent] : undefined, 'decoder');
  });
  const outputSize = inputShape[0] * inputShape[1] * inputShape[2];
  if (layers.decoder !== 'mirror' || decoded.length === 2) {
    // The output layer, added for explicit decoders (and mirrors of dense-only encoders).
    if (decoded.length === 2) {
      if (decoderLayers.length === 0) decoderLayers.push(tfl.layers.dense({ units: outputSize, ...init.for(config.latent), inputShape: [config.latent] }));
      else decoderLayers.push(tfl.layers.dense({ units: outputSize, ...init.for(decoded[1]!) }));
      decoderLayers.push(tfl.layers.reshape({ targetShape: inputShape }));
      decoded = [null, ...inputShape];
    } else if (layers.decoder !== 'mirror') {
      decoderLayers.push(tfl.layers.conv2d({ filters: inputShape[2], kernelSize: 3, padding: 'same', ...init.for(9 * decoded[3]!) }));
      decoded = [null, decoded[1], decoded[2], inputShape[2]];
    }
  }
  if (decoded.length !== 4 || decoded[1] !== inputShape[0] || decoded[2] !== inputShape[1] || decoded[3] !== inputShape[2]) {
    throw new ModelError(
      `the decoder produces ${decoded.slice(1).join('×')} but the input is ${inputShape.join('×')}: ${layers.decoder === 'mirror' ? 'strided layers whose stride does not divide the image size cannot be mirrored exactly; use strides that divide it or write the decoder out' : 'change the decoder layers so that they end at the input\'s height and width'}`,
      layers.decoder === 'mirror' ? 'encoder' : 'decoder',
    );
  }
  const encoder = tfl.sequential({ layers: encoderLayers });
  const decoder = tfl.sequential({ layers: decoderLayers });
  return { kind: config.kind, latent: config.latent, inputShape, likelihood: config.likelihood, sigma: config.sigma, encoder, decoder };
}

export function summarize(model: Autoencoder): SummaryRow[] {
  const rows: SummaryRow[] = [];
  for (const [part, network] of [['encoder', model.encoder], ['decoder', model.decoder]] as const) {
    for (const layer of network.layers) {
      const config = layer.getConfig();
      const detail = [config.units, config.filters, config.kernelSize ? `k${String(config.kernelSize).split(',')[0]}` : undefined, config.strides && String(config.strides) !== '1,1' ? `s${String(config.strides).split(',')[0]}` : undefined, config.activation && config.activation !== 'linear' ? config.activation : undefined]
        .filter((value) => value !== undefined)
        .join(' ');
      rows.push({ part, layer: `${layer.getClassName()}${detail ? ` ${detail}` : ''}`, outputShape: layer.outputShape as (number | null)[], parameters: layer.countParams() });
    }
  }
  return rows;
}

export function formatSummary(model: Autoencoder): string {
  const rows = summarize(model);
  const lines = rows.map((row) => [row.part, row.layer, `[${row.outputShape.map((value) => value ?? 'b').join(', ')}]`, row.parameters.toLocaleString('en-US')]);
  const header = ['part', 'layer', 'output shape', 'parameters'];
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column].length)));
  const format = (line: string[]) => line.map((cell, column) => (column === 3 ? cell.padStart(widths[column]) : cell.padEnd(widths[column]))).join('  ');
  const total = parameterCount(model).toLocaleString('en-US');
  return [format(header), ...lines.map(format), `${model.kind} with a ${model.latent}-d code, ${model.likelihood} likelihood: ${total} parameters`].join('\n');
}

export function disposeAutoencoder(model: Autoencoder): void {
  model.encoder.dispose();
  model.decoder.dispose();
}
