/**
 * The `native` backend: TF.js's `cpu` backend with its hot kernels replaced by the native addon
 * (BLAS GEMM, im2col convolutions, elementwise ops, reductions) and a fused optimizer update.
 * Every other kernel is the stock cpu kernel, and every override hands anything it does not cover
 * (other dtypes, layouts, activations) back to the stock kernel.
 *
 * Output buffers are recycled: when a tensor's data is freed, its Float32Array goes back to a pool
 * for the next output of the same length, unless the array may be visible outside the backend.
 * Arrays escape through read/readSync/bufferSync (dataSync(), data(), arraySync()…); arrays share
 * memory with views that stock kernels make (a contiguous slice is a subarray); arrays handed in by
 * user code (tf.tensor(values)) are not ours. None of those is ever recycled.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DataType, KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { NativeAddon } from './addon';
import { BERNOULLI_NLL, BERNOULLI_NLL_GRADIENT } from '../../model/fused';

export const NATIVE_BACKEND = 'native';

/** Pooled bytes are capped, so that a model that changes shapes does not hoard memory. */
const POOL_LIMIT_BYTES = 512 * 1024 * 1024;

type DataId = object;

export class NativeBackend extends MathBackendCPU {
  /** Arrays this backend allocated for kernel outputs: the only ones it may recycle. */
  private readonly owned = new WeakSet<Float32Array>();
  /** Memory that something outside a tensor's own lifetime may still read. */
  private readonly exposed = new WeakSet<ArrayBufferLike>();
  private readonly pool = new Map<number, Float32Array[]>();
  private pooledBytes = 0;
  /** For tests and benchmarks: arrays handed out again from the pool, and arrays newly allocated. */
  recycled = 0;
  allocated = 0;

  constructor(readonly addon: NativeAddon) {
    super();
  }

  /** An output array of `length` floats, from the pool when one is free; its contents are stale. */
  allocate(length: number): Float32Array {
    const free = this.pool.get(length);
    const reused = free?.pop();
    if (reused) {
      this.pooledBytes -= reused.byteLength;
      this.recycled++;
      return reused;
    }
    const array = new Float32Array(length);
    this.allocated++;
    this.owned.add(array);
    return array;
  }

  /** A float32 tensor whose values the caller fills in. */
  output(shape: number[]): { info: TensorInfo; values: Float32Array } {
    const values = this.allocate(tf.util.sizeFromShape(shape));
    return { info: { dataId: this.write(values, shape, 'float32'), shape, dtype: 'float32' }, values };
  }

  /**
   * A float32 tensor's values. The stock Cast from bool or int32 to float32 keeps the input's
   * Uint8Array or Int32Array and only relabels it (no precision is lost), so those are converted.
   */
  values(info: TensorInfo): Float32Array {
    const values = this.data.get(info.dataId)!.values;
    return values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
  }

  /** Marks memory as visible outside this backend: it is never recycled. */
  expose(values: unknown): void {
    if (ArrayBuffer.isView(values)) this.exposed.add(values.buffer);
  }

  isExposed(values: Float32Array): boolean {
    return this.exposed.has(values.buffer) || !this.owned.has(values);
  }

  override readSync(dataId: DataId): ReturnType<MathBackendCPU['readSync']> {
    const values = super.readSync(dataId);
    this.expose(values);
    return values;
  }

  override async read(dataId: DataId): ReturnType<MathBackendCPU['read']> {
    const values = await super.read(dataId);
    this.expose(values);
    return values;
  }

  override bufferSync<R extends tf.Rank, D extends DataType>(info: TensorInfo): tf.TensorBuffer<R, D> {
    const buffer = super.bufferSync<R, D>(info);
    this.expose(buffer.values);
    return buffer;
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const values = this.data.get(dataId)?.values;
    const released = super.disposeData(dataId, force);
    if (released && values instanceof Float32Array && !this.isExposed(values) && this.pooledBytes + values.byteLength <= POOL_LIMIT_BYTES) {
      const list = this.pool.get(values.length) ?? [];
      list.push(values);
      this.pool.set(values.length, list);
      this.pooledBytes += values.byteLength;
    }
    return released;
  }

  /**
   * A writable array for a variable or optimizer slot that a fused update changes in place: its
   * own when nothing else can see it, otherwise a fresh copy that replaces it (copy on write).
   */
  writable(info: TensorInfo): Float32Array | undefined {
    const entry = this.data.get(info.dataId);
    if (!entry || !(entry.values instanceof Float32Array) || entry.dtype !== 'float32') return undefined;
    if (entry.refCount === 1 && !this.isExposed(entry.values)) return entry.values;
    if (entry.refCount !== 1) return undefined;
    const copy = this.allocate(entry.values.length);
    copy.set(entry.values);
    entry.values = copy;
    return copy;
  }

