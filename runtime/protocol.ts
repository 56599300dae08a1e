/**
 * The extension ↔ runtime protocol: types only, imported with `import type` on both sides.
 * Requests carry ids and get exactly one response; notifications carry no id.
 */

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
}

export type CellName = 'data' | 'model' | 'train' | 'evaluate' | 'reconstruct' | 'sample';

export interface RunOverrides {
  epochs?: number;
  backend?: 'auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
  dataDir?: string;
  /** `cell.key=value`, as the CLI's --set. */
  set?: string[];
}

export type RuntimeRequest =
  | { type: 'initialize'; id: number; backend?: 'auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu'; dataDir?: string }
  | { type: 'run'; id: number; runId: string; file: string; text?: string; cells?: CellName[]; overrides?: RunOverrides; outDir?: string; resume?: string; reuse?: boolean }
  | { type: 'cancel'; id: number; runId: string }
  | { type: 'shutdown'; id: number };

export type RuntimeResponse =
  | { type: 'response'; id: number; ok: true; result?: unknown }
  | { type: 'response'; id: number; ok: false; error: SerializedError };

export interface MetricsRecord {
  kind: 'train' | 'epoch' | 'evaluate' | 'resume' | 'stop';
  epoch: number;
  step: number;
  time: string;
  [metric: string]: unknown;
}

export type EngineEvent =
  | { type: 'log'; level: 'info' | 'warning' | 'error'; message: string }
  | { type: 'cellOutput'; cell: CellName; text: string }
  | { type: 'progress'; epoch: number; epochs: number; step: number; stepsPerEpoch: number; loss: number; etaSeconds: number; samplesPerSecond: number }
  | { type: 'metrics'; record: MetricsRecord }
  | { type: 'image'; cell: CellName | 'train'; kind: 'reconstructions' | 'samples'; epoch: number; path: string };

/** `outputs.json` in a run folder: what the cells showed during its last run, in order. */
export interface RunOutputs {
  version: 1;
  events: EngineEvent[];
}

export interface RunResult {
  runDir: string;
  status: 'completed' | 'stopped' | 'early-stopped' | 'diverged' | 'analysis';
  summary: RunSummary;
}

export interface RunSummary {
  title?: string;
  status: RunResult['status'];
  backend: string;
  device: string;
  dataset: string;
  model: string;
  parameters: number;
  epochs: number;
  targetEpochs: number;
  steps: number;
  units: 'nats' | 'loss';
  train?: { loss: number; reconstruction: number; kl: number };
  test?: { loss: number; reconstruction: number; kl: number; mse?: number; psnr?: number; elbo?: number; l1?: number; sparsity?: number; noisyMse?: number; maskedMse?: number };
  best?: { epoch: number; loss: number };
  samplesPerSecond?: number;
  durationSeconds: number;
  message?: string;
  /** Set when a finished run's checkpoint was used instead of training again. */
  reused?: { trainedSeconds: number };
  /** Why a stopped run stopped: a cancel request, or the runtime shutting down (a window closed or reloaded). */
  stoppedBy?: 'cancelled' | 'shutdown';
}

export type RuntimeNotification =
  | { type: 'event'; runId: string; event: EngineEvent }
  | { type: 'runEnded'; runId: string; result?: RunResult; error?: SerializedError }
  | { type: 'log'; level: 'info' | 'warning' | 'error'; message: string };

export type RuntimeMessage = RuntimeResponse | RuntimeNotification;
