/**
 * Evaluates a trained model on its test split: the loss family from evaluateSplit, then each
 * further metric asked for, in its own room. Orchestration only: what each metric means and how
 * it is computed lives with the metric.
 */
import type { Dataset } from '../data/dataset';
import type { DataConfig, ModelConfig } from '../format/schema';
import type { Autoencoder } from '../model/build';
import * as tf from '@tensorflow/tfjs-core';
import { SpriteGrid } from '../data/sprites';
import { encode } from '../model/losses';
import { mixSeed } from '../util/random';
import { describeFactorVae, describeMig, discreteFactors, factorVaeScore, mutualInformationGap } from './disentanglement';
import { LOSS_FAMILY, evaluateSplit, lossUnits } from './evaluate';
import { fewLabels } from './few-labels';
import { iwaeBound, iwaeRefusal, splitSource } from './iwae';
import { knnAccuracy } from './knn';
import { encodeSplit } from './latent-codes';
import { ACTIVE_THRESHOLD, latentStatistics } from './latent-stats';
import { linearProbe } from './probe';
import { ssimOfSplit } from './reconstruction-quality';
import type { MetricReport } from './metric-report';
import { lossMetrics } from './metric-report';

/** The loss-family metrics, always computed together (one pass over the test split). */
export const LOSS_METRICS = LOSS_FAMILY;
/** Every metric `--metrics` and the evaluate cell accept. */
export const REPORT_METRICS: readonly string[] = [...LOSS_METRICS, 'iwae', 'ssim', 'active-units', 'probe', 'knn', 'mig', 'factorvae'];
/** Importance samples of the IWAE bound when `k` is not given. */
export const DEFAULT_IWAE_SAMPLES = 50;

export interface EvaluateRunOptions {
  metrics: readonly string[];
  /** Importance samples of the IWAE bound. */
  k?: number;
  checkpoint: string;
  epoch: number;
  signal?: AbortSignal;
  /** One line about a long metric's progress (IWAE, the probe). */
  onProgress?: (message: string) => void;
}

export interface EvaluatedModel {
  model: Autoencoder;
  dataset: Dataset;
  config: { seed: number; data: DataConfig; model: ModelConfig };
}

/**
 * Runs one metric's room; a metric that cannot apply to this model or data (images smaller than
 * SSIM's window, a one-dimensional code for MIG, a class too small for the few-labels draws)
 * becomes a note naming it, and the others are still reported. Stopping (Ctrl-C) still stops.
 */
async function guarded(report: MetricReport, names: string[], signal: AbortSignal | undefined, measure: () => Promise<void>): Promise<void> {
  try {
    await measure();
  } catch (error) {
    if (signal?.aborted || (error as Error).name === 'AbortError') throw error;
    for (const name of names) if (!report.metrics[name]) report.notes.push(`${name}: not computed: ${(error as Error).message}`);
  }
}

