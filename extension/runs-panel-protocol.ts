/**
 * What the extension host and the Runs panel's page (webview/runs/) say to each other. Types only:
 * both sides `import type` it. The page speaks first (`ready`); the host answers with the table and
 * sends nothing before. The host checks every message of the page before using it
 * (runs-panel.ts parsePageMessage): a run is named by its folder, and only folders the host listed
 * are acted on.
 */
import type { Evaluation, LossUnits, RunSummary } from '../runtime/protocol';
import type { ChartSnapshot } from './renderer-protocol';

/** A run as the table shows it: the summary's status, `running` while a live process holds its lock, `interrupted` when it ended without a summary. */
export type RunRowStatus = RunSummary['status'] | 'running' | 'interrupted';

export type ConfigValue = string | number | boolean | null;

export interface RunRow {
  /** The run folder's absolute path: the run's id. */
  runDir: string;
  /** The experiment's folder name (the `.aexp` file's name). */
  experiment: string;
  title?: string;
  /** The experiment file the run came from, as config.json names it. */
  sourceFile?: string;
  status: RunRowStatus;
  /** ISO 8601, from the run folder's name (newRunDir names it by its UTC start). */
  startedAt: string;
  durationSeconds?: number;
  backend?: string;
  device?: string;
  units?: LossUnits;
  epochs: number;
  targetEpochs?: number;
  /** The last evaluation of the test split. */
  test?: Evaluation;
  /** The lowest test loss of any epoch. */
  best?: { epoch: number; loss: number };
  /** config.json flattened: `seed`, `data.dataset`, `model.latent`, `train.lr`, …; arrays and objects as JSON text. */
  config: Record<string, ConfigValue>;
  /** What could not be read, naming the file; the row shows what could. */
  problem?: string;
  /** The last epoch's train means (a sweep's metric may be `train.loss`). */
  train?: Record<string, number>;
  /** A run of a sweep: its folder is `<runs>/<name>-sweep-NNNN/<run>`. */
  sweep?: {
    id: SweepId;
    index: number;
    /** The newest run folder of its index: the one the sweep counts (an older one trained another text). */
    newest: boolean;
    /** The sweep's metric for this run, when it has one (the sign of `-metric` not applied). */
    metric?: number;
  };
}

/** A sweep is named by its folder `<runs>/.sweeps/<name>`, absolute. */
export type SweepId = string;

/** A sweep as its group row shows it, from its sweep.json and the run folders of its runs. */
export interface SweepGroup {
  id: SweepId;
  /** The experiment's name. */
  name: string;
  /** The experiment file, as sweep.json names it. */
  file?: string;
  /** The runs the sweep expands to (0 when sweep.json is unreadable). */
  total: number;
  /** Runs whose newest run folder finished (completed, early-stopped or diverged). */
  done: number;
  /** What the sweep sorts by: `test.loss`, `-test.psnr` (higher is better). */
  metric: string;
  /** The swept `cell.key` paths in the cell's order, `seed` last when the sweep has seeds. */
  keys: string[];
  /** The keys drawn log-uniformly: their axis is logarithmic. */
  logKeys: string[];
  /** The best value of the metric among the runs that have it. */
  best?: { value: number; run: RunId; index: number };
  /** What could not be read (sweep.json, the experiment's sweep cell), naming the file. */
  problem?: string;
}

/** Run folders are named by their absolute path: the host listed them, and acts on no other. */
export type RunId = string;

/** What the page keeps across a hide or a window reload (`setState`), and the serializer hands back. */
export interface RunsPanelState {
  selected: RunId[];
  sort?: { column: string; descending: boolean };
  search?: string;
  status?: string;
  x?: 'step' | 'epoch' | 'seconds';
  smoothing?: number;
  log?: boolean;
  series?: 'step-loss' | 'train-loss' | 'test-loss';
  /** The sweeps whose runs the table shows under their group row. */
  expandedSweeps?: SweepId[];
  /** The sweep whose metric is plotted, and against which key, with a logarithmic x or not. */
  sweep?: SweepId;
  sweepKey?: string;
  sweepLogX?: boolean;
  /** The seeds of a setting as one point, their mean, with a bar of ± one standard deviation. */
  sweepMean?: boolean;
}

export type RunAction = 'openExperiment' | 'openFolder' | 'continue' | 'delete';

/** Page → host. */
export type PageMessage =
  | { type: 'ready' }
  | { type: 'select'; runs: RunId[] }
  /** The reconstructions of the selected runs at this epoch (undefined: the newest epoch they all have). */
  | { type: 'viewsEpoch'; epoch?: number }
  | { type: 'action'; action: RunAction; run: RunId }
  /** The table as shown (these runs, in this order, with these config columns) as a CSV file. */
  | { type: 'exportCsv'; runs: RunId[]; keys: string[] }
  | { type: 'refresh' };

/** One selected run's reconstructions at the shared epoch: uint8 pixels [n, h, w, c], base64. */
export interface RunViews {
  run: RunId;
  epoch: number;
  reconstructions: string;
  /** The run's own test inputs, when they are not the shared ones (another data split). */
  inputs?: string;
  count: number;
  shape: [number, number, number];
}

/** Host → page. */
export type HostMessage =
  | { type: 'runs'; rows: RunRow[]; roots: string[]; problems: string[]; sweeps: SweepGroup[] }
  /** The config keys that differ between the selected runs (between every run while fewer than two are selected): the table's config columns. */
  | { type: 'columns'; keys: string[] }
  /** In an untrusted workspace the panel reads nothing; this says why. */
  | { type: 'untrusted'; message: string }
  /** A selected run's whole curve (sent again when a running run's metrics grow). */
  | { type: 'curve'; run: RunId; snapshot: ChartSnapshot }
  | {
    type: 'views';
    /** The epoch shown, and every epoch all the selected runs have views for. */
    epoch: number | undefined;
    epochs: number[];
    /** The test inputs the runs share (their test split's examples are the same), base64 [n, h, w, c]. */
    sharedInputs?: string;
    shape?: [number, number, number];
    runs: RunViews[];
    /** Why some or all runs show no images. */
    notes: string[];
  }
  | { type: 'notice'; message: string };
