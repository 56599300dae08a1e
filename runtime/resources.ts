/**
 * How much memory this process may use, and the largest single array a backend can hold: the
 * limits that validation compares its estimates with before anything big is allocated.
 */
import { readFileSync } from 'node:fs';
import { constants as bufferConstants } from 'node:buffer';
import os from 'node:os';
import type { BackendName } from './backends/names';

/** Limits at or above this are how cgroups write "no limit" (v1 uses a page-rounded 2^63). */
const UNLIMITED = 2 ** 60;

/** The WebAssembly heap of the wasm backend: 4 GiB less one 64 KiB page, for everything it holds at once. */
export const WASM_HEAP_BYTES = 4294901760;

/**
 * TF.js's CPU-side kernels index tensors with 32-bit integers, so a float32 tensor of more than
 * 2^31 − 1 elements cannot be used even where the JavaScript engine would allocate it.
 */
const LARGEST_CPU_TENSOR_BYTES = (2 ** 31 - 1) * 4;

function readLimit(file: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
  const value = Number(text);
  return text !== 'max' && Number.isFinite(value) && value > 0 && value < UNLIMITED ? value : undefined;
}

/** The cgroup (v2 and v1) memory limits that apply to this process, its ancestors' included. */
export function cgroupMemoryLimit(procCgroup = '/proc/self/cgroup', root = '/sys/fs/cgroup'): number | undefined {
  const candidates = new Set<string>([`${root}/memory.max`, `${root}/memory/memory.limit_in_bytes`]);
  let lines: string[] = [];
  try {
    lines = readFileSync(procCgroup, 'utf8').split('\n');
  } catch {
    // No /proc (not Linux): the files above are absent too, and the machine's memory is the limit.
  }
  for (const line of lines) {
    const [, controllers, group] = /^\d+:([^:]*):(\/.*)$/.exec(line.trim()) ?? [];
    if (group === undefined) continue;
    const version2 = controllers === '';
    if (!version2 && !controllers.split(',').includes('memory')) continue;
    // A limit anywhere up the hierarchy binds the process too.
    for (let at = group; ; at = at.slice(0, at.lastIndexOf('/')) || '/') {
      const folder = at === '/' ? '' : at;
      candidates.add(version2 ? `${root}${folder}/memory.max` : `${root}/memory${folder}/memory.limit_in_bytes`);
      if (at === '/') break;
    }
  }
  const limits = [...candidates].map(readLimit).filter((limit): limit is number => limit !== undefined);
  return limits.length > 0 ? Math.min(...limits) : undefined;
}

/**
 * The memory this process can use: the machine's, or its cgroup limit when smaller. Free memory is
 * left out on purpose: it changes from moment to moment, and a verdict on a file should not.
 */
export function processMemoryBytes(): number {
  const total = os.totalmem();
  const cgroup = cgroupMemoryLimit();
  return cgroup === undefined ? total : Math.min(total, cgroup);
}

/**
 * The largest single tensor a backend can hold, in bytes; undefined where only memory bounds it
 * (tensorflow) or where the device decides (webgpu). Without a backend (`aexp validate`, `auto`
 * before it has chosen), the CPU-side bound: every backend's tensors pass through typed arrays.
 */
export function largestBufferBytes(backend?: BackendName): number | undefined {
  switch (backend) {
    case 'tensorflow':
    case 'webgpu':
      return undefined;
    case 'wasm':
      return WASM_HEAP_BYTES;
    default:
      return LARGEST_CPU_TENSOR_BYTES;
  }
}

/** The largest array of bytes (a dataset's pixels) this JavaScript engine allocates. */
export function largestByteArray(): number {
  return bufferConstants.MAX_LENGTH;
}

/** The most one model (weights, optimizer state, activations) may take on a backend: wasm keeps it all in one heap. */
export function modelMemoryLimit(backend: BackendName | undefined, available: number): number {
  return backend === 'wasm' ? Math.min(available, WASM_HEAP_BYTES) : available;
}
