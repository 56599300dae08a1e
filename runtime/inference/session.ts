/**
 * One open run and what can be asked of it: encode a split, show one example, decode latent
 * vectors, interpolate, traverse. The model is the run's own (run/open-run.ts builds it with the
 * training code and loads the chosen checkpoint), and encoding and decoding go through
 * analysis/latent-codes.ts, as the CLI's encode and decode do. The inference worker holds one
 * session; nothing here knows about threads.
 */
import path from 'node:path';
import { isMainThread } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import type { EncodedSplit } from '../analysis/latent-codes';
import { decodeLatents, decodeRefusal, encodeSplit } from '../analysis/latent-codes';
import { lossUnits } from '../analysis/evaluate';
import { disposeInputs, exampleInputs, exampleNeeds } from '../analysis/example-inputs';
import type { Dataset, Split } from '../data/dataset';
import { exampleSize } from '../data/dataset';
import { loadDataset } from '../data/index';
import { forward, toPixels } from '../model/losses';
import { readRunConfig } from '../run-folder';
import { resolveCheckpoint } from '../run/load-run';
import type { OpenRun } from '../run/open-run';
import { openRun } from '../run/open-run';
import { CancelledError, CannotDecodeError, InferenceRequestError } from './errors';
import { interpolationPath, traversalPath } from './latent-paths';
import { PackedImages } from './packed-images';
import type {
  DecodeRequest, EncodeRequest, EncodeResult, ExampleRequest, ExampleResult, ImageShape, InferenceBackend, InterpolateRequest, LatentPoint,
  MemoryResult, OpenRequest, OpenResult, PathResult, Pixels, SplitName, TraverseRequest, TraverseResult,
} from './protocol';

/** A split whose images take more than this is held deflated in blocks (packed-images.ts), where it can be. */
const PACK_ABOVE_BYTES = 4 << 20;

/** Vectors decoded per forward pass: bounds the memory of a large decode and lets a cancel in between. */
const DECODE_CHUNK = 256;

/** How a request is stopped and followed while it runs. */
export interface Work {
  signal?: AbortSignal;
  /** Called between batches (examples or images done, of total); it may abort the signal. */
  onProgress?: (done: number, total: number) => void;
  /** Asked before each step that cannot be undone; it may abort the signal (a cancel that arrived another way). */
  poll?: () => void;
}

function stopIfAborted(work: Work): void {
  work.poll?.();
  if (work.signal?.aborted) throw new CancelledError('cancelled');
}

export class InferenceSession {
  private run?: OpenRun;
  /** The dataset held; a packed split's images are in `packed`, its own `images` empty. */
  private data?: { key: string; split: SplitName; dataset: Dataset; packed: Partial<Record<'train' | 'test', PackedImages>> };
  /** The folder relative dataset paths resolve against: the experiment file's, as when it trained. */
  private baseDir = '';

  constructor(private readonly backend: InferenceBackend) {}

  /**
   * Opens a run's checkpoint, replacing the run open before; a run or checkpoint that cannot be
   * opened leaves the previous one open, and its error names the folder or file and the fault.
   */
  async open(request: Omit<OpenRequest, 'id' | 'type'>, work: Work = {}): Promise<OpenResult> {
    const runDir = path.resolve(request.runDir);
    const opened = await openRun(runDir, { checkpoint: request.checkpoint, dataDir: request.dataDir, backend: this.backend, signal: work.signal });
    let checkpoint: string;
    let baseDir: string;
    try {
      checkpoint = path.basename(resolveCheckpoint(runDir, request.checkpoint), '.ckpt');
      baseDir = path.dirname(readRunConfig(runDir).sourceFile);
      // A cancelled open changes nothing: the run open before stays open.
      stopIfAborted(work);
    } catch (error) {
      opened.dispose();
      throw error;
    }
    this.run?.dispose();
    this.run = opened;
    this.baseDir = baseDir;
    const { model, config } = opened;
    const reason = decodeRefusal(model);
    return {
      runDir,
      checkpoint,
      epoch: opened.epoch,
      kind: model.kind,
      variational: model.variational,
      latent: model.latent,
      shape: [...model.inputShape] as ImageShape,
      classes: model.classes,
      units: lossUnits(config.data, config.model),
      decodes: reason === undefined,
      ...(reason === undefined ? {} : { reason }),
    };
  }

