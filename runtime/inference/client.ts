/**
 * The main thread's side of the inference worker: starts it, gives every request an id, and keeps
 * the requests waiting here, one at a time in the worker, so that a waiting request can be
 * cancelled or replaced without asking the worker: a decode replaces a waiting decode of the same
 * channel (the newest wins; the replaced one rejects with a CancelledError, reason `replaced`).
 * A running request is cancelled through a shared memory cell the worker reads between batches,
 * and a `cancel` message. Every message is checked both ways (messages.ts). The client owns its
 * worker: `close()` ends it.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { CancelledError, InferenceError } from './errors';
import { InferenceRequests } from './requests';
import { parseInbound, parseOutbound } from './messages';
import type { Inference, InferenceBackend, InferenceOptions, InferenceRequest, InferenceRequestOf, InferenceRequestType, InferenceResults, WorkerOutbound, WorkerStart } from './protocol';

export interface InferenceClientOptions {
  /** Where the worker computes: `wasm` (default) or `cpu`; never the native addon (the training thread's). */
  backend?: InferenceBackend;
  /** The worker's entry file; by default the bundle beside this one, or, from source, worker.ts. */
  entry?: string;
}

export type RequestOptions = InferenceOptions;

interface Pending {
  message: InferenceRequest;
  channel?: string;
  options: RequestOptions;
  resolve(result: unknown): void;
  reject(error: Error): void;
  /** Cancelled while the worker runs it: its answer, whatever it is, rejects. */
  cancelled: boolean;
  detach(): void;
}

/** The worker's entry: the bundle `inference-worker.js` beside this file, else the TypeScript source through tsx. */
function defaultEntry(): { file: string; source: boolean } {
  const bundled = path.join(__dirname, 'inference-worker.js');
  if (existsSync(bundled)) return { file: bundled, source: false };
  const source = path.join(__dirname, 'worker.ts');
  if (existsSync(source)) return { file: source, source: true };
  throw new Error(`the inference worker's entry is missing: neither ${bundled} nor ${source} exists (run node scripts/build.mjs)`);
}

function startWorker(entry: string | undefined, start: WorkerStart): Worker {
  const { file, source } = entry !== undefined ? { file: entry, source: entry.endsWith('.ts') } : defaultEntry();
  if (!source) return new Worker(file, { workerData: start });
  // Running from the sources (tests, benchmarks): the repository's bootstrap compiles the TypeScript in the worker.
  const bootstrap = path.join(__dirname, '..', '..', 'scripts', 'ts-worker.cjs');
  if (!existsSync(bootstrap)) throw new Error(`the inference worker's TypeScript entry ${file} needs ${bootstrap} (a source checkout) or the built bundle`);
  return new Worker(bootstrap, { argv: [file], workerData: start });
}

export class InferenceClient extends InferenceRequests implements Inference {
  /** The worker's backend and device, once it started; rejects with the reason when it cannot. */
  readonly ready: Promise<{ backend: InferenceBackend; device: string }>;
  private readonly worker: Worker;
  private readonly cancelCell: Int32Array;
  private readonly waiting: Pending[] = [];
  private running?: Pending;
  private nextId = 0;
  /** Set once the worker is gone: every request rejects with it. */
  private stopped?: Error;
  private settleReady!: { resolve(value: { backend: InferenceBackend; device: string }): void; reject(error: Error): void };

  constructor(options: InferenceClientOptions = {}) {
    super();
    const shared = new SharedArrayBuffer(4);
    this.cancelCell = new Int32Array(shared);
    this.ready = new Promise((resolve, reject) => {
      this.settleReady = { resolve, reject };
    });
    // Awaiting `ready` is optional: a failed start also fails each request.
    this.ready.catch(() => undefined);
    this.worker = startWorker(options.entry, { backend: options.backend ?? 'wasm', cancelCell: shared });
    this.worker.on('message', (message: unknown) => this.receive(message));
    this.worker.on('error', (error: Error) => this.stop(new InferenceError({ name: error.name, message: `the inference worker failed: ${error.message}`, stack: error.stack })));
    this.worker.on('exit', (code) => this.stop(new InferenceError({ name: 'InferenceWorkerError', message: `the inference worker exited (code ${code})` })));
  }

  /** Whether the worker is gone (closed, exited or crashed): every request rejects from then on. */
  get closed(): boolean {
    return this.stopped !== undefined;
  }

