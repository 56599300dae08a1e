/**
 * The compact layer notation of `encoder:` and `decoder:` lists:
 *   dense 400 relu          a fully connected layer
 *   conv 32 k4 s2 relu      a convolution: filters, kernel size, stride ('same' padding)
 *   deconv 32 k4 s2 relu    a transposed convolution
 *   upsample 2 bilinear     interpolation by a factor (nearest or bilinear); follow it with a conv
 *   pool 2                  max pooling (window = stride = 2)
 *   residual 64 k3 relu     two convolutions with an identity (or 1×1 projection) shortcut
 *   batchnorm relu          batch normalization, then an optional activation
 *   dropout 0.2             dropout with this rate while training
 *   reshape 7x7x64          a vector to an image (for explicit conv decoders)
 */
import { distance } from 'fastest-levenshtein';

export const ACTIVATIONS = ['relu', 'leaky_relu', 'elu', 'selu', 'tanh', 'sigmoid', 'softplus', 'linear'] as const;
export type Activation = (typeof ACTIVATIONS)[number];
export const LAYER_TYPES = ['dense', 'conv', 'deconv', 'upsample', 'pool', 'residual', 'batchnorm', 'dropout', 'reshape'] as const;
export const INTERPOLATIONS = ['nearest', 'bilinear'] as const;
export type Interpolation = (typeof INTERPOLATIONS)[number];

export type LayerSpec =
  | { type: 'dense'; units: number; activation: Activation }
  | { type: 'conv' | 'deconv'; filters: number; kernel: number; stride: number; activation: Activation }
  | { type: 'residual'; filters: number; kernel: number; activation: Activation }
  | { type: 'upsample'; factor: number; interpolation: Interpolation }
  | { type: 'pool'; size: number }
  | { type: 'batchnorm'; activation: Activation }
  | { type: 'dropout'; rate: number }
  | { type: 'reshape'; shape: [number, number, number] };

export interface LayerError {
  message: string;
  /** Character offset of the offending token inside the layer string. */
  offset: number;
  length: number;
  fix?: string;
}

export function nearest(word: string, candidates: readonly string[], maxDistance = 2): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = distance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return bestDistance <= Math.min(maxDistance, Math.max(1, Math.floor(word.length / 2))) ? best : undefined;
}

function suggestion(word: string, candidates: readonly string[]): { text: string; fix?: string } {
  const near = nearest(word, candidates);
  return near ? { text: `; did you mean \`${near}\`?`, fix: near } : { text: `; expected one of ${candidates.join(', ')}` };
}

const EXAMPLES: Record<(typeof LAYER_TYPES)[number], string> = {
  dense: 'dense 400 relu',
  conv: 'conv 32 k4 s2 relu',
  deconv: 'deconv 32 k4 s2 relu',
  upsample: 'upsample 2 bilinear',
  pool: 'pool 2',
  residual: 'residual 64 k3 relu',
  batchnorm: 'batchnorm relu',
  dropout: 'dropout 0.2',
  reshape: 'reshape 7x7x64',
};

type Token = { text: string; offset: number };