  /**
   * The split's codes. `all` is its train split's, then its test split's, each encoded as that
   * split alone: the images of both joined would be a second copy of the dataset (55 MB for
   * MNIST), and a test example gets the same code (and draws) under `test` and `all`.
   */
  async encode(request: Omit<EncodeRequest, 'id' | 'type'>, work: Work = {}): Promise<EncodeResult> {
    const { model, config } = this.opened();
    const dataset = await this.dataset(request.split, work);
    const splits: ('train' | 'test')[] = request.split === 'all' ? ['train', 'test'] : [request.split];
    const total = Math.min(request.limit ?? Number.MAX_SAFE_INTEGER, splits.reduce((sum, split) => sum + dataset[split].count, 0));
    const parts: EncodedSplit[] = [];
    let done = 0;
    for (const split of splits) {
      const end = done + Math.min(total - done, dataset[split].count);
      // A packed split goes block by block; another in one go.
      for (let first = 0; done < end; ) {
        const view = this.view(split, first);
        const count = Math.min(end - done, view.end - view.at);
        const offset = done;
        parts.push(await encodeSplit(model, view.dataset, config.data, { split, first: view.at, limit: count, batchSize: request.batch, seed: config.seed, signal: work.signal, onProgress: work.onProgress && ((encoded) => work.onProgress!(offset + encoded, total)) }));
        first += count;
        done += count;
      }
    }
    stopIfAborted(work);
    return {
      count: done,
      latent: model.latent,
      means: joined(parts.map((part) => part.means), Float32Array),
      ...(model.variational ? { logVariances: joined(parts.map((part) => part.logVariances!), Float32Array) } : {}),
      labels: joined(parts.map((part) => part.labels), Uint8Array),
      losses: joined(parts.map((part) => part.loss), Float32Array),
    };
  }

  /** Example `index` of a split: its input, what the encoder saw, its reconstruction (μ decoded), code and loss. */
  async example(request: Omit<ExampleRequest, 'id' | 'type'>, work: Work = {}): Promise<ExampleResult> {
    const { model, config } = this.opened();
    const dataset = await this.dataset(request.split, work);
    const { split, at: index } = exampleOf(dataset, request.split, request.index);
    const { dataset: held, at } = this.view(split, index);
    // The example's own draws (corruption, mask, binarization): the very input its point of the split's encoding saw.
    const encoded = await encodeSplit(model, held, config.data, { split, first: at, limit: 1, seed: config.seed, signal: work.signal });
    const inputs = exampleInputs(held[split], [at], dataset.shape, config.data.binarize, config.seed, exampleNeeds(model));
    const images = tf.tidy(() => {
      const { input, output } = forward(model, inputs, { training: false, sample: false });
      return [tf.clone(inputs.x), toPixels(model, output), ...(model.kind === 'denoising-ae' ? [tf.clone(input)] : [])];
    });
    const mask = inputs.mask ? ((await inputs.mask.data()) as Float32Array) : undefined;
    disposeInputs(inputs);
    const [input, reconstruction, encoderInput] = await Promise.all(images.map((tensor) => tensor.data() as Promise<Float32Array>));
    tf.dispose(images);
    return {
      split: request.split,
      index: request.index,
      label: held[split].labels[at],
      input,
      ...(encoderInput ? { encoderInput } : {}),
      ...(mask ? { mask } : {}),
      reconstruction,
      shape: [...dataset.shape] as ImageShape,
      mean: encoded.means,
      ...(encoded.logVariances ? { logVariance: encoded.logVariances } : {}),
      loss: encoded.loss[0],
    };
  }

  async decode(request: Omit<DecodeRequest, 'id' | 'type'>, work: Work = {}): Promise<Pixels> {
    const { model } = this.decoder();
    if (request.z.length !== request.count * model.latent) throw new InferenceRequestError(`${request.count} latent vector${request.count === 1 ? '' : 's'} of ${model.latent} values ${request.count === 1 ? 'needs' : 'need'} ${request.count * model.latent} numbers, not ${request.z.length}`);
    if (request.labels === undefined && model.classes > 0) throw new InferenceRequestError(`this cvae decodes each vector with a class: give labels (0–${model.classes - 1}), one per vector`);
    if (request.labels !== undefined && model.classes === 0) throw new InferenceRequestError(`labels are for a cvae; this model is a ${model.kind}`);
    return this.decodeRows(request.z, request.count, request.labels, work);
  }

