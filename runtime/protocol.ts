/**
 * The extension ↔ runtime protocol: types only, imported with `import type` on both sides.
 * Requests carry ids and get exactly one response, whose result type `RuntimeRequestResults`
 * names; notifications carry no id.
 */
import type { BackendName, ConcreteBackend } from './backends/names';
import type { CellKind } from './cells';
import type { MemoryResult } from './inference/protocol';

export type { BackendName, ConcreteBackend };

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
}

/** A cell kind (`CELL_KINDS` in runtime/cells.ts lists them in run order). */
export type CellName = CellKind;

export interface RunOverrides {
  epochs?: number;
  backend?: BackendName;
  dataDir?: string;
  /** `cell.key=value`, as the CLI's --set. */
  set?: string[];
}

export type RuntimeRequest =
  | {
    type: 'initialize';
    id: number;
    backend?: BackendName;
    dataDir?: string;
    /**
     * The absolute folder that holds every run folder this runtime may write: a run's `outDir`
     * and `resume` must lie inside it. Without it, `<the runtime's cwd>/.aexp/runs`.
     */
    runsRoot?: string;
    /**
     * Absolute folders whose run folders the explorer's requests may open (read only): the runs
     * folders the extension lists. Without it, `runsRoot` alone.
     */
    exploreRoots?: string[];
    /**
     * Where the explorer's requests are answered: `worker` (default), a worker thread per run
     * folder with its own TF.js, so a decode never waits behind a training step on this thread;
     * `thread`, on this thread, for a runtime that never trains (the Latent Explorer's own): no
     * second TF.js, and `run` requests are refused.
     */
    inference?: 'worker' | 'thread';
  }
  | {
    type: 'run';
    id: number;
    runId: string;
    /** Names the experiment and anchors its relative paths; never written to. */
    file: string;
    /** The experiment's text; required unless `resume` names a run folder (which has its own copy). */
    text?: string;
    cells?: CellName[];
    overrides?: RunOverrides;
    /** The parent of the run folder, inside `runsRoot`. */
    outDir?: string;
    /** A run folder inside `runsRoot` to continue from its last checkpoint. */
    resume?: string;
    reuse?: boolean;
  }
  | { type: 'cancel'; id: number; runId: string }
  | { type: 'shutdown'; id: number }
  /** Where the explorer's memory is: the process's, and each run folder's inference session's. */
  | { type: 'exploreMemory'; id: number }
  | ExploreRequest;

export type RuntimeRequestType = RuntimeRequest['type'];
/** One request of a type, as the caller writes it (the client adds the id). */
export type RequestOf<T extends RuntimeRequestType> = Omit<Extract<RuntimeRequest, { type: T }>, 'id'>;
/**
 * Any request without its id. A client's `request<R extends OutgoingRequest>(request: R):
 * Promise<RuntimeRequestResults[R['type']]>` gives each call its own result type.
 */
export type OutgoingRequest = { [T in RuntimeRequestType]: RequestOf<T> }[RuntimeRequestType];

export interface BackendInfo {
  backend: ConcreteBackend;
  /** What the person should know about where the math runs. */
  device: string;
}

export interface InitializeResult extends BackendInfo {
  /** Why `auto` passed over each backend before this one. */
  skipped: string[];
  pid: number;
  /** The folder run folders are contained in (the request's `runsRoot`, resolved). */
  runsRoot: string;
}

/** What each request's successful response carries. */
export interface RuntimeRequestResults {
  initialize: InitializeResult;
  /** Answered when the run ends (its events arrive before), or with an error if it could not run. */
  run: RunResult;
  cancel: { cancelled: boolean };
  shutdown: { runs: number };
  explore: ExploreResult;
  exploreExample: ExploreExampleResult;
  exploreDecode: ExploreImages;
  exploreInterpolate: ExploreImages;
  exploreMemory: ExploreMemory;
}

/**
 * The Latent Explorer's requests. Each names a run folder inside the runs folder (refused
 * otherwise, as `run`'s outDir is) and a checkpoint (`last`, `best`, `epoch-N`); the runtime keeps
 * an inference session per run folder, in a worker thread (a decode never waits behind a training
 * step) unless initialize said `inference: thread`. Float data crosses the IPC channel (JSON) as
 * base64 of little-endian float32; images as base64 of uint8 pixels (height × width × channels each).
 */
export interface ExploreTarget {
  runDir: string;
  checkpoint: string;
}

export type ExploreSplit = 'train' | 'test' | 'all';

