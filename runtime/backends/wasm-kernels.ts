/**
 * Kernels we register on TF.js's wasm backend where its own are missing or slow, each built from
 * wasm's XNNPACK convolution or matmul plus a plain loop over the wasm heap. Each is checked
 * against the cpu backend in test/engine/backend.test.ts.
 *
 * Measured on the benchmark conv VAE (bench/throughput, batch 128, 4×4 filters, 2 cores): the stock
 * Conv2DBackpropInput, a naive C++ loop, took 236 ms per call for [128,7,7,64] → [128,14,14,32],
 * two thirds of the training step; as a sub-pixel convolution it takes about 1.4× a forward conv.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

/** The parts of the wasm backend these kernels use. */
interface WasmBackend extends tf.KernelBackend {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}

type Padding = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

interface ConvAttributes {
  strides: [number, number] | number;
  pad: Padding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

export class WasmKernelError extends Error {
  override name = 'WasmKernelError';
}

function kernel(name: string): KernelFunc {
  const config = tf.getKernel(name, 'wasm');
  if (!config) throw new WasmKernelError(`the wasm backend has no ${name} kernel`);
  return config.kernelFunc;
}

/** Runs other wasm kernels and frees their outputs when the caller is done. */
class Scratch {
  private readonly temporaries: TensorInfo[] = [];
  constructor(readonly backend: WasmBackend) {}

  keep(tensor: TensorInfo): TensorInfo {
    this.temporaries.push(tensor);
    return tensor;
  }

  run(name: string, inputs: Record<string, TensorInfo>, attrs: Record<string, unknown> = {}): TensorInfo {
    return this.keep(kernel(name)({ inputs, backend: this.backend, attrs: attrs as never }) as TensorInfo);
  }

  release(): void {
    for (const temporary of this.temporaries.splice(0)) this.backend.disposeData(temporary.dataId);
  }
}

/**
 * The input gradient of a 2-D convolution (and so TF.js's transposed convolution) as one stride-1
 * convolution over dy. Along one axis, with t = i + padBefore = s·q + r:
 *   dx[i] = Σₘ dy[q − m] · W[r + s·m],   m = 0 … ⌈k/s⌉ − 1,
 * so for each phase r it is a correlation of dy with a flipped sub-filter. All s² phases become
 * output channels of one XNNPACK convolution, and a final loop interleaves them (depth to space).
 */
function conv2DBackpropInput({ inputs, backend, attrs }: Parameters<KernelFunc>[0]): TensorInfo {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as ConvAttributes & { inputShape: [number, number, number, number] };
  if (dataFormat === 'NCHW') throw new WasmKernelError('Conv2DBackpropInput on wasm supports NHWC only');
  const wasm = backend as WasmBackend;
  const info = tf.backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const tapsY = Math.ceil(filterHeight / strideHeight);
  const tapsX = Math.ceil(filterWidth / strideWidth);
  const phasesY = Math.floor((inHeight - 1 + info.padInfo.top) / strideHeight) + 1;
  const phasesX = Math.floor((inWidth - 1 + info.padInfo.left) / strideWidth) + 1;
  const phaseChannels = strideHeight * strideWidth * inChannels;
  const scratch = new Scratch(wasm);
  try {
    // Filter taps regrouped by phase: [⌈kh/s⌉, ⌈kw/s⌉, co, s·s·ci], zero where a phase has fewer taps.
    const combined = scratch.keep(wasm.makeOutput([tapsY, tapsX, outChannels, phaseChannels], 'float32'));
    const weights = wasm.typedArrayFromHeap(filter);
    const combinedValues = wasm.typedArrayFromHeap(combined);
    combinedValues.fill(0);
    for (let jy = 0; jy < tapsY; jy++) for (let ry = 0; ry < strideHeight; ry++) {
      const ky = ry + strideHeight * (tapsY - 1 - jy);
      if (ky >= filterHeight) continue;
      for (let jx = 0; jx < tapsX; jx++) for (let rx = 0; rx < strideWidth; rx++) {
        const kx = rx + strideWidth * (tapsX - 1 - jx);
        if (kx >= filterWidth) continue;
        for (let ci = 0; ci < inChannels; ci++) for (let co = 0; co < outChannels; co++) {
          combinedValues[((jy * tapsX + jx) * outChannels + co) * phaseChannels + (ry * strideWidth + rx) * inChannels + ci] = weights[((ky * filterWidth + kx) * inChannels + ci) * outChannels + co];
        }
      }
    }
    const padded = scratch.run('PadV2', { x: dy }, { paddings: [[0, 0], [tapsY - 1, Math.max(0, phasesY - outHeight)], [tapsX - 1, Math.max(0, phasesX - outWidth)], [0, 0]], constantValue: 0 });
    const phases = scratch.run('Conv2D', { x: padded, filter: combined }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined });
    const output = wasm.makeOutput([batchSize, inHeight, inWidth, inChannels], 'float32');
    // Heap views are taken after the last allocation: growing wasm memory detaches older ones.
    const result = wasm.typedArrayFromHeap(output);
    const source = wasm.typedArrayFromHeap(phases);
    const [, sourceHeight, sourceWidth] = phases.shape;
    let offset = 0;
    for (let n = 0; n < batchSize; n++) for (let iy = 0; iy < inHeight; iy++) {
      const ty = iy + info.padInfo.top;
      const qy = Math.floor(ty / strideHeight);
      const ry = ty - qy * strideHeight;
      for (let ix = 0; ix < inWidth; ix++) {
        const tx = ix + info.padInfo.left;
        const qx = Math.floor(tx / strideWidth);
        const rx = tx - qx * strideWidth;
        const base = ((n * sourceHeight + qy) * sourceWidth + qx) * phaseChannels + (ry * strideWidth + rx) * inChannels;
        for (let ci = 0; ci < inChannels; ci++) result[offset++] = source[base + ci];
      }
    }
    return output;
  } finally {
    scratch.release();
  }
}