  override dispose(): void {
    this.pool.clear();
    this.pooledBytes = 0;
    super.dispose();
  }
}

// ---- kernels -----------------------------------------------------------------------------------

type Inputs = Record<string, TensorInfo | undefined>;
interface KernelArgs {
  inputs: Inputs;
  backend: NativeBackend;
  attrs?: NamedAttrMap;
}

const UNARY: Record<string, number> = { Neg: 0, Exp: 1, Log: 2, Log1p: 3, Sqrt: 4, Rsqrt: 5, Square: 6, Abs: 7, Relu: 8, Sigmoid: 9, Softplus: 10, Tanh: 11, Step: 12, Reciprocal: 13 };
const BINARY: Record<string, number> = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3, Maximum: 4, Minimum: 5, SquaredDifference: 6 };
const REDUCE: Record<string, number> = { Sum: 0, Mean: 1, Max: 2, Min: 3 };

function isFloat(...infos: (TensorInfo | undefined)[]): boolean {
  return infos.every((info) => info !== undefined && info.dtype === 'float32');
}

function contiguousStrides(shape: number[]): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    strides[axis] = stride;
    stride *= shape[axis];
  }
  return strides;
}

interface BroadcastLayout {
  shape: Int32Array;
  stridesA: Int32Array;
  stridesB: Int32Array;
}

/** A training step asks for the same few layouts every step: each is computed once. */
const layouts = new Map<string, BroadcastLayout>();

/**
 * Broadcast strides of both operands over `shape`, with axes of size 1 dropped and neighbours that
 * move together merged, so that the native loop's innermost row is as long as it can be. The
 * arrays are shared between calls: callers only read them.
 */
export function broadcastLayout(shape: number[], a: number[], b: number[]): BroadcastLayout {
  const key = `${shape}|${a}|${b}`;
  let layout = layouts.get(key);
  if (!layout) {
    if (layouts.size > 4096) layouts.clear();
    layout = computeBroadcastLayout(shape, a, b);
    layouts.set(key, layout);
  }
  return layout;
}

function computeBroadcastLayout(shape: number[], a: number[], b: number[]): BroadcastLayout {
  const rank = shape.length;
  const strides = (operand: number[]) => {
    const padded = [...new Array<number>(rank - operand.length).fill(1), ...operand];
    const contiguous = contiguousStrides(padded);
    return padded.map((size, axis) => (size === 1 ? 0 : contiguous[axis]));
  };
  const sa = strides(a);
  const sb = strides(b);
  const merged: { size: number; a: number; b: number }[] = [];
  for (let axis = 0; axis < rank; axis++) {
    if (shape[axis] === 1) continue;
    const last = merged[merged.length - 1];
    // Two axes merge when, for each operand, stepping the outer one equals stepping the inner one size times.
    if (last && last.a === sa[axis] * shape[axis] && last.b === sb[axis] * shape[axis]) {
      last.size *= shape[axis];
      last.a = sa[axis];
      last.b = sb[axis];
    } else merged.push({ size: shape[axis], a: sa[axis], b: sb[axis] });
  }
  if (merged.length === 0) merged.push({ size: 1, a: 0, b: 0 });
  return { shape: Int32Array.from(merged, (axis) => axis.size), stridesA: Int32Array.from(merged, (axis) => axis.a), stridesB: Int32Array.from(merged, (axis) => axis.b) };
}

function unaryKernel(name: string, stock: KernelFunc): KernelFunc {
  const op = UNARY[name];
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const x = inputs.x;
    if (!isFloat(x)) return stock(args);
    const { info, values } = backend.output(x!.shape);
    backend.addon.unary(op, backend.values(x!), values, name === 'Step' ? ((attrs?.alpha as number | undefined) ?? 0) : 0);
    return info;
  };
}

function binaryKernel(name: string, stock: KernelFunc): KernelFunc {
  const op = BINARY[name];
  return (args) => {
    const { inputs, backend } = args as unknown as KernelArgs;
    const { a, b } = inputs;
    if (!isFloat(a, b)) return stock(args);
    const shape = tf.backend_util.assertAndGetBroadcastShape(a!.shape, b!.shape);
    const layout = broadcastLayout(shape, a!.shape, b!.shape);
    const { info, values } = backend.output(shape);
    backend.addon.binary(op, backend.values(a!), backend.values(b!), values, layout.shape, layout.stridesA, layout.stridesB);
    return info;
  };
}

