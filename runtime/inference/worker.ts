/**
 * The inference worker: a worker thread of the runtime process with its own TF.js (wasm, or cpu),
 * so that decoding for the views never waits behind a training step on the main thread. The native
 * addon is never loaded here: its thread pool and static buffers are process-wide and belong to
 * the training thread.
 *
 * Requests (protocol.ts) are checked (messages.ts), then run one at a time in arrival order, each
 * answered once: a result, or an error as {name, message, stack}. A request is cancelled by a
 * `cancel` message, or, while it runs, through the shared cancel cell (client.ts writes the running
 * request's id + 1 there): that works even while the work never yields to this thread's event
 * loop. Started by InferenceClient; `workerData` is WorkerStart.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { selectBackend } from '../backends/select';
import { CancelledError, serializeError } from './errors';
import { parseInbound } from './messages';
import type { InferenceBackend, InferenceRequest, InferenceResults, InferenceRequestType, WorkerOutbound, WorkerStart } from './protocol';
import type { Work } from './session';
import { InferenceSession } from './session';

const port = parentPort;
if (!port) throw new Error('runtime/inference/worker runs as a worker thread: start it with InferenceClient');

function startOptions(value: unknown): { backend: InferenceBackend; cancelCell: Int32Array } {
  const start = value as Partial<WorkerStart> | undefined;
  const backend = start?.backend === 'cpu' ? 'cpu' : 'wasm';
  const cancelCell = start?.cancelCell instanceof SharedArrayBuffer && start.cancelCell.byteLength >= 4 ? new Int32Array(start.cancelCell, 0, 1) : new Int32Array(1);
  return { backend, cancelCell };
}

const { backend, cancelCell } = startOptions(workerData);
const session = new InferenceSession(backend);
/** Ids of requests received and not yet started, and those of them cancelled by message. */
const waiting = new Set<number>();
const cancelledIds = new Set<number>();
let running: { id: number; controller: AbortController } | undefined;
let queue: Promise<void> = Promise.resolve();

function post(message: WorkerOutbound, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

function isCancelled(id: number): boolean {
  return cancelledIds.has(id) || Atomics.load(cancelCell, 0) === id + 1;
}

/** The result's typed arrays whose whole buffer they own: moved to the main thread, not copied. */
function ownBuffers(result: object): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const value of Object.values(result)) {
    if (ArrayBuffer.isView(value) && value.buffer instanceof ArrayBuffer && value.byteOffset === 0 && value.byteLength === value.buffer.byteLength) buffers.add(value.buffer);
  }
  return [...buffers];
}

async function dispatch(request: InferenceRequest, work: Work): Promise<InferenceResults[InferenceRequestType]> {
  switch (request.type) {
    case 'open': return session.open(request, work);
    case 'encode': return session.encode(request, work);
    case 'example': return session.example(request, work);
    case 'decode': return session.decode(request, work);
    case 'interpolate': return session.interpolate(request, work);
    case 'traverse': return session.traverse(request, work);
    case 'memory': return session.memory();
  }
}

async function run(request: InferenceRequest, backendReady: Promise<void>): Promise<void> {
  const { id } = request;
  waiting.delete(id);
  const controller = new AbortController();
  let reached: { done: number; total: number } | undefined;
  const work: Work = {
    signal: controller.signal,
    onProgress: (done, total) => {
      reached = { done, total };
      if (isCancelled(id)) controller.abort();
      else if (done < total) post({ type: 'progress', id, done, total });
    },
    poll: () => {
      if (isCancelled(id)) controller.abort();
    },
  };
  try {
    await backendReady;
    if (isCancelled(id)) throw new CancelledError('cancelled');
    running = { id, controller };
    const started = performance.now();
    const result = await dispatch(request, work);
    if (controller.signal.aborted || isCancelled(id)) throw new CancelledError('cancelled');
    post({ type: 'result', id, result, milliseconds: performance.now() - started }, ownBuffers(result));
  } catch (error) {
    // Whatever stopped the work (a data loader's interruption, the encoder's abort), a cancel answers as one.
    const cancelled = controller.signal.aborted || isCancelled(id);
    const stopped = new CancelledError('cancelled', reached ? `cancelled after ${reached.done} of ${reached.total}` : 'cancelled before it started');
    post({ type: 'error', id, error: serializeError(cancelled ? stopped : error) });
  } finally {
    running = undefined;
    cancelledIds.delete(id);
  }
}

const backendReady = selectBackend(backend).then(
  (info) => {
    post({ type: 'ready', backend, device: info.device });
  },
  (error: unknown) => {
    post({ type: 'failed', error: serializeError(error) });
    throw error;
  },
);
// Each request's own answer carries the failure; this only keeps the rejection from going unhandled.
backendReady.catch(() => undefined);

port.on('message', (message: unknown) => {
  const parsed = parseInbound(message);
  if (typeof parsed === 'string') {
    const id = typeof (message as { id?: unknown } | null)?.id === 'number' ? (message as { id: number }).id : -1;
    post({ type: 'error', id, error: { name: 'ProtocolError', message: parsed } });
    return;
  }
  if (parsed.type === 'cancel') {
    if (running?.id === parsed.id) running.controller.abort();
    else if (waiting.has(parsed.id)) cancelledIds.add(parsed.id);
    return;
  }
  waiting.add(parsed.id);
  queue = queue.then(() => run(parsed, backendReady));
});