  async interpolate(request: Omit<InterpolateRequest, 'id' | 'type'>, work: Work = {}): Promise<PathResult> {
    const labels = this.stripLabels(request.label, request.steps);
    const from = await this.point(request.from, 'from', work);
    const to = await this.point(request.to, 'to', work);
    const z = interpolationPath(from, to, request.steps, request.method);
    return { ...(await this.decodeRows(z, request.steps, labels, work)), z };
  }

  async traverse(request: Omit<TraverseRequest, 'id' | 'type'>, work: Work = {}): Promise<TraverseResult> {
    const { model } = this.decoder();
    if (request.dimension >= model.latent) throw new InferenceRequestError(`dimension ${request.dimension} is past the ${model.latent}-d code (dimensions 0–${model.latent - 1})`);
    const labels = this.stripLabels(request.label, request.steps);
    const origin = await this.point(request.origin, 'origin', work);
    const { z, values } = traversalPath(origin, request.dimension, request.low, request.high, request.steps);
    return { ...(await this.decodeRows(z, request.steps, labels, work)), z, values };
  }

  memory(): MemoryResult {
    const memory = tf.memory();
    const usage = process.memoryUsage();
    const data = this.data;
    const held = data ? (['train', 'test'] as const).reduce((sum, split) => sum + data.dataset[split].images.byteLength + data.dataset[split].labels.byteLength + (data.packed[split]?.byteLength ?? 0), 0) : 0;
    // The engine's registry, not findBackend: that would start a backend only to measure it.
    const wasm = tf.engine().registry.wasm as { wasm?: { HEAPU8?: Uint8Array } } | undefined;
    return {
      tensors: memory.numTensors,
      bytes: memory.numBytes,
      thread: isMainThread ? 'main' : 'worker',
      datasetBytes: held,
      wasmBytes: wasm?.wasm?.HEAPU8?.buffer.byteLength ?? 0,
      heapUsed: usage.heapUsed,
      heapTotal: usage.heapTotal,
      external: usage.external,
      arrayBuffers: usage.arrayBuffers,
    };
  }

  dispose(): void {
    this.run?.dispose();
    this.run = undefined;
    this.data = undefined;
  }

  private opened(): OpenRun {
    if (!this.run) throw new InferenceRequestError('no run is open: send open (a run folder and a checkpoint) first');
    return this.run;
  }

  /** The open run, if its model can decode a free latent point. */
  private decoder(): OpenRun {
    const run = this.opened();
    const refusal = decodeRefusal(run.model);
    if (refusal) throw new CannotDecodeError(refusal);
    return run;
  }

  /**
   * The run's dataset on this machine, loaded once for every checkpoint of the run, holding only
   * the split asked for (MNIST's train images are 47 MB the test split's points never read), and
   * reading only that one where its files are its own (IDX, CIFAR-10): what is read and dropped
   * stays in the process's memory until a collection; a request for another split loads again.
   */
  private async dataset(split: SplitName, work: Work): Promise<Dataset> {
    const { config } = this.opened();
    const baseDir = this.baseDir;
    const key = JSON.stringify([config.data, config.dataDir, baseDir, config.seed]);
    if (this.data?.key !== key || (this.data.split !== 'all' && this.data.split !== split)) {
      // The one held goes first: two copies of a large dataset never live at once.
      this.data = undefined;
      const only = split === 'all' ? undefined : split;
      const dataset = await loadDataset(config.data, { dataDir: config.dataDir, baseDir, seed: config.seed, signal: work.signal, ...(only ? { only } : {}) });
      // Formats that split one source (sprites, image folders) give both: the other goes here.
      const empty: Split = { images: new Uint8Array(0), labels: new Uint8Array(0), count: 0 };
      const kept: Dataset = split === 'all' ? dataset : { ...dataset, ...(split === 'test' ? { train: empty } : { test: empty }) };
      const packed: Partial<Record<'train' | 'test', PackedImages>> = {};
      if (this.packable()) {
        for (const name of ['train', 'test'] as const) {
          const { images, labels, count } = kept[name];
          if (images.byteLength <= PACK_ABOVE_BYTES) continue;
          packed[name] = new PackedImages(images, count, exampleSize(kept));
          kept[name] = { images: new Uint8Array(0), labels, count };
        }
      }
      this.data = { key, split, dataset: kept, packed };
    }
    return this.data.dataset;
  }