/**
 * The filter gradient of a 2-D convolution, which TF.js's wasm backend lacks, as a convolution
 * itself: dW[kh,kw,ci,co] = Σ x[n, kh + oh·s, kw + ow·s, ci] · dy[n, oh, ow, co], i.e. the padded
 * input (channels as batch) convolved with dy (batch as input channel) at dilation = stride.
 * Measured against im2col + matmul: this is faster for the conv VAE's wide layers (about 1.3× a
 * forward conv against 1.7×), as fast for its first layer.
 */
function conv2DBackpropFilter({ inputs, backend, attrs }: Parameters<KernelFunc>[0]): TensorInfo {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as ConvAttributes & { filterShape: [number, number, number, number] };
  if (dataFormat === 'NCHW') throw new WasmKernelError('Conv2DBackpropFilter on wasm supports NHWC only');
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  const scratch = new Scratch(backend as WasmBackend);
  try {
    const { top, bottom, left, right } = info.padInfo;
    const padded = top || bottom || left || right ? scratch.run('PadV2', { x }, { paddings: [[0, 0], [top, bottom], [left, right], [0, 0]], constantValue: 0 }) : x;
    const channelsAsBatch = scratch.run('Transpose', { x: padded }, { perm: [3, 1, 2, 0] });
    const gradientAsFilter = scratch.run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] });
    const full = scratch.run('Conv2D', { x: channelsAsBatch, filter: gradientAsFilter }, {
      strides: [1, 1],
      pad: 'valid',
      dataFormat: 'NHWC',
      dilations: [info.strideHeight, info.strideWidth],
      dimRoundingMode: undefined,
    });
    const [kernelHeight, kernelWidth, inChannels, outChannels] = filterShape;
    const cropped = full.shape[1] !== kernelHeight || full.shape[2] !== kernelWidth
      ? scratch.run('Slice', { x: full }, { begin: [0, 0, 0, 0], size: [inChannels, kernelHeight, kernelWidth, outChannels] })
      : full;
    return kernel('Transpose')({ inputs: { x: cropped }, backend, attrs: { perm: [1, 2, 0, 3] } as never }) as TensorInfo;
  } finally {
    scratch.release();
  }
}

/**
 * TF.js's wasm matmul is about 9× slower with a transposed operand than an explicit Transpose
 * followed by a plain matmul (measured: 58 ms vs 6.6 ms for [784×128]·[128×400]), and every dense
 * layer's backward pass multiplies by transposes. This wraps the stock kernel to transpose first.
 */
function transposeFirst(name: 'BatchMatMul' | '_FusedMatMul'): KernelConfig {
  const stockConfig = tf.getKernel(name, 'wasm')!;
  const stock = stockConfig.kernelFunc;
  return {
    // Keep the stock setup (it binds the wasm functions when the backend starts).
    ...stockConfig,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
      if (!transposeA && !transposeB) return stock({ inputs, backend, attrs });
      const transposeKernel = kernel('Transpose');
      const swapLast = (tensor: TensorInfo) => {
        const perm = tensor.shape.map((_, index) => index);
        const rank = perm.length;
        [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
        return transposeKernel({ inputs: { x: tensor }, backend, attrs: { perm } }) as TensorInfo;
      };
      const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
      const newA = transposeA ? swapLast(a) : a;
      const newB = transposeB ? swapLast(b) : b;
      const result = stock({ inputs: { ...inputs, a: newA, b: newB }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } as never });
      if (newA !== a) (backend as tf.KernelBackend).disposeData(newA.dataId);
      if (newB !== b) (backend as tf.KernelBackend).disposeData(newB.dataId);
      return result;
    },
  };
}

let registered = false;

/** Registers our wasm kernels once, after `@tensorflow/tfjs-backend-wasm` has registered its own. */
export function registerWasmKernels(): void {
  if (registered) return;
  registered = true;
  for (const name of ['BatchMatMul', '_FusedMatMul'] as const) {
    const wrapped = transposeFirst(name);
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(wrapped);
  }
  const replacements: [string, KernelFunc][] = [['Conv2DBackpropInput', conv2DBackpropInput], ['Conv2DBackpropFilter', conv2DBackpropFilter]];
  for (const [kernelName, kernelFunc] of replacements) {
    if (tf.getKernel(kernelName, 'wasm')) tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
  }
}
