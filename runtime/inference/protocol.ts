/**
 * The runtime's main thread ↔ inference worker protocol: types only, imported with `import type`
 * on both sides (messages.ts checks every message against them at run time). Requests carry ids
 * and get exactly one answer (`result` or `error`); an encode may send `progress` before it.
 * Float arrays cross as Float32Array (the worker transfers their buffers: no copy).
 */
import type { LossUnits, SerializedError } from '../protocol';
import type { ModelConfig } from '../format/schema';

/** Where the worker computes: never the native addon, whose process-wide state is the training thread's. */
export type InferenceBackend = 'wasm' | 'cpu';

/** `all` is the train split followed by the test split. */
export type SplitName = 'train' | 'test' | 'all';

/** A point in latent space: a vector, or the encoding (μ) of one example of a split. */
export type LatentPoint = { z: Float32Array } | { split: SplitName; index: number };

export interface OpenRequest {
  type: 'open';
  id: number;
  /** The run folder (absolute, or relative to the runtime's working folder). */
  runDir: string;
  /** `last`, `best` or `epoch-N` (a kept `checkpoint_every` epoch). */
  checkpoint: string;
  /** Where the dataset lives on this machine; default: the folder in the run's config.json. */
  dataDir?: string;
}

export interface EncodeRequest {
  type: 'encode';
  id: number;
  split: SplitName;
  /** The first N examples; default all. */
  limit?: number;
  /** Examples per forward pass; default 500. */
  batch?: number;
}

export interface ExampleRequest {
  type: 'example';
  id: number;
  split: SplitName;
  index: number;
}

export interface DecodeRequest {
  type: 'decode';
  id: number;
  /** `count` latent vectors, one after another (count × latent values). */
  z: Float32Array;
  count: number;
  /** cvae: the class of each vector (count integers); refused for other kinds. */
  labels?: number[];
}

export interface InterpolateRequest {
  type: 'interpolate';
  id: number;
  from: LatentPoint;
  to: LatentPoint;
  /** Images in the strip, both ends included (≥ 2). */
  steps: number;
  method: 'lerp' | 'slerp';
  /** cvae: the class the whole strip is decoded with. */
  label?: number;
}

export interface TraverseRequest {
  type: 'traverse';
  id: number;
  /** The point whose other dimensions stay fixed. */
  origin: LatentPoint;
  dimension: number;
  /** z[dimension] takes `steps` evenly spaced values from `low` to `high` (e.g. ±k standard deviations). */
  low: number;
  high: number;
  steps: number;
  label?: number;
}

/** The worker's own TF.js memory: what a leak would show. */
export interface MemoryRequest {
  type: 'memory';
  id: number;
}

export type InferenceRequest = OpenRequest | EncodeRequest | ExampleRequest | DecodeRequest | InterpolateRequest | TraverseRequest | MemoryRequest;
export type InferenceRequestType = InferenceRequest['type'];

/** Stops the request with this id: a waiting one at once, a running one at its next batch. It answers with a `CancelledError`. */
export interface CancelMessage {
  type: 'cancel';
  id: number;
}

export type WorkerInbound = InferenceRequest | CancelMessage;

/** [height, width, channels] */
export type ImageShape = [number, number, number];

export interface OpenResult {
  runDir: string;
  /** The checkpoint file read, e.g. `epoch-0004`. */
  checkpoint: string;
  /** Completed epochs in that checkpoint. */
  epoch: number;
  kind: ModelConfig['kind'];
  variational: boolean;
  latent: number;
  shape: ImageShape;
  /** cvae: the number of classes a decode takes a label from; 0 otherwise. */
  classes: number;
  units: LossUnits;
  /** Whether a free latent point can be decoded; `reason` says why not (U-Net skips). */
  decodes: boolean;
  reason?: string;
}

export interface EncodeResult {
  count: number;
  latent: number;
  /** count × latent: μ for variational kinds, the code otherwise. */
  means: Float32Array;
  /** Variational kinds: count × latent log σ². */
  logVariances?: Float32Array;
  labels: Uint8Array;
  /** Each example's objective (final regularizer weights) with μ decoded, in `units`. */
  losses: Float32Array;
}

/** Images as float32 pixels in [0, 1] (probabilities or means), count × height × width × channels. */
export interface Pixels {
  pixels: Float32Array;
  count: number;
  shape: ImageShape;
}