  /**
   * Whether the open model's inputs are drawn from nothing random (no dynamic binarization, patch
   * mask or corruption): then an example's input is the same at its place in a block as in its
   * split, whose index seeds those draws, and the split can be packed.
   */
  private packable(): boolean {
    const { model, config } = this.opened();
    const needs = exampleNeeds(model);
    return config.data.binarize !== 'dynamic' && !needs.mask && !needs.corruption;
  }

  /**
   * Split `name` of the held dataset as encodeSplit and exampleInputs read it, from example `first`
   * on: the whole split, or, packed, the block that holds `first` as the split, `at` and `end`
   * within it.
   */
  private view(name: 'train' | 'test', first: number): { dataset: Dataset; at: number; end: number } {
    const { dataset, packed } = this.data!;
    const images = packed[name];
    if (!images) return { dataset, at: first, end: dataset[name].count };
    const block = Math.floor(first / images.perBlock);
    const start = block * images.perBlock;
    const count = Math.min(images.perBlock, images.count - start);
    const split: Split = { images: images.block(block), labels: dataset[name].labels.subarray(start, start + count), count };
    return { dataset: { ...dataset, [name]: split }, at: first - start, end: count };
  }

  /** One label per image for a strip decoded with one class; refused where the kind takes none, or needs one. */
  private stripLabels(label: number | undefined, rows: number): number[] | undefined {
    const { model } = this.decoder();
    if (model.classes === 0) {
      if (label !== undefined) throw new InferenceRequestError(`label is for a cvae; this model is a ${model.kind}`);
      return undefined;
    }
    if (label === undefined) throw new InferenceRequestError(`this cvae decodes with a class: give label (0–${model.classes - 1})`);
    return new Array<number>(rows).fill(label);
  }

  /** A latent point's vector: the one given, or an example's μ (its own label conditions a cvae's encoder). */
  private async point(point: LatentPoint, field: string, work: Work): Promise<Float32Array> {
    const { model, config } = this.opened();
    if ('z' in point) {
      if (point.z.length !== model.latent) throw new InferenceRequestError(`${field}.z has ${point.z.length} values; the code has ${model.latent}`);
      return point.z;
    }
    const dataset = await this.dataset(point.split, work);
    const { split, at: index } = exampleOf(dataset, point.split, point.index, `${field}.index`);
    const { dataset: held, at } = this.view(split, index);
    const encoded = await encodeSplit(model, held, config.data, { split, first: at, limit: 1, seed: config.seed, signal: work.signal });
    return encoded.means;
  }

  private async decodeRows(z: Float32Array, rows: number, labels: number[] | undefined, work: Work): Promise<Pixels> {
    const { model } = this.decoder();
    const [height, width, channels] = model.inputShape;
    const size = height * width * channels;
    const pixels = new Float32Array(rows * size);
    for (let start = 0; start < rows; start += DECODE_CHUNK) {
      stopIfAborted(work);
      const end = Math.min(rows, start + DECODE_CHUNK);
      const chunk = await decodeLatents(model, z.subarray(start * model.latent, end * model.latent), end - start, labels?.slice(start, end));
      pixels.set(chunk, start * size);
      work.onProgress?.(end, rows);
    }
    stopIfAborted(work);
    return { pixels, count: rows, shape: [height, width, channels] };
  }
}

/** The parts one after another (the part itself when there is one). */
function joined<T extends Float32Array | Uint8Array>(parts: T[], kind: new (length: number) => T): T {
  if (parts.length === 1) return parts[0];
  const whole = new kind(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    whole.set(part, at);
    at += part.length;
  }
  return whole;
}

/** Which split an example of `split` (train, test, or all: train then test) lies in, and where. */
function exampleOf(dataset: Dataset, split: SplitName, index: number, field = 'index'): { split: 'train' | 'test'; at: number } {
  const inTrain = split === 'train' || (split === 'all' && index < dataset.train.count);
  const source = inTrain ? dataset.train : dataset.test;
  const at = split === 'all' && !inTrain ? index - dataset.train.count : index;
  const total = split === 'all' ? dataset.train.count + dataset.test.count : source.count;
  if (at >= source.count) throw new InferenceRequestError(`${field} ${index} is past the ${split} split's ${total} examples (0–${total - 1})`);
  return { split: inTrain ? 'train' : 'test', at };
}
