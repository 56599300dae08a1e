/**
 * Backend selection: the only place that decides where tensors live. Model code stays
 * backend-agnostic. wasm is the default here; cpu is the pure-JS reference.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// The core package leaves gradients unregistered; training needs them all.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { loadAddon } from './native/addon';
import { NATIVE_BACKEND, registerNativeBackend } from './native/backend';
import { nativeUpdate } from './native/optimizer';
import { fusedUpdates } from '../train/optimizers';
import { registerWasmKernels } from './wasm-kernels';

import { AUTO_ORDER, BACKENDS } from './names';
import type { BackendName, ConcreteBackend } from './names';
import type { BackendInfo } from '../protocol';

export { AUTO_ORDER, BACKENDS };
export type { BackendInfo, BackendName, ConcreteBackend };


export class BackendError extends Error {
  override name = 'BackendError';
}

function wasmDirectory(): string {
  // Bundled: the .wasm files are copied next to the bundle. From source: they are in the package.
  const besideBundle = __dirname;
  if (existsSync(path.join(besideBundle, 'tfjs-backend-wasm-simd.wasm'))) return besideBundle;
  return path.dirname(createRequire(__filename).resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'));
}

let wasmReady: Promise<void> | undefined;

async function prepareWasm(): Promise<void> {
  await import('@tensorflow/tfjs-backend-wasm');
  // The trailing separator matters: TF.js joins it with the file name.
  setWasmPaths(wasmDirectory() + path.sep);
  registerWasmKernels();
}

/**
 * Threads for the native backend, the JavaScript thread included: AEXP_NATIVE_THREADS when set
 * (latentLab.nativeThreads in VS Code), else one per core. BLAS stays single-threaded inside each
 * of the addon's own threads, whose workers sleep between kernels: OpenBLAS's own pool spins after
 * every call, and on 2 cores that took the second core from V8 and from our loops.
 */
export function nativeThreads(): number {
  const requested = Number(process.env.AEXP_NATIVE_THREADS);
  if (Number.isInteger(requested) && requested > 0) return requested;
  return Math.max(1, os.availableParallelism());
}

