/**
 * The engine's public entry: what the CLI, the IPC server, the tests and the benchmarks use.
 * Each job lives in its own room; this file only gathers them.
 *   run/experiment-run.ts  one run, start to end      train/loop.ts     epochs and batches
 *   train/step.ts          one training step          analysis/*.ts     metrics and image grids
 *   run/check.ts           validation, model building run/load-run.ts   a run's model from its folder
 *   model/export.ts        TF.js layers export        run-folder.ts     the run folder's layout and files
 */
export { formatDiagnostic } from './format/validate';
export { ExperimentError, buildModelFor, checkExperiment } from './run/check';
export type { RunOptions } from './run/experiment-run';
export { runExperiment } from './run/experiment-run';
export { loadRunModel } from './run/load-run';
export { exportModel } from './model/export';
export type { Evaluation } from './analysis/evaluate';
export { dataIsBinary, evaluateSplit, evaluationTable, lossUnits, nearZeroFraction } from './analysis/evaluate';
export { reconstructionImages, sampleImages } from './analysis/images';
export { batchNeeds, trainingStep } from './train/step';
export { OUTPUTS_FILE, experimentName, findReusableRun } from './run-folder';
