/**
 * One run of an experiment, start to end: reads and checks it, loads the data, chooses and checks
 * the backend, builds the model, trains (or reuses or resumes a run folder), analyses and writes
 * the run folder. Both front ends (the CLI and the IPC server) call runExperiment.
 *
 * A run folder is locked (run-lock.ts) from the moment it is created or chosen until the run ends;
 * a resume checks everything it reads (the folder's entries are no links, checkpoint, snapshot,
 * model shapes, optimizer state) before it writes anything, then drops the metrics a killed
 * process wrote past its checkpoint. Each cell's work is announced by `cell` events (started,
 * finished, or skipped with the reason).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { evaluateSplit, evaluationTable, lossUnits } from '../analysis/evaluate';
import { LOSS_METRICS, evaluateRun } from '../analysis/evaluate-run';
import { lossMetrics, metricLines } from '../analysis/metric-report';
import type { Evaluation } from '../analysis/evaluate';
import { reconstructionViews, sampleImages } from '../analysis/images';
import type { BackendName } from '../backends/select';
import type { CellKind as CellName } from '../cells';
import { ANALYSIS_CELLS, CELL_KINDS } from '../cells';
import { loadDataset, resolveDataDir } from '../data/index';
import type { CellConfigs, EvaluateConfig, TrainConfig } from '../format/schema';
import { applyOverrides } from '../format/overrides';
import { cellConfig, checkMemory, diagnosticAtKey, formatDiagnostic, loadExperiment } from '../format/validate';
import { historyEpochs, historyRows } from '../analysis/history';
import { exportModel } from '../model/export';
import { allWeights, disposeAutoencoder, formatSummary, parameterCount, trainableVariables } from '../model/build';
import type { EngineEvent, MetricsRecord, RunResult, RunSummary } from '../protocol';
import type { CheckpointName, RunConfig } from '../run-folder';
import { MetricsLog, checkRunFolderEntries, checkpointFile, defaultRunsParent, findReusableRun, imageFile, newRunDir, readRunConfig, readRunSummary, reconstructionRows, runFile, sampleRows, truncateMetrics, writeRunConfig, writeRunOutputs, writeRunSummary } from '../run-folder';
import type { RunLock } from '../run-lock';
import { RunLockedError, acquireRunLock } from '../run-lock';
import type { Checkpoint, TrainingPosition } from '../train/checkpoint';
import { CheckpointError, loadCheckpoint, saveCheckpoint } from '../train/checkpoint';
import { gridPng, rowsPng, writePng } from '../train/images';
import { LOCK_LOST, trainEpochs } from '../train/loop';
import { removeStaleTemporaryFiles } from '../util/atomic-file';
import { truncateEpochWeights } from '../train/epoch-weights';
import { Optimizer } from '../train/optimizers';
import { UnsafeEntryError } from '../util/plain-entries';
import { mixSeed } from '../util/random';
import { quantizePixels, truncateViewHistory, writeReconstructView, writeSampleView } from '../views-data';
import { latentCellProblems, runLatentCells } from './analysis-cells';
import { ExperimentError, buildModelFor } from './check';
import { chooseBackend } from './choose-backend';
import { setWeights } from './load-run';
import { replayTraining } from './replay';

export interface RunOptions {
  /** Path of the .aexp file; names the experiment and anchors relative paths. */
  file: string;
  /** The file's text, when the caller has it (an unsaved editor); read from disk otherwise. */
  text?: string;
  /** Parent of the run folder; default `<cwd>/.aexp/runs/<experiment>`. */
  outDir?: string;
  dataDir?: string;
  backend?: BackendName;
  epochs?: number;
  /** `cell.key=value` changes applied to the file's text before it runs (ignored on resume: the snapshot has them). */
  overrides?: string[];
  /** A run folder to continue from its last checkpoint. */
  resume?: string;
  cells?: CellName[];
  /**
   * Use the checkpoint of a finished run under `outDir` whose data, model and train configuration,
   * backend and data folder are this run's, instead of training again (the notebook's semantics).
   */
  reuse?: boolean;
  signal?: AbortSignal;
  onEvent?: (event: EngineEvent) => void;
}