function reduceKernel(name: string, stock: KernelFunc): KernelFunc {
  const op = REDUCE[name];
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const x = inputs.x;
    if (!isFloat(x) || x!.shape.length === 0) return stock(args);
    // Max names its axes reductionIndices; the others name them axis.
    const axes = tf.util.parseAxisParam((attrs!.axis ?? attrs!.reductionIndices) as number | number[], x!.shape).sort((first, second) => first - second);
    // Only a run of neighbouring axes maps onto [outer, inner, trailing] without a transpose.
    if (axes.length === 0 || axes.some((axis, index) => index > 0 && axis !== axes[index - 1] + 1)) return stock(args);
    const size = (from: number, to: number) => x!.shape.slice(from, to).reduce((product, dimension) => product * dimension, 1);
    const first = axes[0];
    const last = axes[axes.length - 1];
    const inner = size(first, last + 1);
    if (inner === 0) return stock(args);
    const kept = x!.shape.filter((_, axis) => !axes.includes(axis));
    const shape = attrs!.keepDims ? x!.shape.map((dimension, axis) => (axes.includes(axis) ? 1 : dimension)) : kept;
    const { info, values } = backend.output(shape);
    backend.addon.reduce(op, backend.values(x!), values, size(0, first), inner, size(last + 1, x!.shape.length));
    return info;
  };
}

interface MatMulPlan {
  m: number;
  n: number;
  k: number;
  batch: number;
  strideA: number;
  strideB: number;
  shape: number[];
  transposeA: boolean;
  transposeB: boolean;
}

/** The GEMMs of a batched matmul, or undefined where the batch dimensions broadcast in a way we leave to the stock kernel. */
function planMatMul(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): MatMulPlan | undefined {
  if (a.shape.length < 2 || b.shape.length < 2) return undefined;
  const innerA = a.shape.slice(-2);
  const innerB = b.shape.slice(-2);
  const m = transposeA ? innerA[1] : innerA[0];
  const k = transposeA ? innerA[0] : innerA[1];
  const n = transposeB ? innerB[0] : innerB[1];
  if ((transposeB ? innerB[1] : innerB[0]) !== k) return undefined;
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = tf.util.sizeFromShape(outerA);
  const batchB = tf.util.sizeFromShape(outerB);
  let outer: number[];
  try {
    outer = tf.backend_util.assertAndGetBroadcastShape(outerA, outerB);
  } catch {
    return undefined;
  }
  const batch = tf.util.sizeFromShape(outer);
  if (!(batchA === batch || batchA === 1) || !(batchB === batch || batchB === 1)) return undefined;
  const shape = [...outer, m, n];
  // Rows of a batch stacked on an untransposed A and a shared B are one taller GEMM.
  if (batch > 1 && batchA === batch && batchB === 1 && !transposeA) return { m: m * batch, n, k, batch: 1, strideA: 0, strideB: 0, shape, transposeA, transposeB };
  return { m, n, k, batch, strideA: batchA === 1 ? 0 : m * k, strideB: batchB === 1 ? 0 : k * n, shape, transposeA, transposeB };
}

function runMatMul(backend: NativeBackend, a: TensorInfo, b: TensorInfo, plan: MatMulPlan): { info: TensorInfo; values: Float32Array } {
  const result = backend.output(plan.shape);
  if (plan.k === 0) result.values.fill(0);
  else backend.addon.gemm(plan.transposeA, plan.transposeB, plan.m, plan.n, plan.k, backend.values(a), backend.values(b), result.values, plan.batch, plan.strideA, plan.strideB, plan.m * plan.n, 1, 0);
  return result;
}

function batchMatMulKernel(stock: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const { a, b } = inputs;
    if (!isFloat(a, b)) return stock(args);
    const plan = planMatMul(a!, b!, Boolean(attrs?.transposeA), Boolean(attrs?.transposeB));
    return plan ? runMatMul(backend, a!, b!, plan).info : stock(args);
  };
}

const FUSED_ACTIVATIONS: Record<string, number | undefined> = { linear: undefined, relu: UNARY.Relu, sigmoid: UNARY.Sigmoid };