export interface ExampleResult {
  split: SplitName;
  index: number;
  label: number;
  /** The clean input. */
  input: Float32Array;
  /** denoising-ae: the corrupted input the encoder saw. */
  encoderInput?: Float32Array;
  /** masked-ae: height × width, 1 where a patch was masked. */
  mask?: Float32Array;
  reconstruction: Float32Array;
  shape: ImageShape;
  mean: Float32Array;
  logVariance?: Float32Array;
  loss: number;
}

export interface PathResult extends Pixels {
  /** count × latent: the decoded vectors. */
  z: Float32Array;
}

export interface TraverseResult extends PathResult {
  /** The value z[dimension] took in each image. */
  values: Float32Array;
}

export interface MemoryResult {
  /** TF.js's tensors and their bytes (the process's, where inference runs on the main thread). */
  tensors: number;
  bytes: number;
  /** Where the session runs: a worker thread of its own, or the thread that asked. */
  thread: 'worker' | 'main';
  /** The images and labels of the dataset the session holds (only the split last asked for, or both). */
  datasetBytes: number;
  /** The wasm backend's memory, once it started: it grows with the largest batch and never shrinks. */
  wasmBytes: number;
  /** That thread's V8 heap and its ArrayBuffers, as process.memoryUsage() gives them. */
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

export interface InferenceResults {
  open: OpenResult;
  encode: EncodeResult;
  example: ExampleResult;
  decode: Pixels;
  interpolate: PathResult;
  traverse: TraverseResult;
  memory: MemoryResult;
}

/** One request of a type, as the caller writes it (the client adds the id). */
export type InferenceRequestOf<T extends InferenceRequestType> = Omit<Extract<InferenceRequest, { type: T }>, 'id'>;
/** What a request of a type asks, without its type and id (the client's methods add both). */
export type InferenceRequestBody<T extends InferenceRequestType> = Omit<InferenceRequestOf<T>, 'type'>;

export type WorkerOutbound =
  /** The worker's backend started; requests sent before are answered after it. */
  | { type: 'ready'; backend: InferenceBackend; device: string }
  /** The backend did not start: every request fails with this error. */
  | { type: 'failed'; error: SerializedError }
  | { type: 'progress'; id: number; done: number; total: number }
  | { type: 'result'; id: number; result: InferenceResults[InferenceRequestType]; milliseconds: number }
  | { type: 'error'; id: number; error: SerializedError };

/**
 * What a caller asks of inference, whether a worker thread answers (InferenceClient) or the
 * caller's own thread (InThreadInference): requests run one at a time in arrival order.
 */
export interface Inference {
  /** Whether it is gone (closed, or its worker exited or crashed): every request rejects from then on. */
  readonly closed: boolean;
  open(request: InferenceRequestBody<'open'>, options?: InferenceOptions): Promise<InferenceResults['open']>;
  encode(request: InferenceRequestBody<'encode'>, options?: InferenceOptions): Promise<InferenceResults['encode']>;
  example(request: InferenceRequestBody<'example'>, options?: InferenceOptions): Promise<InferenceResults['example']>;
  /** A decode replaces a waiting decode of its channel (default `decode`): the newest wins. */
  decode(request: InferenceRequestBody<'decode'>, options?: InferenceOptions & { channel?: string }): Promise<InferenceResults['decode']>;
  interpolate(request: InferenceRequestBody<'interpolate'>, options?: InferenceOptions): Promise<InferenceResults['interpolate']>;
  traverse(request: InferenceRequestBody<'traverse'>, options?: InferenceOptions): Promise<InferenceResults['traverse']>;
  memory(options?: InferenceOptions): Promise<InferenceResults['memory']>;
  /** Ends it; what is waiting or running rejects with a CancelledError (reason `closed`). */
  close(): Promise<void>;
}

export interface InferenceOptions {
  signal?: AbortSignal;
  /** Examples or images done, of total, between batches. */
  onProgress?: (done: number, total: number) => void;
  /** The time the request itself took, in milliseconds, before its answer is delivered. */
  onComputed?: (milliseconds: number) => void;
}

/** What the worker is started with (`workerData`). */
export interface WorkerStart {
  backend: InferenceBackend;
  /** One Int32: the id + 1 of the running request the client cancelled last. */
  cancelCell: SharedArrayBuffer;
}
