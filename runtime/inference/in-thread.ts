/**
 * Inference on the thread that asks, for a runtime process that never trains (the Latent
 * Explorer's own): the requests and answers of InferenceClient without its worker thread, whose
 * isolate, second copy of the bundle and TF.js, and wasm memory were about 45 MB of that process.
 * A worker keeps decoding apart from a training step; where nothing trains, it only costs memory.
 *
 * Requests are checked as the worker checks them (messages.ts) and run one at a time in arrival
 * order; a decode replaces a waiting decode of its channel (the replaced one rejects with a
 * CancelledError, reason `replaced`); a cancelled running request stops at its next batch. The
 * instance owns its session: `close()` disposes the model and lets the dataset go.
 */
import { performance } from 'node:perf_hooks';
import { CancelledError, InferenceRequestError } from './errors';
import { InferenceRequests } from './requests';
import { parseInbound } from './messages';
import type { Inference, InferenceBackend, InferenceOptions, InferenceRequest, InferenceRequestOf, InferenceRequestType, InferenceResults } from './protocol';
import type { Work } from './session';
import { InferenceSession } from './session';

interface Pending {
  request: InferenceRequest;
  channel?: string;
  options: InferenceOptions;
  controller: AbortController;
  resolve(result: unknown): void;
  reject(error: Error): void;
  /** Settled already (cancelled, replaced, closed): whatever the session answers later is dropped. */
  settled: boolean;
}

export class InThreadInference extends InferenceRequests implements Inference {
  private readonly session: InferenceSession;
  private readonly waiting: Pending[] = [];
  private running?: Pending;
  /** Settles when the running request has stopped (every request's own outcome is settled inside). */
  private finished: Promise<void> = Promise.resolve();
  private nextId = 0;
  private stopped?: Error;

  constructor(backend: InferenceBackend = 'wasm') {
    super();
    this.session = new InferenceSession(backend);
  }

  get closed(): boolean {
    return this.stopped !== undefined;
  }

  /** Resolves once the model is disposed: a running request stops at its next batch first. */
  async close(): Promise<void> {
    if (!this.stopped) {
      this.stopped = new CancelledError('closed', 'the inference session was closed');
      const running = this.running;
      for (const pending of [...(running ? [running] : []), ...this.waiting.splice(0)]) this.settle(pending, this.stopped);
      running?.controller.abort();
    }
    await this.finished;
    this.session.dispose();
  }

  protected override request<T extends InferenceRequestType>(body: InferenceRequestOf<T>, options: InferenceOptions = {}, channel?: string): Promise<InferenceResults[T]> {
    return new Promise<InferenceResults[T]>((resolve, reject) => {
      if (this.stopped) return reject(this.stopped);
      if (options.signal?.aborted) return reject(new CancelledError('cancelled'));
      const parsed = parseInbound({ ...body, id: this.nextId++ });
      if (typeof parsed === 'string') return reject(Object.assign(new Error(parsed), { name: 'ProtocolError' }));
      const pending: Pending = { request: parsed as InferenceRequest, channel, options, controller: new AbortController(), resolve: resolve as (result: unknown) => void, reject, settled: false };
      options.signal?.addEventListener('abort', () => this.cancel(pending), { once: true });
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
    if (index >= 0) this.waiting.splice(index, 1);
    else if (this.running !== pending) return;
    pending.controller.abort();
    this.settle(pending, new CancelledError('cancelled'));
  }

  private pump(): void {
    if (this.running || this.stopped) return;
    const next = this.waiting.shift();
    if (!next) return;
    this.running = next;
    this.finished = this.run(next).finally(() => {
      this.running = undefined;
      this.pump();
    });
  }

  private async run(pending: Pending): Promise<void> {
    const { request, options, controller } = pending;
    const work: Work = {
      signal: controller.signal,
      onProgress: (done, total) => {
        if (!pending.settled) options.onProgress?.(done, total);
      },
    };
    const started = performance.now();
    try {
      const result = await this.dispatch(request, work);
      if (controller.signal.aborted) throw new CancelledError('cancelled');
      options.onComputed?.(performance.now() - started);
      this.settle(pending, { result });
    } catch (error) {
      // Whatever stopped the work (a data loader's interruption, the encoder's abort), a cancel answers as one.
      this.settle(pending, controller.signal.aborted ? new CancelledError('cancelled') : error instanceof Error ? error : new InferenceRequestError(String(error)));
    }
  }

  private dispatch(request: InferenceRequest, work: Work): Promise<InferenceResults[InferenceRequestType]> | InferenceResults[InferenceRequestType] {
    switch (request.type) {
      case 'open': return this.session.open(request, work);
      case 'encode': return this.session.encode(request, work);
      case 'example': return this.session.example(request, work);
      case 'decode': return this.session.decode(request, work);
      case 'interpolate': return this.session.interpolate(request, work);
      case 'traverse': return this.session.traverse(request, work);
      case 'memory': return this.session.memory();
    }
  }

  private settle(pending: Pending, outcome: { result: unknown } | Error): void {
    if (pending.settled) return;
    pending.settled = true;
    if (outcome instanceof Error) pending.reject(outcome);
    else pending.resolve(outcome.result);
  }
}
