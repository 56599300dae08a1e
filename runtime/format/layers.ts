/**
 * The compact layer notation of `encoder:` and `decoder:` lists:
 *   dense 400 relu          a fully connected layer
 *   conv 32 k4 s2 relu      a convolution: filters, kernel size, stride ('same' padding)
 *   deconv 32 k4 s2 relu    a transposed convolution
 *   reshape 7x7x64          a vector to an image (for explicit conv decoders)
 */
import { distance } from 'fastest-levenshtein';

export const ACTIVATIONS = ['relu', 'leaky_relu', 'elu', 'selu', 'tanh', 'sigmoid', 'softplus', 'linear'] as const;
export type Activation = (typeof ACTIVATIONS)[number];
export const LAYER_TYPES = ['dense', 'conv', 'deconv', 'reshape'] as const;

export type LayerSpec =
  | { type: 'dense'; units: number; activation: Activation }
  | { type: 'conv' | 'deconv'; filters: number; kernel: number; stride: number; activation: Activation }
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

export function parseLayer(source: string): LayerSpec | LayerError {
  const tokens: { text: string; offset: number }[] = [];
  for (const match of source.matchAll(/\S+/g)) tokens.push({ text: match[0], offset: match.index });
  if (tokens.length === 0) return { message: 'empty layer: write e.g. "dense 400 relu"', offset: 0, length: source.length };
  const [head, ...rest] = tokens;
  if (!(LAYER_TYPES as readonly string[]).includes(head.text)) {
    const hint = suggestion(head.text, LAYER_TYPES);
    return { message: `unknown layer \`${head.text}\`${hint.text}`, offset: head.offset, length: head.text.length, fix: hint.fix };
  }
  if (head.text === 'reshape') {
    const shape = rest.length === 1 ? /^([1-9]\d*)x([1-9]\d*)x([1-9]\d*)$/.exec(rest[0].text) : null;
    if (!shape) return { message: '`reshape` needs one height×width×channels shape, e.g. "reshape 7x7x64"', offset: rest[0]?.offset ?? head.offset, length: rest[0]?.text.length ?? head.text.length };
    return { type: 'reshape', shape: [Number(shape[1]), Number(shape[2]), Number(shape[3])] };
  }
  const size = rest.shift();
  if (!size || !/^[1-9]\d*$/.test(size.text)) {
    const what = head.text === 'dense' ? 'units' : 'filters';
    return { message: `\`${head.text}\` needs a positive whole number of ${what} after it, e.g. "${head.text === 'dense' ? 'dense 400 relu' : `${head.text} 32 k4 s2 relu`}"`, offset: size?.offset ?? head.offset, length: size?.text.length ?? head.text.length };
  }
  let activation: Activation = 'linear';
  let kernel = 3;
  let stride = 1;
  let sawActivation = false;
  for (const token of rest) {
    const option = /^([ks])([1-9]\d*)$/.exec(token.text);
    if (option && head.text !== 'dense') {
      if (option[1] === 'k') kernel = Number(option[2]);
      else stride = Number(option[2]);
      continue;
    }
    if ((ACTIVATIONS as readonly string[]).includes(token.text) && !sawActivation) {
      activation = token.text as Activation;
      sawActivation = true;
      continue;
    }
    const allowed = head.text === 'dense' ? [...ACTIVATIONS] : [...ACTIVATIONS, 'k<kernel>', 's<stride>'];
    const hint = suggestion(token.text, ACTIVATIONS);
    return {
      message: `unexpected \`${token.text}\` in a ${head.text} layer${hint.fix ? hint.text : `; expected ${allowed.join(', ')}`}`,
      offset: token.offset,
      length: token.text.length,
      fix: hint.fix,
    };
  }
  const count = Number(size.text);
  if (head.text === 'dense') return { type: 'dense', units: count, activation };
  return { type: head.text as 'conv' | 'deconv', filters: count, kernel, stride, activation };
}

export function isLayerError(value: LayerSpec | LayerError): value is LayerError {
  return 'message' in value;
}

export function formatLayer(layer: LayerSpec): string {
  if (layer.type === 'reshape') return `reshape ${layer.shape.join('x')}`;
  if (layer.type === 'dense') return `dense ${layer.units}${layer.activation === 'linear' ? '' : ` ${layer.activation}`}`;
  return `${layer.type} ${layer.filters} k${layer.kernel} s${layer.stride}${layer.activation === 'linear' ? '' : ` ${layer.activation}`}`;
}
