/**
 * The runtime as a child process of the extension: requests arrive over Node's IPC channel,
 * are validated, and answered once each; engine events stream back as notifications, with
 * progress throttled so the extension host is never flooded.
 */
import type { BackendName } from './backends/select';
import { BACKENDS, selectBackend } from './backends/select';
import { runExperiment } from './engine';
import type { CellName, EngineEvent, RuntimeMessage, RuntimeRequest, SerializedError } from './protocol';

const PROGRESS_INTERVAL_MS = Number(process.env.AEXP_PROGRESS_INTERVAL_MS ?? 200);
const CELLS: readonly CellName[] = ['data', 'model', 'train', 'evaluate', 'reconstruct', 'sample'];

function send(message: RuntimeMessage): void {
  process.send?.(message);
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  return { name: 'Error', message: String(error) };
}

/** Checks an incoming message's shape; anything else is refused with a reason. */
export function parseRequest(message: unknown): RuntimeRequest | string {
  if (typeof message !== 'object' || message === null) return 'a request must be an object';
  const request = message as Record<string, unknown>;
  if (typeof request.id !== 'number' || !Number.isInteger(request.id)) return 'a request needs an integer id';
  const optionalString = (key: string) => request[key] === undefined || typeof request[key] === 'string';
  switch (request.type) {
    case 'initialize':
      if (request.backend !== undefined && !(BACKENDS as readonly unknown[]).includes(request.backend)) return `backend must be one of ${BACKENDS.join(', ')}`;
      return optionalString('dataDir') ? (request as unknown as RuntimeRequest) : 'dataDir must be a string';
    case 'run': {
      if (typeof request.runId !== 'string' || typeof request.file !== 'string') return 'run needs runId and file strings';
      if (!optionalString('text') || !optionalString('outDir') || !optionalString('resume')) return 'text, outDir and resume must be strings';
      if (request.reuse !== undefined && typeof request.reuse !== 'boolean') return 'reuse must be a boolean';
      if (request.cells !== undefined && !(Array.isArray(request.cells) && request.cells.every((cell) => CELLS.includes(cell as CellName)))) return `cells must be a list of ${CELLS.join(', ')}`;
      const overrides = request.overrides as Record<string, unknown> | undefined;
      if (overrides !== undefined) {
        if (typeof overrides !== 'object' || overrides === null) return 'overrides must be an object';
        if (overrides.epochs !== undefined && !(Number.isInteger(overrides.epochs) && (overrides.epochs as number) > 0)) return 'overrides.epochs must be a positive integer';
        if (overrides.backend !== undefined && !(BACKENDS as readonly unknown[]).includes(overrides.backend)) return `overrides.backend must be one of ${BACKENDS.join(', ')}`;
        if (overrides.dataDir !== undefined && typeof overrides.dataDir !== 'string') return 'overrides.dataDir must be a string';
        if (overrides.set !== undefined && !(Array.isArray(overrides.set) && overrides.set.every((item) => typeof item === 'string'))) return 'overrides.set must be a list of "cell.key=value" strings';
      }
      return request as unknown as RuntimeRequest;
    }
    case 'cancel':
      return typeof request.runId === 'string' ? (request as unknown as RuntimeRequest) : 'cancel needs a runId string';
    case 'shutdown':
      return request as unknown as RuntimeRequest;
    default:
      return `unknown request type ${JSON.stringify(request.type)}`;
  }
}

const runs = new Map<string, AbortController>();
let defaults: { backend?: BackendName; dataDir?: string } = {};

function forward(runId: string): (event: EngineEvent) => void {
  let lastProgress = 0;
  let pending: EngineEvent | undefined;
  let timer: NodeJS.Timeout | undefined;
  return (event) => {
    if (event.type !== 'progress') {
      send({ type: 'event', runId, event });
      return;
    }
    // At most one progress message per interval: the latest wins.
    const now = Date.now();
    if (now - lastProgress >= PROGRESS_INTERVAL_MS) {
      lastProgress = now;
      send({ type: 'event', runId, event });
      return;
    }
    pending = event;
    timer ??= setTimeout(() => {
      timer = undefined;
      if (pending) send({ type: 'event', runId, event: pending });
      pending = undefined;
      lastProgress = Date.now();
    }, PROGRESS_INTERVAL_MS - (now - lastProgress));
  };
}

/** Exits when no run is left (each stops at its next batch with a checkpoint), or after `limitMs`. */
function exitWhenIdle(limitMs: number): void {
  const deadline = Date.now() + limitMs;
  const check = () => {
    if (runs.size > 0 && Date.now() < deadline) {
      setTimeout(check, 20);
      return;
    }
    // The callback runs once everything sent before has been handed to the channel.
    if (process.connected) process.send!({ type: 'log', level: 'info', message: 'runtime exiting' } satisfies RuntimeMessage, () => process.exit(0));
    else process.exit(0);
  };
  check();
}

async function handle(request: RuntimeRequest): Promise<unknown> {
  switch (request.type) {
    case 'initialize': {
      defaults = { backend: request.backend, dataDir: request.dataDir };
      const info = await selectBackend(request.backend ?? 'auto');
      return { ...info, pid: process.pid };
    }
    case 'run': {
      if (runs.has(request.runId)) throw new Error(`run ${request.runId} is already running`);
      const controller = new AbortController();
      runs.set(request.runId, controller);
      runExperiment({
        file: request.file,
        text: request.text,
        outDir: request.outDir,
        resume: request.resume,
        reuse: request.reuse,
        cells: request.cells,
        epochs: request.overrides?.epochs,
        overrides: request.overrides?.set,
        backend: request.overrides?.backend ?? defaults.backend,
        dataDir: request.overrides?.dataDir ?? defaults.dataDir,
        signal: controller.signal,
        onEvent: forward(request.runId),
      }).then(
        (result) => send({ type: 'runEnded', runId: request.runId, result }),
        (error) => send({ type: 'runEnded', runId: request.runId, error: serializeError(error) }),
      ).finally(() => runs.delete(request.runId));
      return { started: request.runId };
    }
    case 'cancel': {
      const controller = runs.get(request.runId);
      controller?.abort();
      return { cancelled: controller !== undefined };
    }
    case 'shutdown': {
      const running = runs.size;
      for (const controller of runs.values()) controller.abort('shutdown');
      // Answer first, then exit once the runs have written their checkpoints and said so.
      setImmediate(() => exitWhenIdle(5000));
      return { runs: running };
    }
  }
}

if (process.send) {
  process.on('message', (message: unknown) => {
    const request = parseRequest(message);
    const id = typeof (message as { id?: unknown })?.id === 'number' ? (message as { id: number }).id : -1;
    if (typeof request === 'string') {
      send({ type: 'response', id, ok: false, error: { name: 'ProtocolError', message: request } });
      return;
    }
    handle(request).then(
      (result) => send({ type: 'response', id: request.id, ok: true, result }),
      (error) => send({ type: 'response', id: request.id, ok: false, error: serializeError(error) }),
    );
  });
  // The extension going away must not leave an orphan training: finish with a checkpoint.
  process.on('disconnect', () => {
    for (const controller of runs.values()) controller.abort('shutdown');
    exitWhenIdle(5000);
  });
  send({ type: 'log', level: 'info', message: `runtime ready (pid ${process.pid})` });
}
