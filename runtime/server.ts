/**
 * The runtime as a child process of the extension: requests arrive over Node's IPC channel,
 * are validated, and answered once each; engine events stream back as notifications, with
 * progress throttled so the extension host is never flooded. Run folders are written only inside
 * the runs folder the extension named (`runsRoot`), and nothing a request sent is echoed back whole.
 */
import { realpathSync } from 'node:fs';
import path from 'node:path';
import type { BackendName } from './backends/names';
import { BACKENDS } from './backends/names';
import { selectBackend } from './backends/select';
import { CELL_KINDS } from './cells';
import { runExperiment } from './engine';
import type { EngineEvent, RuntimeMessage, RuntimeRequest, RuntimeRequestResults, RuntimeRequestType, SerializedError } from './protocol';
import { ExploreService } from './explore-service';
import { InferenceClient } from './inference/client';
import { InThreadInference } from './inference/in-thread';
import { experimentName } from './run-folder';

const PROGRESS_INTERVAL_MS = Number(process.env.AEXP_PROGRESS_INTERVAL_MS ?? 200);
/** The most of a request's own value (a path, a run id) that an error message repeats. */
const ECHO_LIMIT = 200;
const MESSAGE_LIMIT = 4000;
/** The most runs folders an explorer's runtime may be given. */
const MAX_EXPLORE_ROOTS = 64;
/** The most latent vectors one explorer decode may carry, and the widest code. */
const DECODE_LIMIT = 256;
const LATENT_LIMIT = 4096;
const EXPLORE_SPLITS = ['train', 'test', 'all'];

function send(message: RuntimeMessage, sent?: () => void): void {
  process.send?.(message, undefined, {}, sent);
}

/**
 * After an explore answer in the explorer's own runtime (inference: thread), when the process was
 * started with --expose-gc (extension/explorer-runtime-start.ts): the answer's JSON and base64
 * copies (tens of MB for 70k points) are garbage that V8 left resident for as long as the runtime
 * sat idle (30 s and more, measured); one full collection, tens of milliseconds once per
 * projection, gives them back.
 */
function collectAfterExplore(): void {
  if (defaults.inference === 'thread') (globalThis as { gc?: () => void }).gc?.();
}

/** A value from a request, as an error message may repeat it: JSON, cut to ECHO_LIMIT characters. */
export function echo(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length <= ECHO_LIMIT ? text : `${text.slice(0, ECHO_LIMIT)}… (${text.length} characters)`;
}

