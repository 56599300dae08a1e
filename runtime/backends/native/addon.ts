/**
 * Finding and loading the native addon (native/, N-API). It is optional: when it is missing or
 * does not load (no prebuilt binary for this platform, a missing libopenblas), the reason is kept
 * and the `native` backend is simply unavailable.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export interface NativeAddon {
  gemm(transA: boolean, transB: boolean, m: number, n: number, k: number, a: Float32Array, b: Float32Array, c: Float32Array, batch: number, strideA: number, strideB: number, strideC: number, alpha: number, beta: number): void;
  unary(op: number, x: Float32Array, out: Float32Array, alpha: number): void;
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array, shape: Int32Array, stridesA: Int32Array, stridesB: Int32Array): void;
  reduce(op: number, x: Float32Array, out: Float32Array, outer: number, inner: number, trailing: number): void;
  conv2d(x: Float32Array, filter: Float32Array, out: Float32Array, shape: Int32Array): void;
  conv2dBackpropInput(dy: Float32Array, filter: Float32Array, dx: Float32Array, shape: Int32Array): void;
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, shape: Int32Array): void;
  adam(param: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, beta1: number, rest1: number, beta2: number, rest2: number, stepSize: number, correction: number, epsilon: number, l2: number, keep: number): void;
  sgd(param: Float32Array, grad: Float32Array, buffer: Float32Array, lr: number, momentum: number, l2: number, first: boolean): void;
  rmsprop(param: Float32Array, grad: Float32Array, square: Float32Array, buffer: Float32Array, lr: number, alpha: number, rest: number, epsilon: number, momentum: number, l2: number): void;
  bernoulliNll(logits: Float32Array, x: Float32Array, out: Float32Array, rows: number, inner: number): void;
  bernoulliNllGradient(logits: Float32Array, x: Float32Array, dy: Float32Array, dlogits: Float32Array, rows: number, inner: number): void;
  /** The addon's threads, the calling one included; BLAS runs on one thread inside each. */
  setThreads(count: number): void;
  info(): { blas: string; threads: number; blasThreads: number; vectors: string };
}

const FILE = 'latent_lab_native.node';

const REQUIRED: (keyof NativeAddon)[] = ['gemm', 'unary', 'binary', 'reduce', 'conv2d', 'conv2dBackpropInput', 'conv2dBackpropFilter', 'adam', 'sgd', 'rmsprop', 'bernoulliNll', 'bernoulliNllGradient', 'setThreads', 'info'];

/**
 * Where the addon may be, first match wins: beside the bundle, a prebuilt binary, a local build.
 * AEXP_NATIVE_ADDON names the one file to load instead.
 */
export function addonCandidates(): string[] {
  if (process.env.AEXP_NATIVE_ADDON) return [process.env.AEXP_NATIVE_ADDON];
  const platform = `${process.platform}-${process.arch}`;
  return [
    // dist/runtime/server.js → dist/native/ (scripts/build.mjs copies the build there).
    path.join(__dirname, '..', 'native', FILE),
    path.join(__dirname, '..', 'native', platform, FILE),
    // runtime/backends/native/addon.ts, run from the sources.
    path.join(__dirname, '..', '..', '..', 'native', 'build', 'Release', FILE),
    path.join(__dirname, '..', '..', '..', 'native', 'prebuilds', platform, FILE),
  ];
}

let loaded: { addon?: NativeAddon; problem?: string } | undefined;

/** The addon, or why there is none (asked once per process). */
export function loadAddon(): { addon?: NativeAddon; problem?: string } {
  if (loaded) return loaded;
  const require = createRequire(__filename);
  const problems: string[] = [];
  for (const candidate of addonCandidates()) {
    if (!existsSync(candidate)) continue;
    try {
      const addon = require(candidate) as NativeAddon;
      // A build left over from an older version of the sources lacks newer kernels: refuse it whole.
      const missing = REQUIRED.filter((name) => typeof addon[name] !== 'function');
      if (missing.length > 0) {
        problems.push(`${candidate} is out of date (no ${missing.join(', ')}): npm run build:native rebuilds it`);
        continue;
      }
      loaded = { addon };
      return loaded;
    } catch (error) {
      problems.push(`${candidate}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  loaded = { problem: problems.length > 0 ? `the native addon did not load (${problems.join('; ')})` : `the native addon is not built for ${process.platform}-${process.arch} (npm run build:native builds it; it needs a C++ compiler and OpenBLAS)` };
  return loaded;
}