export type ExploreRequest =
  /**
   * Encodes the first `limit` examples of a split and projects their means to 2-d: PCA above 2
   * dimensions, or (`projection: 'umap'`) a seeded UMAP of at most UMAP's limit of them, computed
   * in a worker thread, kept per checkpoint, its progress sent as `exploreProgress` with `token`.
   */
  | (ExploreTarget & { type: 'explore'; id: number; split: ExploreSplit; limit?: number; projection?: 'pca' | 'umap'; token?: string })
  | (ExploreTarget & { type: 'exploreExample'; id: number; split: ExploreSplit; index: number })
  /** One decode per `view` runs at a time: a newer one replaces a waiting one, which answers with a CancelledError. */
  | (ExploreTarget & { type: 'exploreDecode'; id: number; view: string; z: number[][]; labels?: number[] })
  | (ExploreTarget & { type: 'exploreInterpolate'; id: number; from: number[]; to: number[]; steps: number; method: 'lerp' | 'slerp'; label?: number });

/** What the explorer shows about the model it opened. */
export interface ExploreModel {
  /** The checkpoint file read, e.g. `last` or `epoch-0004`, and its completed epochs. */
  checkpoint: string;
  epoch: number;
  kind: string;
  variational: boolean;
  latent: number;
  /** [height, width, channels] */
  shape: [number, number, number];
  /** cvae: the classes a decode takes its label from; 0 otherwise. */
  classes: number;
  units: LossUnits;
  decodes: boolean;
  reason?: string;
}

export interface ExploreDimension {
  index: number;
  /** Variational kinds: the mean KL of this dimension in `units`; otherwise the variance of the code. */
  kl: number;
  /** Burda's activity: the variance of μ over the examples is above 0.01. */
  active: boolean;
  /** The range a traversal slider spans. */
  low: number;
  high: number;
}

export interface ExploreResult {
  model: ExploreModel;
  split: ExploreSplit;
  count: number;
  /** base64 float32, count × latent: μ (the code for plain autoencoders). */
  means: string;
  /** base64 uint8, count. */
  labels: string;
  /** base64 float32, count: each example's loss in `model.units`. */
  losses: string;
  /** UMAP: each row's example index in the split (a seeded subsample); otherwise rows are examples 0… */
  indices?: number[];
  projection: {
    method: 'identity' | 'pca' | 'umap';
    /** base64 float32, count × 2. */
    points: string;
    /** PCA: the decoded point for (a, b) is mean + a·components[0] + b·components[1]. */
    mean: number[];
    components: number[][];
    explained: number[];
  };
  /** Every latent dimension, ordered by KL (largest first). */
  dimensions: ExploreDimension[];
}

/** Bytes, as process.memoryUsage() counts them (the main thread's V8 heap; the whole process's rss). */
export interface ExploreMemory {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** One per run folder the explorer keeps open, on the thread it runs on. */
  sessions: ({ runDir: string } & MemoryResult)[];
}

export interface ExploreImages {
  count: number;
  shape: [number, number, number];
  /** base64 uint8. */
  pixels: string;
}

export interface ExploreExampleResult {
  index: number;
  label: number;
  loss: number;
  shape: [number, number, number];
  /** base64 uint8 each. */
  input: string;
  reconstruction: string;
  mean: number[];
}

export type RuntimeResponse =
  | { type: 'response'; id: number; ok: true; result: RuntimeRequestResults[RuntimeRequestType] }
  | { type: 'response'; id: number; ok: false; error: SerializedError };

/** Per-example means over an epoch's training batches. */
export interface TrainMeans {
  loss: number;
  reconstruction: number;
  /** Variational kinds only: a plain autoencoder has no KL term, so none is reported. */
  kl?: number;
}

/** Test-split metrics, per example, in the run's units. */
export interface Evaluation {
  /** The objective with warm-up and annealing finished (−ELBO for a vae and cvae). */
  loss: number;
  reconstruction: number;
  /** Variational kinds only (see TrainMeans.kl). */
  kl?: number;
  mse: number;
  psnr: number;
  /** variational kinds: −(reconstruction + KL), a lower bound on log p(x) where the units are nats. */
  elbo?: number;
  /** sparse-ae: mean (1/D)Σ|z| and the fraction of code values near zero relative to the code's scale. */
  l1?: number;
  sparsity?: number;
  /** denoising-ae: MSE of the corrupted input against the clean one (what the model improves on). */
  noisyMse?: number;
  /** masked-ae: MSE over the masked pixels only. */
  maskedMse?: number;
}

export type LossUnits = 'nats' | 'loss';

/** One reported number with its units and which way is better (runtime/analysis/metric-report.ts). */
export interface MetricValue {
  /** The stable key (as `--metrics` and the evaluate cell name it). */
  name: string;
  value: number;
  /** nats, loss, dB, … ('' for a plain number). */
  units: string;
  better: 'higher' | 'lower';
  /** One line: how it was computed (k, split, classifier strength, …). */
  how?: string;
  /** Spread over repeats or images (± std). */
  std?: number;
  /** Further numbers that belong to it (per-dimension KL, per-factor scores, …). */
  detail?: Record<string, number | number[] | string>;
}