function bounded(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit)}… (${text.length - limit} more characters)`;
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) return { name: error.name, message: bounded(error.message, MESSAGE_LIMIT), stack: error.stack === undefined ? undefined : bounded(error.stack, 2 * MESSAGE_LIMIT) };
  return { name: 'Error', message: bounded(String(error), MESSAGE_LIMIT) };
}

export class ContainmentError extends Error {
  override name = 'ContainmentError';
}

/** `target` with every part that exists resolved through symbolic links (what the OS would write to). */
function realTarget(target: string): string {
  const missing: string[] = [];
  let existing = target;
  for (;;) {
    try {
      return path.join(realpathSync(existing), ...missing.reverse());
    } catch {
      const parent = path.dirname(existing);
      if (parent === existing) return target;
      missing.push(path.basename(existing));
      existing = parent;
    }
  }
}

/** `target` (absolute, or relative to `root`) if it lies inside `root` once links are followed; refused otherwise. */
export function containedPath(root: string, target: string, key: string): string {
  const resolved = path.resolve(root, target);
  const relative = path.relative(realTarget(root), realTarget(resolved));
  if (relative.startsWith('..') || path.isAbsolute(relative)) throw new ContainmentError(`${key} ${echo(target)} is outside the runs folder ${echo(root)}; run folders are written only inside it`);
  return resolved;
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
      if (!optionalString('dataDir') || !optionalString('runsRoot')) return 'dataDir and runsRoot must be strings';
      if (request.runsRoot !== undefined && !path.isAbsolute(request.runsRoot as string)) return `runsRoot must be an absolute folder, not ${echo(request.runsRoot)}`;
      if (request.exploreRoots !== undefined) {
        if (!Array.isArray(request.exploreRoots) || request.exploreRoots.length === 0 || request.exploreRoots.length > MAX_EXPLORE_ROOTS) return `exploreRoots must be a list of 1 to ${MAX_EXPLORE_ROOTS} absolute folders`;
        const relative = request.exploreRoots.findIndex((root) => typeof root !== 'string' || !path.isAbsolute(root));
        if (relative >= 0) return `exploreRoots[${relative}] must be an absolute folder, not ${echo(request.exploreRoots[relative])}`;
      }
      if (request.inference !== undefined && request.inference !== 'worker' && request.inference !== 'thread') return `inference must be worker or thread, not ${echo(request.inference)}`;
      return request as unknown as RuntimeRequest;
    case 'run': {
      if (typeof request.runId !== 'string' || typeof request.file !== 'string') return 'run needs runId and file strings';
      if (request.runId.length > ECHO_LIMIT) return `runId must be at most ${ECHO_LIMIT} characters, not ${request.runId.length}`;
      if (!optionalString('text') || !optionalString('outDir') || !optionalString('resume')) return 'text, outDir and resume must be strings';
      if (request.text === undefined && request.resume === undefined) return 'run needs the experiment\'s text (text), unless it resumes a run folder (resume)';
      if (request.reuse !== undefined && typeof request.reuse !== 'boolean') return 'reuse must be a boolean';
      if (request.cells !== undefined && !(Array.isArray(request.cells) && request.cells.every((cell) => (CELL_KINDS as readonly unknown[]).includes(cell)))) return `cells must be a list of ${CELL_KINDS.join(', ')}`;
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
    case 'exploreMemory':
      return request as unknown as RuntimeRequest;
    case 'explore':
    case 'exploreExample':
    case 'exploreDecode':
    case 'exploreInterpolate':
      return parseExploreRequest(request);
    default:
      return `unknown request type ${echo(request.type)}`;
  }
}

function isVector(value: unknown): value is number[] {
  return Array.isArray(value) && value.length > 0 && value.length <= LATENT_LIMIT && value.every((item) => typeof item === 'number' && Number.isFinite(item));
}

function isCount(value: unknown, low: number, high: number): boolean {
  return Number.isInteger(value) && (value as number) >= low && (value as number) <= high;
}

/** The explorer's requests: a run folder and checkpoint named by strings, and vectors of finite numbers. */
function parseExploreRequest(request: Record<string, unknown>): RuntimeRequest | string {
  const type = request.type as string;
  if (typeof request.runDir !== 'string' || typeof request.checkpoint !== 'string') return `${type} needs runDir and checkpoint strings`;
  if (!/^(last|best|epoch-\d+)$/.test(request.checkpoint)) return `checkpoint must be last, best or epoch-N, not ${echo(request.checkpoint)}`;
  switch (type) {
    case 'explore':
      if (!EXPLORE_SPLITS.includes(request.split as string)) return `split must be one of ${EXPLORE_SPLITS.join(', ')}`;
      if (request.limit !== undefined && !isCount(request.limit, 1, 1_000_000)) return 'limit must be a positive integer';
      if (request.projection !== undefined && request.projection !== 'pca' && request.projection !== 'umap') return 'projection must be pca or umap';
      if (request.token !== undefined && (typeof request.token !== 'string' || request.token.length > ECHO_LIMIT)) return `token must be a string of at most ${ECHO_LIMIT} characters`;
      break;
    case 'exploreExample':
      if (!EXPLORE_SPLITS.includes(request.split as string)) return `split must be one of ${EXPLORE_SPLITS.join(', ')}`;
      if (!isCount(request.index, 0, Number.MAX_SAFE_INTEGER)) return 'index must be a whole number ≥ 0';
      break;
    case 'exploreDecode': {
      if (typeof request.view !== 'string' || request.view.length > ECHO_LIMIT) return `view must be a string of at most ${ECHO_LIMIT} characters`;
      const z = request.z;
      if (!Array.isArray(z) || z.length === 0 || z.length > DECODE_LIMIT || !z.every(isVector) || !z.every((vector) => vector.length === z[0].length)) return `z must be 1 to ${DECODE_LIMIT} latent vectors of finite numbers, all of one length`;
      if (request.labels !== undefined && !(Array.isArray(request.labels) && request.labels.length === z.length && request.labels.every((label) => isCount(label, 0, 65535)))) return 'labels must be one class number per vector';
      break;
    }
    case 'exploreInterpolate':
      if (!isVector(request.from) || !isVector(request.to) || request.from.length !== request.to.length) return 'from and to must be latent vectors of finite numbers, of one length';
      if (!isCount(request.steps, 2, DECODE_LIMIT)) return `steps must be a whole number from 2 to ${DECODE_LIMIT}`;
      if (request.method !== 'lerp' && request.method !== 'slerp') return 'method must be lerp or slerp';
      if (request.label !== undefined && !isCount(request.label, 0, 65535)) return 'label must be a class number';
      break;
  }
  return request as unknown as RuntimeRequest;
}

const runs = new Map<string, AbortController>();
/** Ids of run requests whose run began (a refused one never did, and gets no runEnded). */
const started = new Set<number>();
let defaults: { backend?: BackendName; dataDir?: string; runsRoot: string; exploreRoots?: string[]; inference?: 'worker' | 'thread' } = { runsRoot: path.join(process.cwd(), '.aexp', 'runs') };
const explorer = new ExploreService(() => defaults.dataDir, () => (defaults.inference === 'thread' ? new InThreadInference() : new InferenceClient()));

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

/** A run folder the explorer may open: inside one of the explorer's runs folders, or refused saying so. */
function exploredFolder(runDir: string): string {
  const roots = defaults.exploreRoots ?? [defaults.runsRoot];
  for (const root of roots) {
    try {
      return containedPath(root, runDir, 'runDir');
    } catch (error) {
      if (!(error instanceof ContainmentError)) throw error;
    }
  }
  throw new ContainmentError(`runDir ${echo(runDir)} is outside ${roots.length === 1 ? 'the runs folder' : 'the runs folders'} ${roots.map(echo).join(', ')}; the explorer opens only run folders inside ${roots.length === 1 ? 'it' : 'them'}`);
}

/** An explore request's progress, as notifications that name its token. */
function progressOf(token: string): (done: number, total: number) => void {
  return (done, total) => send({ type: 'exploreProgress', token, done, total });
}

type Handled<T extends RuntimeRequestType> = Promise<RuntimeRequestResults[T]>;

async function handle<T extends RuntimeRequestType>(request: RuntimeRequest & { type: T }): Handled<T>;
async function handle(request: RuntimeRequest): Promise<RuntimeRequestResults[RuntimeRequestType]> {
  switch (request.type) {
    case 'initialize': {
      defaults = { backend: request.backend, dataDir: request.dataDir, runsRoot: request.runsRoot ?? defaults.runsRoot, ...(request.exploreRoots ? { exploreRoots: request.exploreRoots } : {}), ...(request.inference ? { inference: request.inference } : {}) };
      const info = await selectBackend(request.backend ?? 'auto');
      return { ...info, pid: process.pid, runsRoot: defaults.runsRoot };
    }
    case 'run': {
      // Its inference shares this thread's TF.js: a training would have its backend switched under it.
      if (defaults.inference === 'thread') throw new Error('this runtime answers the Latent Explorer on its own thread (initialize\'s inference: thread) and does not train');
      if (runs.has(request.runId)) throw new Error(`run ${echo(request.runId)} is already running`);
      // The experiment file is only a name here: its text came with the request, and nothing is written to it.
      const outDir = containedPath(defaults.runsRoot, request.outDir ?? experimentName(request.file), 'outDir');
      const resume = request.resume === undefined ? undefined : containedPath(defaults.runsRoot, request.resume, 'resume');
      const controller = new AbortController();
      runs.set(request.runId, controller);
      started.add(request.id);
      try {
        return await runExperiment({
          file: request.file,
          text: request.text,
          outDir,
          resume,
          reuse: request.reuse,
          cells: request.cells,
          epochs: request.overrides?.epochs,
          overrides: request.overrides?.set,
          backend: request.overrides?.backend ?? defaults.backend,
          dataDir: request.overrides?.dataDir ?? defaults.dataDir,
          signal: controller.signal,
          onEvent: forward(request.runId),
        });
      } finally {
        runs.delete(request.runId);
      }
    }
    case 'cancel': {
      const controller = runs.get(request.runId);
      controller?.abort();
      return { cancelled: controller !== undefined };
    }
    case 'shutdown': {
      const running = runs.size;
      for (const controller of runs.values()) controller.abort('shutdown');
      void explorer.close();
      // Answer first, then exit once the runs have written their checkpoints and said so.
      setImmediate(() => exitWhenIdle(5000));
      return { runs: running };
    }
    case 'exploreMemory':
      return explorer.memory();
    case 'explore':
    case 'exploreExample':
    case 'exploreDecode':
    case 'exploreInterpolate':
      // Read-only, but only run folders inside the runs folder: the explorer names nothing else.
      return explorer.handle(request, exploredFolder(request.runDir), request.type === 'explore' && request.token !== undefined ? progressOf(request.token) : undefined);
  }
}

/** Answers a request; a run that started also ends with a runEnded notification, after its answer. */
function answer(request: RuntimeRequest): void {
  handle(request).then(
    (result) => {
      send({ type: 'response', id: request.id, ok: true, result }, request.type === 'explore' ? collectAfterExplore : undefined);
      if (request.type === 'run') send({ type: 'runEnded', runId: request.runId, result: result as RuntimeRequestResults['run'] });
    },
    (error: unknown) => {
      const serialized = serializeError(error);
      send({ type: 'response', id: request.id, ok: false, error: serialized });
      if (request.type === 'run' && started.has(request.id)) send({ type: 'runEnded', runId: request.runId, error: serialized });
    },
  ).finally(() => started.delete(request.id));
}

if (process.send) {
  process.on('message', (message: unknown) => {
    const request = parseRequest(message);
    const id = typeof (message as { id?: unknown })?.id === 'number' ? (message as { id: number }).id : -1;
    if (typeof request === 'string') {
      send({ type: 'response', id, ok: false, error: { name: 'ProtocolError', message: request } });
      return;
    }
    answer(request);
  });
  // The extension going away must not leave an orphan training: finish with a checkpoint.
  process.on('disconnect', () => {
    for (const controller of runs.values()) controller.abort('shutdown');
    void explorer.close();
    exitWhenIdle(5000);
  });
  send({ type: 'log', level: 'info', message: `runtime ready (pid ${process.pid})` });
}