function cpuName(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model.trim() ?? 'unknown CPU'} (${cpus.length} cores)`;
}

interface WebgpuProbe {
  description: string;
  software: boolean;
}
let webgpuProbe: Promise<WebgpuProbe> | undefined;

/** Where the `webgpu` package's entry is: a .vsix carries its platform's copy beside the bundle (scripts/package.mjs); a checkout has the package. */
function webgpuModule(): string {
  const packaged = path.join(__dirname, '..', 'webgpu', 'index.js');
  if (existsSync(packaged)) return pathToFileURL(packaged).href;
  try {
    return pathToFileURL(createRequire(__filename).resolve('webgpu')).href;
  } catch (error) {
    throw new BackendError(`the webgpu backend needs the optional "webgpu" package (${(error as Error).message.split('\n')[0]})`);
  }
}

interface AdapterInfo {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  adapterType?: string;
}

function describeAdapter(info: AdapterInfo): WebgpuProbe {
  const description = [info.vendor, info.architecture, info.device, info.description].filter((part) => part).join(' ') || 'unknown adapter';
  const software = /llvmpipe|lavapipe|swiftshader|software/i.test(description) || info.adapterType === 'cpu';
  return { description, software };
}

const NO_ADAPTER = 'the webgpu backend found no GPU adapter (no Vulkan, Metal or D3D12 driver?)';
const PROBE_SCRIPT = `import(process.argv[1]).then(async (dawn) => {
  const adapter = await dawn.create([]).requestAdapter();
  const info = adapter ? adapter.info : undefined;
  process.stdout.write(JSON.stringify(info ? { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description, adapterType: info.adapterType } : null));
  process.exit(0);
}, (error) => { process.stdout.write(JSON.stringify({ problem: String(error && error.message || error).split('\\n')[0] })); process.exit(0); });`;

/**
 * Asks Dawn for an adapter in a short-lived child process. Dawn writes to the process's stderr
 * from C++ (a missing Vulkan loader, limits it lowers), and only the child's stderr is lost: the
 * runtime's own stays free of warnings from a backend that is then not used.
 */
function probeAdapterApart(moduleUrl: string): Promise<WebgpuProbe> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', PROBE_SCRIPT, moduleUrl], { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, timeout: 30_000, windowsHide: true }, (error, stdout) => {
      let answer: (AdapterInfo & { problem?: string }) | null | undefined;
      try {
        answer = JSON.parse(stdout) as typeof answer;
      } catch {
        answer = undefined;
      }
      if (answer === undefined) reject(new BackendError(`the webgpu adapter probe ended without an answer (${error ? error.message.split('\n')[0] : 'no output'})`));
      else if (answer === null) reject(new BackendError(NO_ADAPTER));
      else if (answer.problem !== undefined) reject(new BackendError(`the webgpu backend needs the optional "webgpu" package (${answer.problem})`));
      else resolve(describeAdapter(answer));
    });
  });
}

/**
 * WebGPU through the `webgpu` package's Dawn bindings, probed once per process; throws when the
 * package or an adapter is missing. `navigator.gpu` must exist before the TF.js backend module
 * loads: it registers itself only if `navigator.gpu` exists at import time.
 */
async function probeWebgpu(): Promise<WebgpuProbe> {
  let dawn: { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  try {
    dawn = (await import(webgpuModule())) as unknown as typeof dawn;
  } catch (error) {
    if (error instanceof BackendError) throw error;
    throw new BackendError(`the webgpu backend needs the optional "webgpu" package (${(error as Error).message.split('\n')[0]})`);
  }
  Object.assign(globalThis, dawn.globals);
  const gpu = dawn.create([]);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new BackendError(NO_ADAPTER);
  const probe = describeAdapter((adapter as unknown as { info: AdapterInfo }).info);
  await import('@tensorflow/tfjs-backend-webgpu');
  // TF.js 4.22's split-K matmul program mishandles a transposed B and silently corrupts gradients (up to 6% on a conv VAE); program type 3 avoids it at no measurable cost.
  tf.env().set('WEBGPU_MATMUL_PROGRAM_TYPE', 3);
  return probe;
}

let adapterApart: Promise<WebgpuProbe> | undefined;

async function prepareWebgpu(allowSoftware: boolean): Promise<string> {
  // auto loads Dawn here only where the child found a hardware adapter: WebGPU is then the choice.
  if (!allowSoftware && !webgpuProbe) {
    adapterApart ??= probeAdapterApart(webgpuModule());
    const apart = await adapterApart;
    if (apart.software) throw new BackendError(`the only WebGPU adapter is a software one (${apart.description})`);
  }
  webgpuProbe ??= probeWebgpu();
  const { description, software } = await webgpuProbe;
  if (software && !allowSoftware) throw new BackendError(`the only WebGPU adapter is a software one (${description})`);
  return `${description}${software ? ' (software renderer)' : ''}, WebGPU via Dawn`;
}

/**
 * The native TensorFlow backend, when a person installed @tensorflow/tfjs-node-gpu or
 * @tensorflow/tfjs-node (never a dependency: their install downloads libtensorflow). The command
 * that installs them into the extension's storage points AEXP_TFJS_NODE_PATH at that folder.
 */
function prepareTensorflow(): string {
  const require = createRequire(__filename);
  const roots = [process.env.AEXP_TFJS_NODE_PATH, undefined];
  const problems: string[] = [];
  for (const name of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    for (const root of roots) {
      try {
        require(root ? require.resolve(name, { paths: [root] }) : name);
      } catch (error) {
        problems.push(`${name}: ${(error as Error).message.split('\n')[0]}`);
        continue;
      }
      // A bundled runtime carries its own copy of tfjs-core; tfjs-node registers on the copy it loads.
      if (!tf.findBackend('tensorflow')) throw new BackendError(`${name} loaded, but it registered its backend with another copy of TF.js; run the runtime from an unbundled install`);
      return name.endsWith('gpu') ? 'libtensorflow with CUDA' : `libtensorflow on ${cpuName()}`;
    }
  }
  throw new BackendError(`the tensorflow backend needs @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node, and neither loads (${problems[problems.length - 1] ?? 'not installed'})`);
}

async function selectConcrete(name: ConcreteBackend, options: { allowSoftwareGpu: boolean }): Promise<BackendInfo> {
  switch (name) {
    case 'tensorflow': {
      const device = prepareTensorflow();
      if (!(await tf.setBackend('tensorflow'))) throw new BackendError('the tensorflow backend did not start');
      return { backend: 'tensorflow', device };
    }
    case 'webgpu': {
      const device = await prepareWebgpu(options.allowSoftwareGpu);
      if (!(await tf.setBackend('webgpu'))) throw new BackendError(`the webgpu backend did not start on ${device}`);
      return { backend: 'webgpu', device };
    }
    case 'wasm': {
      wasmReady ??= prepareWasm();
      await wasmReady;
      // setBackend answers false (it does not throw) when the .wasm files cannot be found.
      if (!(await tf.setBackend('wasm'))) throw new BackendError(`the wasm backend did not start: are the .wasm files in ${wasmDirectory()}?`);
      const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
      return { backend: 'wasm', device: `${cpuName()}, WebAssembly${simd ? ' SIMD' : ''}, 1 thread` };
    }
    case 'native': {
      const { addon, problem } = loadAddon();
      if (!addon) throw new BackendError(problem!);
      registerNativeBackend(addon);
      fusedUpdates.set(NATIVE_BACKEND, nativeUpdate);
      const threads = nativeThreads();
      addon.setThreads(threads);
      if (!(await tf.setBackend(NATIVE_BACKEND))) throw new BackendError('the native backend did not start');
      const info = addon.info();
      return { backend: 'native', device: `${cpuName()}, native kernels (${info.vectors}), ${info.blas}, ${info.threads} thread${info.threads === 1 ? '' : 's'}` };
    }
    case 'cpu':
      if (!(await tf.setBackend('cpu'))) throw new BackendError('the cpu backend did not start');
      return { backend: 'cpu', device: `${cpuName()}, plain JavaScript` };
  }
}

/**
 * Chooses a backend. `auto` takes the first of AUTO_ORDER that starts (a hardware GPU only, for
 * webgpu), skipping `exclude` (backends refused by a gradient check); `skipped` says why each
 * earlier one was passed over.
 */
export async function selectBackend(name: BackendName = 'wasm', options: { exclude?: readonly ConcreteBackend[] } = {}): Promise<BackendInfo & { skipped: string[] }> {
  // Production mode: no debug checks, and no console advice to install tfjs-node on every start.
  tf.env().set('PROD', true);
  if (!(BACKENDS as readonly string[]).includes(name)) {
    throw new BackendError(`unknown backend "${name}": choose one of ${BACKENDS.join(', ')}`);
  }
  if (name !== 'auto') return { ...(await selectConcrete(name, { allowSoftwareGpu: true })), skipped: [] };
  const skipped: string[] = [];
  for (const candidate of AUTO_ORDER) {
    if (options.exclude?.includes(candidate)) continue;
    try {
      return { ...(await selectConcrete(candidate, { allowSoftwareGpu: false })), skipped };
    } catch (error) {
      skipped.push(`${candidate}: ${(error as Error).message}`);
    }
  }
  throw new BackendError(`no backend started:\n${skipped.join('\n')}`);
}