interface RecordPosition {
  /** 1-based for train, epoch and evaluate records (the epoch shown to people); epochs done for resume and stop. */
  epoch: number;
  /** Optimizer steps taken so far. */
  step: number;
  /** ISO 8601. */
  time: string;
}

/** One line of `metrics.jsonl`. */
export type MetricsRecord =
  | (RecordPosition & { kind: 'train'; loss: number; reconstruction: number; kl?: number; lr: number })
  | (RecordPosition & { kind: 'epoch'; units: LossUnits; train: TrainMeans; test?: Evaluation; samplesPerSecond: number; tensors: number })
  | (RecordPosition & { kind: 'evaluate'; units: LossUnits; test: Evaluation })
  | (RecordPosition & { kind: 'resume'; batch: number })
  | (RecordPosition & { kind: 'stop'; reason: 'cancelled' | 'shutdown'; batch: number })
  | (RecordPosition & { kind: 'stop'; reason: 'diverged'; loss: string });

export type MetricsKind = MetricsRecord['kind'];
export type MetricsRecordOf<K extends MetricsKind> = Extract<MetricsRecord, { kind: K }>;

export type EngineEvent =
  | { type: 'log'; level: 'info' | 'warning' | 'error'; message: string }
  /** The run folder this run writes, as soon as it exists (before any training). */
  | { type: 'runFolder'; runDir: string }
  | { type: 'cellOutput'; cell: CellName; text: string }
  | { type: 'progress'; epoch: number; epochs: number; step: number; stepsPerEpoch: number; loss: number; etaSeconds: number; samplesPerSecond: number }
  | { type: 'metrics'; record: MetricsRecord }
  /**
   * A cell's own work: `started` when the engine begins it (data loading, model building,
   * training, evaluation, a grid), `finished` when it is done, `skipped` (with the reason) for an
   * analysis cell that did not run. Transient: not kept in `outputs.json`.
   */
  | { type: 'cell'; cell: CellName; state: 'started' | 'finished' | 'skipped'; reason?: string }
  | ImageEvent;

/**
 * An image grid in the run folder. `reconstructions` and `samples` show one checkpoint (`epoch`:
 * the epochs done when it was drawn); `history` (the train cell) shows the same fixed test inputs
 * reconstructed after each epoch, `epoch` being the newest.
 */
export type ImageKind = 'reconstructions' | 'samples' | 'history' | 'interpolations' | 'traversals' | 'projection';

export interface ImageEvent {
  type: 'image';
  cell: CellName;
  kind: ImageKind;
  epoch: number;
  path: string;
  /**
   * What each row of the grid shows, top to bottom; a grid taller than this list repeats it in
   * blocks (16 inputs in blocks of 8 columns). Always sent by this runtime; absent in run folders
   * written before it was.
   */
  rows?: string[];
}

/** `outputs.json` in a run folder: what the cells showed during its last run, in order. */
export interface RunOutputs {
  version: 1;
  events: EngineEvent[];
}

export type RunStatus = 'completed' | 'stopped' | 'early-stopped' | 'diverged' | 'analysis';

export interface RunResult {
  /** Empty when nothing needed training (the analysis-only case without a train cell). */
  runDir: string;
  status: RunStatus;
  summary: RunSummary;
}

export interface RunSummary {
  title?: string;
  status: RunStatus;
  backend: string;
  device: string;
  dataset: string;
  model: string;
  parameters: number;
  epochs: number;
  targetEpochs: number;
  steps: number;
  units: LossUnits;
  train?: TrainMeans;
  test?: Evaluation;
  /** The evaluate cell's metrics (and the loss family's) under stable keys: what `aexp evaluate --json` prints. */
  metrics?: Record<string, MetricValue>;
  best?: { epoch: number; loss: number };
  samplesPerSecond?: number;
  /** Wall time of every session that trained this run folder (a continued run adds its own). */
  durationSeconds: number;
  message?: string;
  /** Set when a finished run's checkpoint was used instead of training again. */
  reused?: { trainedSeconds: number };
  /** Why a stopped run stopped: a cancel request, or the runtime shutting down (a window closed or reloaded). */
  stoppedBy?: 'cancelled' | 'shutdown';
  /** Where a stopped run stopped: the epoch as shown to people (1-based) and the batches of it done. */
  stoppedAt?: { epoch: number; batch: number };
}

export type RuntimeNotification =
  | { type: 'event'; runId: string; event: EngineEvent }
  /** Sent after the `run` request's response, with the same result or error. */
  | { type: 'runEnded'; runId: string; result?: RunResult; error?: SerializedError }
  | { type: 'log'; level: 'info' | 'warning' | 'error'; message: string }
  /** How far an explore request's UMAP layout is (its `token`). */
  | { type: 'exploreProgress'; token: string; done: number; total: number };

export type RuntimeMessage = RuntimeResponse | RuntimeNotification;
