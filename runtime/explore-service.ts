/**
 * The Latent Explorer's requests, answered in the runtime process: one inference session per run
 * folder (by default a worker thread with its own TF.js, so decoding never waits behind a training
 * step; in the explorer's own runtime, where nothing trains, on this thread), the split's means
 * projected to 2-d here, and every array packed for the JSON IPC channel. The server checks that
 * each run folder lies inside the runs folder before it comes here.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { latentStatisticsOf } from './analysis/latent-stats';
import { principalComponents, project } from './analysis/pca';
import { InferenceClient } from './inference/client';
import type { EncodeResult, Inference, OpenResult, Pixels } from './inference/protocol';
import type { UmapMessage, UmapStart } from './explore-umap';
import { resolveCheckpoint } from './run/load-run';
import { permutation } from './util/random';
import { quantizePixels } from './views-data';
import type { ExploreDimension, ExploreExampleResult, ExploreImages, ExploreMemory, ExploreModel, ExploreRequest, ExploreResult, RuntimeRequestResults } from './protocol';

/** Sessions kept at once (each costs a model and a dataset, and a worker its TF.js): the least recently used one closes. */
const MAX_WORKERS = 2;
/** A variational model's traversal spans ±3 prior standard deviations around the data's mean. */
const PRIOR_SPAN = 3;
/** A plain autoencoder's spans ±3 standard deviations of its codes. */
const CODE_SPAN = 3;
/** The most points a UMAP layout takes (a seeded subsample beyond): 10k take about 16 s on 2 cores. */
export const UMAP_LIMIT = 5000;
const UMAP_SEED = 612;

/**
 * The float input of one encoding batch, in bytes: the wasm backend's memory starts at 16 MB,
 * grows to hold a batch's activations and never shrinks, so the batch is held small enough for
 * an MNIST MLP's to fit in it (250 images; 500 grew it to 23 MB), and smaller for larger images.
 */
const ENCODE_BATCH_BYTES = 800_000;

function encodeBatch([height, width, channels]: [number, number, number]): number {
  return Math.max(16, Math.min(500, Math.floor(ENCODE_BATCH_BYTES / (height * width * channels * 4))));
}

/** The UMAP worker's entry: the bundle beside this one, else the TypeScript source through the repository's bootstrap. */
function startUmap(start: UmapStart): Worker {
  const bundled = path.join(__dirname, 'explore-umap.js');
  if (existsSync(bundled)) return new Worker(bundled, { workerData: start });
  return new Worker(path.join(__dirname, '..', 'scripts', 'ts-worker.cjs'), { argv: [path.join(__dirname, 'explore-umap.ts')], workerData: start });
}

/** A seeded UMAP layout of `count` points, off this thread; `onProgress` after each tenth of it. */
function umapLayout(points: Float32Array, count: number, latent: number, onProgress?: (done: number, total: number) => void): Promise<Float32Array> {
  return new Promise((resolve, reject) => {
    const worker = startUmap({ points, count, latent, seed: UMAP_SEED });
    worker.on('message', (message: UmapMessage) => {
      if (message.type === 'progress') onProgress?.(message.done, message.total);
      else {
        resolve(message.embedding);
        void worker.terminate();
      }
    });
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new Error(`the UMAP worker exited (code ${code}) before its layout was done`)));
  });
}

/** The rows of an encoded split at `rows`. */
function selectRows(encoded: EncodeResult, rows: Uint32Array): { means: Float32Array; labels: Uint8Array; losses: Float32Array; logVariances?: Float32Array } {
  const { latent } = encoded;
  const pick = (values: Float32Array, width: number) => {
    const out = new Float32Array(rows.length * width);
    rows.forEach((row, index) => out.set(values.subarray(row * width, (row + 1) * width), index * width));
    return out;
  };
  return { means: pick(encoded.means, latent), labels: Uint8Array.from(rows, (row) => encoded.labels[row]), losses: pick(encoded.losses, 1), ...(encoded.logVariances ? { logVariances: pick(encoded.logVariances, latent) } : {}) };
}

function floats(values: Float32Array): string {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
}

function bytes(pixels: Float32Array): string {
  return Buffer.from(quantizePixels(pixels)).toString('base64');
}

function images(result: Pixels): ExploreImages {
  return { count: result.count, shape: result.shape, pixels: bytes(result.pixels) };
}