export function parseLayer(source: string): LayerSpec | LayerError {
  const tokens: Token[] = [];
  for (const match of source.matchAll(/\S+/g)) tokens.push({ text: match[0], offset: match.index });
  if (tokens.length === 0) return { message: 'empty layer: write e.g. "dense 400 relu"', offset: 0, length: source.length };
  const [head, ...rest] = tokens;
  if (!(LAYER_TYPES as readonly string[]).includes(head.text)) {
    const hint = suggestion(head.text, LAYER_TYPES);
    return { message: `unknown layer \`${head.text}\`${hint.text}`, offset: head.offset, length: head.text.length, fix: hint.fix };
  }
  const type = head.text as (typeof LAYER_TYPES)[number];
  const missing = (what: string, token?: Token): LayerError => ({
    message: `\`${type}\` needs ${what} after it, e.g. "${EXAMPLES[type]}"`,
    offset: token?.offset ?? head.offset,
    length: token?.text.length ?? head.text.length,
  });
  const unexpected = (token: Token, allowed: readonly string[], vocabulary: readonly string[]): LayerError => {
    const hint = suggestion(token.text, vocabulary);
    return { message: `unexpected \`${token.text}\` in a ${type} layer${hint.fix ? hint.text : `; expected ${allowed.length > 0 ? allowed.join(', ') : 'nothing more'}`}`, offset: token.offset, length: token.text.length, fix: hint.fix };
  };

  if (type === 'reshape') {
    const shape = rest.length === 1 ? /^([1-9]\d*)x([1-9]\d*)x([1-9]\d*)$/.exec(rest[0].text) : null;
    if (!shape) return { message: '`reshape` needs one height×width×channels shape, e.g. "reshape 7x7x64"', offset: rest[0]?.offset ?? head.offset, length: rest[0]?.text.length ?? head.text.length };
    return { type: 'reshape', shape: [Number(shape[1]), Number(shape[2]), Number(shape[3])] };
  }
  if (type === 'dropout') {
    const rate = rest[0];
    if (!rate || !/^(0?\.\d+|0)$/.test(rate.text) || Number(rate.text) <= 0 || Number(rate.text) >= 1) return missing('a rate between 0 and 1 (exclusive)', rate);
    if (rest.length > 1) return unexpected(rest[1], [], []);
    return { type: 'dropout', rate: Number(rate.text) };
  }
  if (type === 'batchnorm') {
    let activation: Activation = 'linear';
    for (const [index, token] of rest.entries()) {
      if (index === 0 && (ACTIVATIONS as readonly string[]).includes(token.text)) activation = token.text as Activation;
      else return unexpected(token, index === 0 ? ACTIVATIONS : [], ACTIVATIONS);
    }
    return { type: 'batchnorm', activation };
  }

  const size = rest.shift();
  if (!size || !/^[1-9]\d*$/.test(size.text)) {
    const what = type === 'dense' ? 'units' : type === 'upsample' ? 'factor' : type === 'pool' ? 'window size' : 'filters';
    return missing(`a positive whole number (${what})`, size);
  }
  const count = Number(size.text);
  if (type === 'pool') {
    if (rest.length > 0) return unexpected(rest[0], [], []);
    return { type: 'pool', size: count };
  }
  if (type === 'upsample') {
    let interpolation: Interpolation = 'nearest';
    for (const [index, token] of rest.entries()) {
      if (index === 0 && (INTERPOLATIONS as readonly string[]).includes(token.text)) interpolation = token.text as Interpolation;
      else return unexpected(token, index === 0 ? INTERPOLATIONS : [], INTERPOLATIONS);
    }
    return { type: 'upsample', factor: count, interpolation };
  }

  let activation: Activation = type === 'residual' ? 'relu' : 'linear';
  let kernel = 3;
  let stride = 1;
  let sawActivation = false;
  const options = type === 'dense' ? '' : type === 'residual' ? 'k' : 'ks';
  for (const token of rest) {
    const option = /^([ks])([1-9]\d*)$/.exec(token.text);
    if (option && options.includes(option[1])) {
      if (option[1] === 'k') kernel = Number(option[2]);
      else stride = Number(option[2]);
      continue;
    }
    if ((ACTIVATIONS as readonly string[]).includes(token.text) && !sawActivation) {
      activation = token.text as Activation;
      sawActivation = true;
      continue;
    }
    const allowed = [...ACTIVATIONS, ...(options.includes('k') ? ['k<kernel>'] : []), ...(options.includes('s') ? ['s<stride>'] : [])];
    return unexpected(token, allowed, ACTIVATIONS);
  }
  if (type === 'dense') return { type: 'dense', units: count, activation };
  if (type === 'residual') return { type: 'residual', filters: count, kernel, activation };
  return { type, filters: count, kernel, stride, activation };
}

export function isLayerError(value: LayerSpec | LayerError): value is LayerError {
  return 'message' in value;
}

function withActivation(text: string, activation: Activation): string {
  return activation === 'linear' ? text : `${text} ${activation}`;
}

export function formatLayer(layer: LayerSpec): string {
  switch (layer.type) {
    case 'reshape': return `reshape ${layer.shape.join('x')}`;
    case 'dense': return withActivation(`dense ${layer.units}`, layer.activation);
    case 'residual': return withActivation(`residual ${layer.filters} k${layer.kernel}`, layer.activation);
    case 'upsample': return `upsample ${layer.factor} ${layer.interpolation}`;
    case 'pool': return `pool ${layer.size}`;
    case 'batchnorm': return withActivation('batchnorm', layer.activation);
    case 'dropout': return `dropout ${layer.rate}`;
    default: return withActivation(`${layer.type} ${layer.filters} k${layer.kernel} s${layer.stride}`, layer.activation);
  }
}
