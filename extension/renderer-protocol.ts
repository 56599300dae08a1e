/**
 * What the extension host and the notebook renderers (webview/) say to each other: the training
 * chart's output item (a snapshot that draws alone, e.g. when a notebook reopens) and the messages
 * that patch it while a run goes on. Types only: both sides `import type` it, and each checks what
 * it receives before using it. The renderer speaks first (`ready`, saying how far its chart is);
 * the host sends a chart nothing before that.
 */
import type { LossUnits } from '../runtime/protocol';

/** A loss and its terms, per example, in the run's units; `kl` only for variational kinds. */
export interface LossTerms {
  loss: number;
  reconstruction: number;
  kl?: number;
}

/** One logged training step (the runtime logs every `log_every` steps). */
export interface StepPoint extends LossTerms {
  /** Optimizer steps taken so far. */
  step: number;
  /** 1-based epoch this step belongs to. */
  epoch: number;
  /** Wall-clock seconds since the run's first record. */
  seconds: number;
  lr: number;
}

/** One finished epoch: the means over its training batches and the test split's evaluation. */
export interface EpochPoint {
  epoch: number;
  /** Optimizer steps taken when the epoch ended. */
  step: number;
  seconds: number;
  train: LossTerms;
  test?: LossTerms;
}

/** A chart's whole data, as the renderer holds it (and the output item's version 1, which notebooks saved before version 2 hold). */
export interface ChartSnapshot {
  version: 1;
  /** Which run's chart this is: messages name it. */
  chartId: string;
  /** Unknown until the first epoch ends. */
  units?: LossUnits;
  steps: StepPoint[];
  epochs: EpochPoint[];
  /** Steps at which the run was resumed from a checkpoint (drawn as markers). */
  resumes: number[];
  /** The host is still training this run: deltas will come by message. */
  live: boolean;
}

/**
 * The output item as written since version 2: the snapshot in columns, small enough to re-send each
 * epoch (T4: at most 64 KB). Integer columns (`step`, `epoch`, `centiseconds`) hold the first value,
 * then each value's difference from the one before; loss columns hold values rounded to five
 * significant digits (finer than a chart can show); `null` where a point has no such term. Long runs
 * are thinned by the renderer's own rule (per column of steps, the first, lowest, highest and last
 * loss); the messages of a live run carry every point. Notebooks saved before hold version 1, still
 * drawn.
 */
export interface CompactChartSnapshot {
  version: 2;
  chartId: string;
  units?: LossUnits;
  steps: {
    step: number[];
    epoch: number[];
    /** Wall-clock time since the run's first record, in hundredths of a second. */
    centiseconds: number[];
    loss: number[];
    reconstruction: number[];
    kl?: (number | null)[];
    /** Where the learning rate changes: index of the step, then the rate, for each change (the first at index 0). */
    lr: number[];
  };
  epochs: {
    epoch: number[];
    step: number[];
    centiseconds: number[];
    trainLoss: number[];
    trainReconstruction: number[];
    trainKl?: (number | null)[];
    /** `null` for an epoch without a test evaluation. */
    testLoss?: (number | null)[];
    testReconstruction?: (number | null)[];
    testKl?: (number | null)[];
  };
  resumes: number[];
  live: boolean;
}

/**
 * Host → renderer. Points extend the chart's series; a point whose step (or epoch) is not after
 * the last one the chart has replaces it and every point after it (a resumed run goes on from its
 * checkpoint, and what was logged past that checkpoint is gone).
 */
export type HostMessage =
  | { type: 'append'; chartId: string; units?: LossUnits; steps: StepPoint[]; epochs: EpochPoint[]; resumes: number[]; /** When the host sent it (its Date.now()): the views benchmark splits T2's time there. */ sentAt?: number }
  | { type: 'ended'; chartId: string };

/** Renderer → host. */
export type RendererMessage =
  /** A chart is on screen, holding points up to this step and epoch: the host answers with what it lacks. */
  { type: 'ready'; chartId: string; step: number; epoch: number };