function modelOf(opened: OpenResult): ExploreModel {
  return { checkpoint: opened.checkpoint, epoch: opened.epoch, kind: opened.kind, variational: opened.variational, latent: opened.latent, shape: opened.shape, classes: opened.classes, units: opened.units, decodes: opened.decodes, ...(opened.reason ? { reason: opened.reason } : {}) };
}

/** Each dimension's KL (or variance for a plain autoencoder), activity and slider range, largest KL first. */
export function latentDimensions(means: Float32Array, logVariances: Float32Array | undefined, count: number, latent: number): ExploreDimension[] {
  const average = new Float64Array(latent);
  for (let row = 0; row < count; row++) for (let column = 0; column < latent; column++) average[column] += means[row * latent + column];
  for (let column = 0; column < latent; column++) average[column] /= Math.max(1, count);
  // A plain autoencoder's codes have no posterior: zero log-variances leave its means' variance exact, and its KL unused.
  const statistics = latentStatisticsOf(means.subarray(0, count * latent), logVariances?.subarray(0, count * latent) ?? new Float32Array(count * latent), latent);
  const dimensions = Array.from({ length: latent }, (_, index): ExploreDimension => {
    const variance = statistics.meanVariance[index];
    const span = logVariances ? PRIOR_SPAN : CODE_SPAN * Math.sqrt(variance) || 1;
    return { index, kl: logVariances ? statistics.klPerDimension[index] : variance, active: statistics.active[index], low: average[index] - span, high: average[index] + span };
  });
  return dimensions.sort((a, b) => b.kl - a.kl || a.index - b.index);
}

function checkpointKey(runDir: string, checkpoint: string): string {
  try {
    const file = resolveCheckpoint(runDir, checkpoint);
    return `${checkpoint} ${file} ${statSync(file).mtimeMs}`;
  } catch {
    // The worker's open says what is missing.
    return checkpoint;
  }
}

interface Opened {
  client: Inference;
  /** The checkpoint asked for, its file and that file's time: a rewritten `last` is opened again. */
  opened?: string;
  opening?: Promise<OpenResult>;
  used: number;
}

export class ExploreService {
  private readonly workers = new Map<string, Opened>();
  /** UMAP layouts by run folder, checkpoint file and time, split and limit: asked again, not computed again. */
  private readonly layouts = new Map<string, Promise<Float32Array>>();
  private clock = 0;

  constructor(private readonly dataDir: () => string | undefined, private readonly startClient: () => Inference = () => new InferenceClient()) {}

  /** The worker for a run folder with `checkpoint` open in it; requests to one worker run in order. */
  private open(runDir: string, checkpoint: string): { client: Inference; opened: Promise<OpenResult> } {
    let entry = this.workers.get(runDir);
    // A worker that exited or crashed answers nothing more: a new one takes its place.
    if (entry?.client.closed) {
      this.workers.delete(runDir);
      entry = undefined;
    }
    if (!entry) {
      if (this.workers.size >= MAX_WORKERS) {
        const [oldest] = [...this.workers.entries()].sort((a, b) => a[1].used - b[1].used)[0];
        void this.workers.get(oldest)!.client.close();
        this.workers.delete(oldest);
      }
      entry = { client: this.startClient(), used: 0 };
      this.workers.set(runDir, entry);
    }
    entry.used = ++this.clock;
    const key = checkpointKey(runDir, checkpoint);
    if (entry.opened !== key || !entry.opening) {
      const dataDir = this.dataDir();
      entry.opened = key;
      entry.opening = entry.client.open({ runDir, checkpoint, ...(dataDir ? { dataDir } : {}) });
      const opening = entry.opening;
      // A failed open is asked again next time (the checkpoint may appear once an epoch lands).
      opening.catch(() => {
        if (entry.opening === opening) entry.opening = undefined;
      });
    }
    return { client: entry.client, opened: entry.opening };
  }