export async function evaluateRun(subject: EvaluatedModel, options: EvaluateRunOptions): Promise<MetricReport> {
  const { model, dataset, config } = subject;
  const units = lossUnits(config.data, config.model);
  const report: MetricReport = { split: 'test', examples: dataset.test.count, units, checkpoint: options.checkpoint, epoch: options.epoch, metrics: {}, notes: [] };
  const wanted = new Set(options.metrics);
  if (LOSS_METRICS.some((name) => wanted.has(name))) {
    const evaluation = await evaluateSplit(model, dataset, config.data, config.seed);
    for (const metric of lossMetrics(evaluation, units)) if (wanted.has(metric.name)) report.metrics[metric.name] = metric;
    for (const name of ['kl', 'elbo']) if (wanted.has(name) && !report.metrics[name]) report.notes.push(`${name}: only variational kinds have one; this model is a ${model.kind}`);
  }
  const source = splitSource(model, dataset.test, config.data, config.seed);
  if (wanted.has('iwae')) await guarded(report, ['iwae'], options.signal, async () => {
    const refusal = iwaeRefusal(model, source);
    if (refusal) report.notes.push(`iwae: ${refusal}`);
    else {
      const k = options.k ?? DEFAULT_IWAE_SAMPLES;
      let reported = 0;
      const result = await iwaeBound(model, source, {
        k,
        seed: mixSeed(config.seed, 501),
        signal: options.signal,
        onProgress: ({ samples, totalSamples }) => {
          // About every tenth of the work: k = 5000 on a test split takes minutes.
          if (samples - reported < totalSamples / 10 && samples < totalSamples) return;
          reported = samples;
          options.onProgress?.(`iwae: ${Math.round((100 * samples) / totalSamples)}% of ${totalSamples} importance samples`);
        },
      });
      report.metrics.iwae = { name: 'iwae', value: result.bound, units: 'nats', better: 'higher', how: `IWAE bound on log p(x), k = ${k} importance samples per example, ± ${result.standardError.toFixed(3)} standard error over examples`, detail: { k, standardError: result.standardError } };
    }
  });
  if (wanted.has('active-units')) await guarded(report, ['active-units'], options.signal, async () => {
    if (!model.variational) report.notes.push(`active-units: needs a posterior q(z|x); the ${model.kind} kind has none`);
    else {
      const statistics = await latentStatistics(model, source, { signal: options.signal });
      report.metrics['active-units'] = {
        name: 'active-units',
        value: statistics.activeUnits,
        units: `of ${model.latent}`,
        better: 'higher',
        how: `dimensions with Cov_x(E_q[z_j|x]) > ${ACTIVE_THRESHOLD}; KL per dimension in nats under detail`,
        detail: { klPerDimension: statistics.klPerDimension, meanVariance: statistics.meanVariance },
      };
      if (statistics.collapse) report.notes.push(statistics.collapse);
    }
  });
  if (wanted.has('ssim')) await guarded(report, ['ssim'], options.signal, async () => {
    const result = await ssimOfSplit(model, dataset, config.data, config.seed, { signal: options.signal });
    report.metrics.ssim = { name: 'ssim', value: result.mean, std: result.std, units: '', better: 'higher', how: 'SSIM of each test image and its reconstruction (Gaussian 11×11 window, σ 1.5, K1 0.01, K2 0.03, valid windows), mean ± std over images; 1 is identical' };
  });
  if (wanted.has('probe') || wanted.has('knn')) await guarded(report, ['probe', 'knn'].filter((name) => wanted.has(name)), options.signal, () => representation(subject, wanted, report, options));
  if (wanted.has('mig') || wanted.has('factorvae')) await guarded(report, ['mig', 'factorvae'].filter((name) => wanted.has(name)), options.signal, () => disentanglement(subject, wanted, report, options));
  return report;
}

/**
 * The code as features for a classifier with few labels (autoencoders as pretraining): a linear
 * probe and kNN trained on the train split's latent means and scored on the test split, and the
 * same classifier on 100 and 1000 class-balanced labels, latents against raw pixels.
 */