function fusedMatMulKernel(stock: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const { a, b, bias } = inputs;
    const activation = (attrs?.activation as string | undefined) ?? 'linear';
    if (!isFloat(a, b) || (bias && !isFloat(bias)) || inputs.preluActivationWeights || !(activation in FUSED_ACTIVATIONS)) return stock(args);
    const plan = planMatMul(a!, b!, Boolean(attrs?.transposeA), Boolean(attrs?.transposeB));
    if (!plan) return stock(args);
    let shape: number[] = plan.shape;
    if (bias) {
      try {
        shape = tf.backend_util.assertAndGetBroadcastShape(plan.shape, bias.shape);
      } catch {
        return stock(args);
      }
      if (shape.length !== plan.shape.length || shape.some((dimension, axis) => dimension !== plan.shape[axis])) return stock(args);
    }
    const { info, values } = runMatMul(backend, a!, b!, plan);
    if (bias) {
      const layout = broadcastLayout(shape, shape, bias.shape);
      backend.addon.binary(BINARY.Add, values, backend.values(bias), values, layout.shape, layout.stridesA, layout.stridesB);
    }
    const op = FUSED_ACTIVATIONS[activation];
    if (op !== undefined) backend.addon.unary(op, values, values, 0);
    return info;
  };
}

interface ConvAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat?: 'NHWC' | 'NCHW';
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape?: [number, number, number, number];
  filterShape?: [number, number, number, number];
}

function convShape(info: tf.backend_util.Conv2DInfo): Int32Array {
  return Int32Array.from([
    info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.filterHeight, info.filterWidth, info.outChannels, info.outHeight, info.outWidth,
    info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left, info.dilationHeight, info.dilationWidth,
  ]);
}

function convInfo(inShape: number[], filterShape: number[], attrs: ConvAttrs, dilations: number | [number, number]): tf.backend_util.Conv2DInfo | undefined {
  if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC') return undefined;
  return tf.backend_util.computeConv2DInfo(inShape as [number, number, number, number], filterShape as [number, number, number, number], attrs.strides, dilations, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
}

function conv2dKernel(stock: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const { x, filter } = inputs;
    const conv = attrs as unknown as ConvAttrs;
    const info = isFloat(x, filter) ? convInfo(x!.shape, filter!.shape, conv, conv.dilations ?? 1) : undefined;
    if (!info) return stock(args);
    const { info: out, values } = backend.output(info.outShape);
    backend.addon.conv2d(backend.values(x!), backend.values(filter!), values, convShape(info));
    return out;
  };
}

function conv2dBackpropInputKernel(stock: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const { dy, filter } = inputs;
    const conv = attrs as unknown as ConvAttrs;
    const info = isFloat(dy, filter) && conv.inputShape ? convInfo(conv.inputShape, filter!.shape, conv, 1) : undefined;
    if (!info) return stock(args);
    const { info: out, values } = backend.output(info.inShape);
    backend.addon.conv2dBackpropInput(backend.values(dy!), backend.values(filter!), values, convShape(info));
    return out;
  };
}

function conv2dBackpropFilterKernel(stock: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const { x, dy } = inputs;
    const conv = attrs as unknown as ConvAttrs;
    const info = isFloat(x, dy) && conv.filterShape ? convInfo(x!.shape, conv.filterShape, conv, 1) : undefined;
    if (!info) return stock(args);
    const { info: out, values } = backend.output(info.filterShape);
    backend.addon.conv2dBackpropFilter(backend.values(x!), backend.values(dy!), values, convShape(info));
    return out;
  };
}

/**
 * SplitV along any axis as row copies. TF.js's own goes element by element through index
 * arithmetic: splitting the VAE's [128, 40] encoder output took 4 ms, a quarter of a training step.
 */
function splitVKernel(stock: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const x = inputs.x;
    if (!isFloat(x)) return stock(args);
    const axis = tf.util.parseAxisParam(attrs!.axis as number, x!.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x!, attrs!.numOrSizeSplits as number | number[], axis);
    const outer = tf.util.sizeFromShape(x!.shape.slice(0, axis));
    const inner = tf.util.sizeFromShape(x!.shape.slice(axis + 1));
    const length = x!.shape[axis];
    const source = backend.values(x!);
    let begin = 0;
    return sizes.map((size) => {
      const shape = x!.shape.slice();
      shape[axis] = size;
      const { info, values } = backend.output(shape);
      const row = size * inner;
      for (let index = 0; index < outer; index++) {
        const from = (index * length + begin) * inner;
        values.set(source.subarray(from, from + row), index * row);
      }
      begin += size;
      return info;
    });
  };
}

/** Rows and row length of a loss kernel's [batch, …] input. */
function rowsOf(info: TensorInfo): [number, number] {
  const rows = info.shape[0];
  return [rows, rows === 0 ? 0 : tf.util.sizeFromShape(info.shape) / rows];
}

