/**
 * How the Latent Explorer's own runtime process is started, with no vscode import: by the
 * extension (explorer-runtime.ts), and as the extension starts it by the benchmark that measures
 * its memory (bench/views/explorer-runtime.ts, T12) and the runtime's IPC test.
 */
import type { RequestOf } from '../runtime/protocol';

/**
 * glibc raises its mmap threshold each time a large buffer is freed (up to 32 MB), and buffers
 * under it then come from the heap, where they stay resident once freed: the dataset files read
 * and gunzipped, a checkpoint's bytes (about 20 MB of this process after its first request). A
 * fixed threshold gives every buffer over 128 KB back to the system when it is freed. Other C
 * libraries ignore the variable.
 */
const MALLOC_ENV = { MALLOC_MMAP_THRESHOLD_: '131072' };

/**
 * V8's options for it, given on its command line (NODE_OPTIONS accepts --expose-gc only in newer
 * Node releases than some VS Code builds carry): --expose-gc, with which the runtime collects once
 * after each explore answer (runtime/server.ts: the answer's serialized copies stay resident
 * otherwise while the runtime sits idle); and young-generation semi-spaces of at most 2 MB instead
 * of 16: V8 grows them while a split is encoded and keeps them committed (about 30 MB of the
 * runtime's memory after showing all 70k points, for no time saved there). Neither limits what a
 * request may use.
 */
export const EXPLORER_RUNTIME_ARGUMENTS: readonly string[] = ['--expose-gc', '--max-semi-space-size=2'];

/** Its environment: the allocator's threshold above. */
export function explorerRuntimeEnv(): Record<string, string> {
  return { ...MALLOC_ENV };
}

/**
 * Its initialize request: the runs folders the explorer lists (the first also as runsRoot, though
 * it never writes one), and inference on its own thread: nothing trains there, and a worker
 * thread would add its own TF.js, bundle and wasm memory. The wasm backend starts with the first
 * request; the main thread's cpu backend costs nothing until then.
 */
export function explorerInitialize(roots: string[], dataDir?: string): RequestOf<'initialize'> {
  return { type: 'initialize', backend: 'cpu', runsRoot: roots[0], exploreRoots: roots, inference: 'thread', ...(dataDir ? { dataDir } : {}) };
}
