/**
 * Evaluates a trained model on its test split: the loss family from evaluateSplit, then each
 * further metric asked for, in its own room. Orchestration only: what each metric means and how
 * it is computed lives with the metric.
 */
import type { Dataset } from '../data/dataset';
import type { DataConfig, ModelConfig } from '../format/schema';
import type { Autoencoder } from '../model/build';
import { evaluateSplit, lossUnits } from './evaluate';
import type { MetricReport } from './metric-report';
import { lossMetrics } from './metric-report';

/** The loss-family metrics, always computed together (one pass over the test split). */
export const LOSS_METRICS = ['loss', 'reconstruction', 'kl', 'elbo', 'mse', 'psnr'] as const;
/** Every metric `--metrics` and the evaluate cell accept. */
export const REPORT_METRICS: readonly string[] = [...LOSS_METRICS];

export interface EvaluateRunOptions {
  metrics: readonly string[];
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
  return report;
}