async function representation(subject: EvaluatedModel, wanted: Set<string>, report: MetricReport, options: EvaluateRunOptions): Promise<void> {
  const { model, dataset, config } = subject;
  const names = ['probe', 'knn'].filter((name) => wanted.has(name));
  if (dataset.classes.length < 2) {
    for (const name of names) report.notes.push(`${name}: needs labelled data with at least two classes; ${dataset.name} has ${dataset.classes.length}`);
    return;
  }
  options.onProgress?.('encoding the train and test splits for the classifiers');
  const encodeOptions = { seed: config.seed, signal: options.signal };
  const [train, test] = [await encodeSplit(model, dataset, config.data, { ...encodeOptions, split: 'train' }), await encodeSplit(model, dataset, config.data, { ...encodeOptions, split: 'test' })];
  const latents = {
    train: { values: train.means, count: train.count, dimension: train.latent, labels: train.labels },
    test: { values: test.means, count: test.count, dimension: test.latent, labels: test.labels },
  };
  const size = dataset.shape[0] * dataset.shape[1] * dataset.shape[2];
  const pixels = {
    train: { values: dataset.train.images, count: dataset.train.count, dimension: size, labels: dataset.train.labels },
    test: { values: dataset.test.images, count: dataset.test.count, dimension: size, labels: dataset.test.labels },
  };
  // Only sizes the train split can hold with one of each class.
  const sizes = [100, 1000].filter((labels) => labels <= dataset.train.count && labels >= dataset.classes.length);
  for (const name of names) {
    options.onProgress?.(`${name}: fitting on ${train.count} train latents, then ${sizes.join(' and ')} labels (latents and pixels)`);
    const full = name === 'probe' ? linearProbe(latents.train, latents.test) : knnAccuracy(latents.train, latents.test);
    const few = sizes.length > 0 ? fewLabels({ latents, pixels }, { sizes, seed: mixSeed(config.seed, 503), classifier: { kind: name as 'probe' | 'knn' } }) : undefined;
    const detail: Record<string, number | number[] | string> = {};
    for (const entry of few?.sizes ?? []) {
      for (const [features, summary] of Object.entries(entry.results)) {
        detail[`${features}${entry.labels}`] = summary.mean;
        detail[`${features}${entry.labels}Std`] = summary.std;
      }
    }
    const comparison = (few?.sizes ?? []).map((entry) => `${entry.labels} labels: latents ${percent(entry.results.latents.mean)} ± ${percent(entry.results.latents.std)}, pixels ${percent(entry.results.pixels.mean)} ± ${percent(entry.results.pixels.std)}`).join('; ');
    report.metrics[name] = { name, value: full.accuracy, units: 'accuracy', better: 'higher', how: `${full.description}${comparison ? `; ${comparison} (${few!.draws} draws)` : ''}`, detail };
  }
}

function percent(value: number): string {
  return `${(100 * value).toFixed(1)}%`;
}

/** MIG and the FactorVAE score: only on the sprites' factor grid, whose generator knows the factors. */
async function disentanglement(subject: EvaluatedModel, wanted: Set<string>, report: MetricReport, options: EvaluateRunOptions): Promise<void> {
  const { model, dataset, config } = subject;
  const names = ['mig', 'factorvae'].filter((name) => wanted.has(name));
  if (config.data.dataset !== 'sprites' || config.data.factors !== 'grid' || !dataset.factors) {
    for (const name of names) report.notes.push(`${name}: needs data with known, independent factors: sprites with factors: grid (this run's data is ${config.data.dataset}${config.data.dataset === 'sprites' ? ' in the random mode' : ''})`);
    return;
  }
  if (model.classes > 0) {
    for (const name of names) report.notes.push(`${name}: a cvae's code is read with a label; the score's images come without one`);
    return;
  }
  if (wanted.has('mig')) {
    const codes = await encodeSplit(model, dataset, config.data, { split: 'test', seed: config.seed, signal: options.signal });
    const result = mutualInformationGap(codes.means, codes.latent, discreteFactors(dataset.factors.test, dataset.factors.names));
    report.metrics.mig = { name: 'mig', value: result.score, units: '', better: 'higher', how: describeMig(result), detail: Object.fromEntries(result.factors.map((factor) => [factor.name, factor.gap])) };
  }
  if (wanted.has('factorvae')) {
    const grid = new SpriteGrid(dataset.shape[0]);
    const size = dataset.shape[0] * dataset.shape[1];
    const result = await factorVaeScore({
      sampler: grid,
      seed: mixSeed(config.seed, 502),
      // A deterministic code's scale is arbitrary: only dimensions that never vary count as collapsed.
      minVariance: model.variational ? undefined : 0,
      signal: options.signal,
      encode: async (images, count) => {
        const means = tf.tidy(() => {
          const x = tf.tensor4d(Float32Array.from(images.subarray(0, count * size), (value) => value / 255), [count, ...dataset.shape]);
          return tf.clone(encode(model, x, { training: false, sample: false }).mean);
        });
        const values = (await means.data()) as Float32Array;
        means.dispose();
        return values;
      },
    });
    report.metrics.factorvae = { name: 'factorvae', value: result.score, units: '', better: 'higher', how: describeFactorVae(result), detail: { chance: result.chance, imagesPerVote: result.imagesPerVote, trainVotes: result.trainVotes, evalVotes: result.evalVotes } };
  }
}