  /** Ends the worker; what is waiting or running rejects with a CancelledError (reason `closed`). */
  async close(): Promise<void> {
    this.stop(new CancelledError('closed'));
    await this.worker.terminate();
  }

  protected override request<T extends InferenceRequestType>(body: InferenceRequestOf<T>, options: RequestOptions = {}, channel?: string): Promise<InferenceResults[T]> {
    return new Promise<InferenceResults[T]>((resolve, reject) => {
      if (this.stopped) return reject(this.stopped);
      if (options.signal?.aborted) return reject(new CancelledError('cancelled'));
      const message = { ...body, id: this.nextId++ };
      const parsed = parseInbound(message);
      if (typeof parsed === 'string') return reject(Object.assign(new Error(parsed), { name: 'ProtocolError' }));
      const onAbort = () => this.cancel(pending);
      const pending: Pending = {
        message: parsed as InferenceRequest,
        channel,
        options,
        resolve: resolve as (result: unknown) => void,
        reject,
        cancelled: false,
        detach: () => options.signal?.removeEventListener('abort', onAbort),
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (channel !== undefined) {
        const replaced = this.waiting.findIndex((other) => other.channel === channel);
        if (replaced >= 0) this.settle(this.waiting.splice(replaced, 1)[0], new CancelledError('replaced'));
      }
      this.waiting.push(pending);
      this.pump();
    });
  }

  private cancel(pending: Pending): void {
    const index = this.waiting.indexOf(pending);
    if (index >= 0) {
      this.waiting.splice(index, 1);
      this.settle(pending, new CancelledError('cancelled'));
      return;
    }
    if (this.running !== pending || pending.cancelled) return;
    // The worker reads the cell between batches, even while its work never yields to its event loop.
    pending.cancelled = true;
    Atomics.store(this.cancelCell, 0, pending.message.id + 1);
    this.worker.postMessage({ type: 'cancel', id: pending.message.id });
  }

  private pump(): void {
    if (this.running || this.stopped) return;
    const next = this.waiting.shift();
    if (!next) return;
    this.running = next;
    this.worker.postMessage(next.message);
  }

  private settle(pending: Pending, outcome: { result: unknown } | Error): void {
    pending.detach();
    if (outcome instanceof Error) pending.reject(outcome);
    else pending.resolve(outcome.result);
  }

  private receive(raw: unknown): void {
    const message = parseOutbound(raw);
    if (typeof message === 'string') {
      this.stop(new InferenceError({ name: 'ProtocolError', message: `the inference worker sent a malformed message: ${message}` }));
      void this.worker.terminate();
      return;
    }
    this.handle(message);
  }

  private handle(message: WorkerOutbound): void {
    switch (message.type) {
      case 'ready':
        this.settleReady.resolve({ backend: message.backend, device: message.device });
        return;
      case 'failed':
        this.settleReady.reject(new InferenceError(message.error));
        return;
      case 'progress':
        if (this.running?.message.id === message.id && !this.running.cancelled) this.running.options.onProgress?.(message.done, message.total);
        return;
      case 'result':
      case 'error': {
        const pending = this.running;
        if (pending?.message.id !== message.id) {
          this.stop(new InferenceError({ name: 'ProtocolError', message: `the inference worker answered request ${message.id}, which it was not running` }));
          void this.worker.terminate();
          return;
        }
        this.running = undefined;
        // The worker's own word says how far it got; a request it finished first is cancelled all the same.
        if (pending.cancelled) this.settle(pending, new CancelledError('cancelled', message.type === 'error' && message.error.name === 'CancelledError' ? message.error.message : 'cancelled (the worker had already finished it)'));
        else if (message.type === 'error') this.settle(pending, new InferenceError(message.error));
        else {
          pending.options.onComputed?.(message.milliseconds);
          this.settle(pending, { result: message.result });
        }
        this.pump();
      }
    }
  }

  /** The worker is gone or going: everything waiting or running rejects with `error`, and so does every later request. */
  private stop(error: Error): void {
    if (this.stopped) return;
    this.stopped = error;
    this.settleReady.reject(error);
    const pending = [...(this.running ? [this.running] : []), ...this.waiting.splice(0)];
    this.running = undefined;
    for (const item of pending) this.settle(item, error);
  }
}