  async handle(request: ExploreRequest, runDir: string, onProgress?: (done: number, total: number) => void): Promise<RuntimeRequestResults[ExploreRequest['type']]> {
    const { client, opened } = this.open(runDir, request.checkpoint);
    const model = await opened;
    const vectors = request.type === 'exploreDecode' ? request.z : request.type === 'exploreInterpolate' ? [request.from, request.to] : [];
    const wrong = vectors.find((vector) => vector.length !== model.latent);
    if (wrong) throw new RangeError(`${request.type}: a latent vector of ${wrong.length} values; this model's code has ${model.latent}`);
    switch (request.type) {
      case 'explore': return this.explore(client, model, request, `${runDir} ${checkpointKey(runDir, request.checkpoint)}`, onProgress);
      case 'exploreExample': {
        const example = await client.example({ split: request.split, index: request.index });
        return { index: example.index, label: example.label, loss: example.loss, shape: example.shape, input: bytes(example.input), reconstruction: bytes(example.reconstruction), mean: [...example.mean] } satisfies ExploreExampleResult;
      }
      case 'exploreDecode': {
        const z = new Float32Array(request.z.length * model.latent);
        request.z.forEach((vector, row) => z.set(vector, row * model.latent));
        return images(await client.decode({ z, count: request.z.length, ...(request.labels ? { labels: request.labels } : {}) }, { channel: request.view }));
      }
      case 'exploreInterpolate':
        return images(await client.interpolate({ from: { z: Float32Array.from(request.from) }, to: { z: Float32Array.from(request.to) }, steps: request.steps, method: request.method, ...(request.label === undefined ? {} : { label: request.label }) }));
    }
  }

  private async explore(client: Inference, opened: OpenResult, request: Extract<ExploreRequest, { type: 'explore' }>, key: string, onProgress?: (done: number, total: number) => void): Promise<ExploreResult> {
    const encoded = await client.encode({ split: request.split, batch: encodeBatch(opened.shape), ...(request.limit ? { limit: request.limit } : {}) });
    const { count, latent, means } = encoded;
    let projection: ExploreResult['projection'];
    if (request.projection === 'umap' && latent > 2 && count > 2) {
      const rows = count > UMAP_LIMIT ? permutation(count, UMAP_SEED).slice(0, UMAP_LIMIT).sort() : Uint32Array.from({ length: count }, (_, index) => index);
      const selected = selectRows(encoded, rows);
      const cacheKey = `${key} ${request.split} ${request.limit ?? ''}`;
      let layout = this.layouts.get(cacheKey);
      if (!layout) {
        layout = umapLayout(selected.means, rows.length, latent, onProgress);
        this.layouts.set(cacheKey, layout);
        layout.catch(() => this.layouts.delete(cacheKey));
      }
      const embedding = await layout;
      return {
        model: modelOf(opened),
        split: request.split,
        count: rows.length,
        indices: Array.from(rows),
        means: floats(selected.means),
        labels: Buffer.from(selected.labels).toString('base64'),
        losses: floats(selected.losses),
        projection: { method: 'umap', points: floats(embedding), mean: [], components: [], explained: [] },
        dimensions: latentDimensions(means, encoded.logVariances, count, latent),
      };
    }
    if (latent <= 2) {
      // A 1-d code gets a zero second axis; a 2-d one is shown as it is.
      const points = new Float32Array(count * 2);
      for (let row = 0; row < count; row++) for (let column = 0; column < latent; column++) points[row * 2 + column] = means[row * latent + column];
      projection = { method: 'identity', points: floats(points), mean: new Array<number>(latent).fill(0), components: [], explained: [] };
    } else {
      const pca = principalComponents(means, count, latent, 2);
      const components = [0, 1].map((component) => Array.from(pca.components.subarray(component * latent, (component + 1) * latent)));
      projection = { method: 'pca', points: floats(project(means, count, pca)), mean: Array.from(pca.mean), components, explained: pca.explained };
    }
    return {
      model: modelOf(opened),
      split: request.split,
      count,
      means: floats(means),
      labels: Buffer.from(encoded.labels).toString('base64'),
      losses: floats(encoded.losses),
      projection,
      dimensions: latentDimensions(means, encoded.logVariances, count, latent),
    };
  }

  /** The process's memory and each open run folder's session's (asked after what it is doing). */
  async memory(): Promise<ExploreMemory> {
    const open = [...this.workers.entries()].filter(([, entry]) => !entry.client.closed);
    const sessions = await Promise.all(open.map(async ([runDir, entry]) => ({ runDir, ...(await entry.client.memory()) })));
    const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
    return { rss, heapUsed, heapTotal, external, arrayBuffers, sessions };
  }

  async close(): Promise<void> {
    const workers = [...this.workers.values()];
    this.workers.clear();
    await Promise.all(workers.map((entry) => entry.client.close()));
  }
}