function bernoulliNllKernel({ inputs, backend }: KernelArgs): TensorInfo {
  const { logits, x } = inputs as { logits: TensorInfo; x: TensorInfo };
  const [rows, inner] = rowsOf(logits);
  const { info, values } = backend.output([rows]);
  if (rows > 0) backend.addon.bernoulliNll(backend.values(logits), backend.values(x), values, rows, inner);
  return info;
}

function bernoulliNllGradientKernel({ inputs, backend }: KernelArgs): TensorInfo {
  const { logits, x, dy } = inputs as { logits: TensorInfo; x: TensorInfo; dy: TensorInfo };
  const [rows, inner] = rowsOf(logits);
  const { info, values } = backend.output(logits.shape);
  if (values.length > 0) backend.addon.bernoulliNllGradient(backend.values(logits), backend.values(x), backend.values(dy), values, rows, inner);
  return info;
}

/** Kernels of runtime/model/fused.ts, which have no stock version. */
const FUSED_KERNELS: Record<string, (args: KernelArgs) => TensorInfo> = {
  [BERNOULLI_NLL]: bernoulliNllKernel,
  [BERNOULLI_NLL_GRADIENT]: bernoulliNllGradientKernel,
};

/** The kernels the addon replaces, by TF.js kernel name. */
export const NATIVE_KERNELS: Record<string, (stock: KernelFunc) => KernelFunc> = {
  ...Object.fromEntries(Object.keys(UNARY).map((name) => [name, (stock: KernelFunc) => unaryKernel(name, stock)])),
  ...Object.fromEntries(Object.keys(BINARY).map((name) => [name, (stock: KernelFunc) => binaryKernel(name, stock)])),
  ...Object.fromEntries(Object.keys(REDUCE).map((name) => [name, (stock: KernelFunc) => reduceKernel(name, stock)])),
  BatchMatMul: batchMatMulKernel,
  _FusedMatMul: fusedMatMulKernel,
  Conv2D: conv2dKernel,
  Conv2DBackpropInput: conv2dBackpropInputKernel,
  Conv2DBackpropFilter: conv2dBackpropFilterKernel,
  SplitV: splitVKernel,
};

/**
 * Stock kernels may return views of their inputs' memory (a contiguous slice is a subarray): such
 * memory is marked exposed, so that neither side is recycled while the other lives.
 */
function guardViews(kernelFunc: KernelFunc): KernelFunc {
  return (args) => {
    const result = kernelFunc(args);
    const backend = args.backend as NativeBackend;
    if (Array.isArray(result)) for (const output of result) guardOutput(backend, args.inputs, output);
    else guardOutput(backend, args.inputs, result);
    return result;
  };
}

/** Runs after every kernel of a training step, so it allocates nothing. */
function guardOutput(backend: NativeBackend, inputs: Inputs, output: TensorInfo): void {
  const values = backend.data.get(output.dataId)?.values;
  if (!ArrayBuffer.isView(values)) return;
  let shared = false;
  for (const name in inputs) {
    const input = inputs[name];
    if (!input) continue;
    // Reshape and Identity hand back the input's own data entry, whose reference count guards it.
    if (input.dataId === output.dataId) return;
    const inputValues = backend.data.get(input.dataId)?.values;
    if (ArrayBuffer.isView(inputValues) && inputValues.buffer === values.buffer) shared = true;
  }
  if (shared) backend.expose(values);
}

let registered = false;

/** Registers the `native` backend: every cpu kernel, with the addon's in place of the hot ones. */
export function registerNativeBackend(addon: NativeAddon): void {
  if (registered) return;
  registered = true;
  tf.registerBackend(NATIVE_BACKEND, () => new NativeBackend(addon), 0);
  // AEXP_NATIVE_STOCK=Name,Name keeps the stock cpu kernels of those names (to bisect a difference).
  const stock = new Set((process.env.AEXP_NATIVE_STOCK ?? '').split(',').filter(Boolean));
  for (const config of tf.getKernelsForBackend('cpu')) {
    const replace = stock.has(config.kernelName) ? undefined : NATIVE_KERNELS[config.kernelName];
    const kernelFunc = guardViews(replace ? replace(config.kernelFunc) : config.kernelFunc);
    tf.registerKernel({ ...config, backendName: NATIVE_BACKEND, kernelFunc } satisfies KernelConfig);
  }
  for (const [kernelName, kernelFunc] of Object.entries(FUSED_KERNELS)) {
    if (!stock.has(kernelName)) tf.registerKernel({ kernelName, backendName: NATIVE_BACKEND, kernelFunc: kernelFunc as unknown as KernelFunc });
  }
}