function configHash(config: Pick<RunConfig, 'seed' | 'data' | 'model' | 'train'>): string {
  return createHash('sha256').update(JSON.stringify([config.seed, config.data, config.model, config.train])).digest('hex').slice(0, 16);
}

function timestamp(): string {
  return new Date().toISOString();
}

/**
 * The run folder's lock, held from the moment the folder is created or chosen until the run ends,
 * and the run's own abort signal: the caller's (Ctrl-C, cancel, shutdown), or the lock taken away.
 */
class RunGuard {
  private readonly controller = new AbortController();
  private lock: RunLock | undefined;
  private readonly forward = () => this.controller.abort(this.caller?.reason);

  constructor(private readonly caller: AbortSignal | undefined) {
    if (caller?.aborted) this.controller.abort(caller.reason);
    caller?.addEventListener('abort', this.forward);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Takes `runDir`'s lock (throws RunLockedError naming the holder), then removes what killed writers left there. */
  hold(runDir: string, emit: (event: EngineEvent) => void): void {
    this.lock = acquireRunLock(runDir, {
      onLost: () => {
        emit({ type: 'log', level: 'error', message: `${runDir}: another process took this run folder's lock; stopping without writing more` });
        this.controller.abort(LOCK_LOST);
      },
    });
    removeStaleTemporaryFiles(runDir, { recursive: true });
  }

  /** True once another process took the lock: the run then writes nothing more in the folder. */
  get lost(): boolean {
    return this.controller.signal.reason === LOCK_LOST;
  }

  release(): void {
    this.lock?.release();
    this.lock = undefined;
  }

  dispose(): void {
    this.caller?.removeEventListener('abort', this.forward);
    this.release();
  }
}

/** A run folder's checkpoint to continue from, checked whole before anything is written. */
function checkpointToResume(runDir: string, sourceFile: string): Checkpoint {
  const file = checkpointFile(runDir, 'last');
  if (!existsSync(file)) throw new CheckpointError(runDir, `this run was stopped before its first checkpoint was written (nothing to resume); start it again with aexp run ${sourceFile}`);
  return loadCheckpoint(file);
}

/** Whether the checkpoint's optimizer state fits the optimizer (changing nothing), with both files named when it does not. */
function checkOptimizerFits(optimizer: Optimizer, checkpoint: Checkpoint, runDir: string): void {
  try {
    optimizer.checkState(checkpoint.optimizer);
  } catch (error) {
    throw new CheckpointError(checkpointFile(runDir, 'last'), `${(error as Error).message} (the train cell of ${runFile(runDir, 'experiment')} does not fit it)`);
  }
}

/** setWeights, with the checkpoint and the snapshot named when they do not fit each other. */
function restoreWeights(model: Parameters<typeof setWeights>[0], checkpoint: Checkpoint, runDir: string): void {
  try {
    setWeights(model, checkpoint.weights);
  } catch (error) {
    throw new CheckpointError(checkpointFile(runDir, 'last'), `${(error as Error).message} (the model built from ${runFile(runDir, 'experiment')} does not fit it)`);
  }
}

export async function runExperiment(options: RunOptions): Promise<RunResult> {
  const guard = new RunGuard(options.signal);
  try {
    return await run({ ...options, signal: guard.signal }, guard);
  } finally {
    guard.dispose();
  }
}

async function run(options: RunOptions, guard: RunGuard): Promise<RunResult> {
  const started = Date.now();
  // What the cells showed, kept in the run folder (outputs.json) so an editor reopened later shows it again.
  const shown: EngineEvent[] = [];
  const emit = (event: EngineEvent) => {
    if (event.type === 'image' && event.kind === 'history') {
      // The history grid is one file redrawn every epoch: only its newest state is worth showing again.
      const previous = shown.findIndex((item) => item.type === 'image' && item.kind === 'history' && item.cell === event.cell);
      if (previous >= 0) shown.splice(previous, 1);
    }
    if (event.type === 'cellOutput' || event.type === 'image' || (event.type === 'metrics' && event.record.kind === 'epoch')) shown.push(event);
    options.onEvent?.(event);
  };
  const cell = (name: CellName, state: 'started' | 'finished' | 'skipped', reason?: string) => emit(reason === undefined ? { type: 'cell', cell: name, state } : { type: 'cell', cell: name, state, reason });
  let runDir: string | undefined;
  let resumed: Checkpoint | undefined;
  let previous: RunConfig | undefined;
  let file = options.file;
  let text = options.text;

  if (options.resume) {
    runDir = path.resolve(options.resume);
    previous = readRunConfig(runDir);
    // Before anything reads the rest or writes: a second process is told who trains here.
    guard.hold(runDir, emit);
    // The folder may come from anyone: nothing it holds may send this run's writes elsewhere.
    checkRunFolderEntries(runDir);
    file = previous.sourceFile;
    text = readFileSync(runFile(runDir, 'experiment'), 'utf8');
    resumed = checkpointToResume(runDir, file);
  }
  text ??= readFileSync(file, 'utf8');
  if (!options.resume && options.overrides?.length) text = applyOverrides(text, file, options.overrides);

  const experiment = loadExperiment(text, file);
  const errors = experiment.diagnostics.filter((diagnostic) => diagnostic.severity === 'error');
  for (const warning of experiment.diagnostics.filter((diagnostic) => diagnostic.severity === 'warning')) emit({ type: 'log', level: 'warning', message: formatDiagnostic(warning) });
  if (errors.length > 0) throw new ExperimentError(experiment.diagnostics);
  const data = cellConfig(experiment, 'data');
  const modelConfig = cellConfig(experiment, 'model');
  const trainCell = cellConfig(experiment, 'train');
  if (!data || !modelConfig) throw new ExperimentError([diagnosticAtKey(experiment, 'data', 'dataset', 'an experiment needs a `data` cell and a `model` cell')]);
  const wanted = new Set<CellName>(options.cells ?? CELL_KINDS);
  const present = new Set(experiment.cells.map((cell) => cell.kind));
  const analysis = ANALYSIS_CELLS.filter((kind) => wanted.has(kind) && present.has(kind));
  const needsTraining = trainCell !== undefined && (wanted.has('train') || analysis.length > 0);

  const seed = experiment.frontMatter.seed;
  const train: TrainConfig | undefined = trainCell ? { ...trainCell, epochs: options.epochs ?? previous?.train.epochs ?? trainCell.epochs } : undefined;
  const dataDir = resolveDataDir(options.dataDir ?? previous?.dataDir);
  cell('data', 'started');
  const dataset = await loadDataset(data, { dataDir, baseDir: path.dirname(path.resolve(file)), seed, signal: options.signal });
  emit({ type: 'cellOutput', cell: 'data', text: `${dataset.description}\nexamples are ${dataset.shape.join('×')}, batch ${data.batch}${data.binarize !== 'none' ? `, ${data.binarize} binarization` : ''}` });
  cell('data', 'finished');
  const latentProblems = latentCellProblems(experiment, dataset, modelConfig.kind === 'cvae' ? dataset.classes.length : 0);
  if (latentProblems.length > 0) throw new ExperimentError(latentProblems);
  cell('model', 'started');
  const { backend, model } = await chooseBackend(options.backend ?? previous?.backend ?? 'auto', {
    build: () => buildModelFor(experiment, data, modelConfig, seed, dataset.shape, dataset.classes.length),
    // With the data's real shape (a folder gives its own) and the chosen backend's limits (wasm's heap).
    checkMemory: (chosen) => {
      const findings = checkMemory(experiment, { shape: dataset.shape, classes: dataset.classes.length, backend: chosen });
      if (findings.length > 0) throw new ExperimentError(findings);
    },
    inputShape: dataset.shape,
    signature: [modelConfig, dataset.classes.length],
    signal: options.signal,
  }, emit);
  emit({ type: 'log', level: 'info', message: `Latent Lab runtime · TF.js ${tf.version_core} · backend ${backend.backend} · ${backend.device}` });

  const units = lossUnits(data, modelConfig);
  emit({ type: 'cellOutput', cell: 'model', text: formatSummary(model) });

  const summary: RunSummary = {
    title: experiment.frontMatter.title,
    status: 'analysis',
    backend: backend.backend,
    device: backend.device,
    dataset: dataset.description,
    model: `${modelConfig.kind}, ${modelConfig.latent}-d code${model.classes > 0 ? `, ${model.classes} classes` : ''}`,
    parameters: parameterCount(model),
    epochs: 0,
    targetEpochs: train?.epochs ?? 0,
    steps: 0,
    units,
    durationSeconds: 0,
  };
  const variables = trainableVariables(model);
  let optimizer: Optimizer | undefined;
  let metrics: MetricsLog | undefined;

  try {
    // A resumed run's weights must fit the model before anything in its folder is rewritten.
    if (resumed) restoreWeights(model, resumed, runDir!);
    cell('model', 'finished');
    if (!needsTraining || !train) return { runDir: runDir ?? '', status: 'analysis', summary: { ...summary, durationSeconds: (Date.now() - started) / 1000 } };

    const resolved: RunConfig = {
      version: 1,
      sourceFile: path.resolve(file),
      title: experiment.frontMatter.title,
      seed,
      data,
      model: modelConfig,
      train,
      backend: backend.backend,
      dataDir,
      configHash: '',
    };
    resolved.configHash = configHash(resolved);
    const parent = options.outDir ? path.resolve(options.outDir) : defaultRunsParent(file);
    const activeOptimizer = new Optimizer(train, variables);
    optimizer = activeOptimizer;
    // Like the weights above: a resumed optimizer state must fit before anything is rewritten.
    if (resumed) {
      checkOptimizerFits(activeOptimizer, resumed, runDir!);
      activeOptimizer.setState(resumed.optimizer);
    }
    let reused = !runDir && options.reuse ? findReusableRun(parent, resolved) : undefined;
    if (reused) {
      try {
        guard.hold(reused.runDir, emit);
        checkRunFolderEntries(reused.runDir);
        const checkpoint = loadCheckpoint(checkpointFile(reused.runDir, 'last'));
        // Both checked before either is taken: a run trained anew after all starts from nothing of this one.
        checkOptimizerFits(activeOptimizer, checkpoint, reused.runDir);
        restoreWeights(model, checkpoint, reused.runDir);
        activeOptimizer.setState(checkpoint.optimizer);
        runDir = reused.runDir;
        resumed = checkpoint;
      } catch (error) {
        if (!(error instanceof RunLockedError || error instanceof CheckpointError || error instanceof UnsafeEntryError)) throw error;
        // Another process is continuing it, its checkpoint is damaged or its folder holds links: train anew rather than fail.
        emit({ type: 'log', level: 'warning', message: `not reusing ${reused.runDir}: ${error.message}` });
        guard.release();
        reused = undefined;
      }
    }
    if (!runDir) {
      runDir = newRunDir(parent);
      guard.hold(runDir, emit);
      writeFileSync(runFile(runDir, 'experiment'), text);
    }
    const folder = runDir;
    mkdirSync(runFile(folder, 'checkpoints'), { recursive: true });
    mkdirSync(runFile(folder, 'images'), { recursive: true });
    if (!reused) writeRunConfig(folder, resolved);
    // What a killed process appended after its checkpoint is trained again: drop it, so each step and epoch is recorded once.
    if (resumed && !reused) {
      truncateMetrics(folder, resumed.position);
      truncateViewHistory(folder, resumed.position.epoch);
      truncateEpochWeights(folder, resumed.position.epoch);
    }
    metrics = new MetricsLog(folder);
    emit({ type: 'runFolder', runDir: folder });
    emit({ type: 'log', level: 'info', message: `run folder ${folder}` });

    const position: TrainingPosition = {
      epoch: 0,
      batch: 0,
      globalStep: 0,
      seed,
      bestLoss: null,
      bestEpoch: null,
      epochsWithoutImprovement: 0,
      partial: { loss: 0, reconstruction: 0, kl: 0, examples: 0 },
    };
    if (resumed) Object.assign(position, resumed.position);
    if (resumed && !reused) {
      const resumeRecord: MetricsRecord & { kind: 'resume' } = { kind: 'resume', epoch: position.epoch, step: position.globalStep, time: timestamp(), batch: position.batch };
      metrics.append(resumeRecord);
      // The notebook's chart marks where the curve goes on.
      emit({ type: 'metrics', record: resumeRecord });
      emit({ type: 'log', level: 'info', message: `resuming at epoch ${position.epoch + 1}, batch ${position.batch} (step ${position.globalStep})` });
    }

    const checkpoint = async (name: CheckpointName) => {
      const snapshot = { ...position, partial: { ...position.partial } };
      const weights: Checkpoint['weights'] = [];
      for (const weight of allWeights(model)) weights.push({ shape: weight.shape, values: (await weight.read().data()) as Float32Array });
      saveCheckpoint(checkpointFile(folder, name), { position: snapshot, weights, optimizer: await activeOptimizer.getState(), configHash: resolved.configHash });
    };

    let status: RunResult['status'] = reused?.summary.status ?? 'completed';
    let message = reused?.summary.message;
    let lastTest: Evaluation | undefined;
    let lastTrain = reused?.summary.train;
    let samplesPerSecond = reused?.summary.samplesPerSecond;
    cell('train', 'started');
    if (reused) replayTraining(folder, reused.summary, modelConfig.kind, historyRows(modelConfig.kind, historyEpochs(reused.summary.epochs)), emit);
    else {
      const outcome = await trainEpochs({ runDir: folder, model, variables, optimizer: activeOptimizer, dataset, data, modelConfig, train, seed, units, position, metrics, checkpoint, emit, signal: options.signal });
      ({ status, message, lastTest } = outcome);
      lastTrain = outcome.lastTrain ?? lastTrain;
      samplesPerSecond = outcome.samplesPerSecond;
      summary.stoppedBy = outcome.stoppedBy;
      summary.stoppedAt = outcome.stoppedAt;
      if (message) emit({ type: 'log', level: status === 'diverged' ? 'error' : 'info', message });
    }
    cell('train', 'finished');

    summary.status = status;
    summary.epochs = position.epoch;
    summary.steps = position.globalStep;
    summary.train = lastTrain;
    summary.best = position.bestEpoch !== null ? { epoch: position.bestEpoch, loss: position.bestLoss! } : undefined;
    summary.samplesPerSecond = samplesPerSecond;
    summary.message = message;
    if (reused) summary.reused = { trainedSeconds: reused.summary.durationSeconds };

    if (status !== 'diverged' && status !== 'stopped') {
      const evaluateConfig: EvaluateConfig = cellConfig(experiment, 'evaluate') ?? { metrics: ['loss', 'reconstruction', 'kl', 'mse', 'psnr'] };
      // The last epoch's validation used the same fixed seed, so its numbers are the final ones.
      if (analysis.includes('evaluate')) cell('evaluate', 'started');
      const test = lastTest ?? await evaluateSplit(model, dataset, data, seed);
      summary.test = { ...test };
      summary.metrics = Object.fromEntries(lossMetrics(test, units).map((metric) => [metric.name, metric]));
      if (analysis.includes('evaluate')) {
        // The loss family comes from the last epoch's validation; the rest from their own rooms (analysis/evaluate-run.ts).
        const further = evaluateConfig.metrics.filter((name) => !(LOSS_METRICS as readonly string[]).includes(name));
        const report = further.length > 0
          ? await evaluateRun({ model, dataset, config: { seed, data, model: modelConfig } }, { metrics: further, k: evaluateConfig.k, checkpoint: 'last', epoch: position.epoch, signal: options.signal, onProgress: (message) => emit({ type: 'log', level: 'info', message }) })
          : undefined;
        if (report) Object.assign(summary.metrics, report.metrics);
        const text = [evaluationTable(test, evaluateConfig.metrics, units, dataset.test.count), ...(report ? metricLines(report) : [])].join('\n');
        emit({ type: 'cellOutput', cell: 'evaluate', text });
        metrics.append({ kind: 'evaluate', epoch: position.epoch, step: position.globalStep, time: timestamp(), units, test });
        cell('evaluate', 'finished');
      }
      const reconstructCell = cellConfig(experiment, 'reconstruct') as CellConfigs['reconstruct'] | undefined;
      if (analysis.includes('reconstruct') && reconstructCell) {
        cell('reconstruct', 'started');
        const target = imageFile(folder, 'reconstructions');
        const views = await reconstructionViews(model, dataset, data, reconstructCell.count, seed);
        writePng(target, rowsPng(views.rows));
        // The notebook's image view reads this file when the image event below arrives.
        writeReconstructView(folder, {
          inputs: { modelKind: model.kind, units, examples: Array.from({ length: views.rows[0].count }, (_, index) => index), shape: dataset.shape, inputs: quantizePixels(views.rows[0].pixels), ...(views.rows.length > 2 ? { corrupted: quantizePixels(views.rows[1].pixels) } : {}), ...(views.mask ? { mask: Uint8Array.from(views.mask) } : {}) },
          view: { epoch: position.epoch, reconstructions: quantizePixels(views.rows[views.rows.length - 1].pixels), ...views.losses },
        });
        emit({ type: 'image', cell: 'reconstruct', kind: 'reconstructions', epoch: position.epoch, path: target, rows: reconstructionRows(modelConfig.kind) });
        cell('reconstruct', 'finished');
      }
      const sampleCell = cellConfig(experiment, 'sample') as CellConfigs['sample'] | undefined;
      if (analysis.includes('sample') && sampleCell && model.variational) {
        cell('sample', 'started');
        const target = imageFile(folder, 'samples');
        const { images: samples, columns } = await sampleImages(model, sampleCell.count, sampleCell.temperature, mixSeed(seed, 405), Math.min(8, sampleCell.count));
        writePng(target, gridPng(samples, columns));
        writeSampleView(folder, { modelKind: model.kind, units, shape: dataset.shape, epoch: position.epoch, samples: quantizePixels(samples.pixels), sampleColumns: columns });
        emit({ type: 'image', cell: 'sample', kind: 'samples', epoch: position.epoch, path: target, rows: sampleRows(model.classes > 0, sampleCell.temperature) });
        cell('sample', 'finished');
      }
      await runLatentCells({ experiment, model, dataset, data, folder, seed, epoch: position.epoch, wanted: analysis, emit, signal: options.signal });
      if (!reused && !guard.lost) await exportModel(model, runFile(folder, 'model'));
    } else {
      if (lastTest) summary.test = { ...lastTest };
      const reason = status === 'stopped' && summary.stoppedAt
        ? `training was stopped at epoch ${summary.stoppedAt.epoch}, batch ${summary.stoppedAt.batch}`
        : `training diverged at epoch ${position.epoch + 1}`;
      for (const kind of analysis) cell(kind, 'skipped', reason);
    }

    // A continued run's time counts every session that trained it, so "N steps in T" stays true.
    const earlierSeconds = resumed && !reused ? (readRunSummary(folder)?.durationSeconds ?? 0) : 0;
    summary.durationSeconds = earlierSeconds + (Date.now() - started) / 1000;
    // A reused run's summary.json stays the record of its training.
    if (!reused && !guard.lost) writeRunSummary(folder, summary);
    return { runDir: folder, status, summary };
  } finally {
    // Only once this session's writes began (its metrics log open): a run that failed before, a refused resume above all, leaves outputs.json as it was.
    if (metrics && runDir && !guard.lost) writeRunOutputs(runDir, shown);
    metrics?.close();
    optimizer?.dispose();
    disposeAutoencoder(model);
  }
}
