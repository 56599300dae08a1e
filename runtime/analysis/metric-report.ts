/**
 * The numbers a paper reports about a trained model, each with its units and which way is better,
 * under stable keys: what `aexp evaluate --json` prints, what the evaluate cell shows, and what
 * `summary.json` keeps under `metrics`. Each metric is computed by its own room; this one names
 * them, orders them and formats them.
 */
import type { Evaluation, LossUnits, MetricValue } from '../protocol';

export type { MetricValue };

export interface MetricReport {
  split: 'test';
  examples: number;
  units: LossUnits;
  /** The checkpoint evaluated: last, best or epoch-N. */
  checkpoint: string;
  /** Completed epochs of the checkpoint. */
  epoch: number;
  metrics: Record<string, MetricValue>;
  /** Things a person should know (posterior collapse, a metric refused and why). */
  notes: string[];
}

/** The loss-family metrics evaluateSplit computes, as report entries. */
export function lossMetrics(evaluation: Evaluation, units: LossUnits): MetricValue[] {
  const entries: MetricValue[] = [
    { name: 'loss', value: evaluation.loss, units, better: 'lower', how: 'the objective per example, regularizer at its final weight' },
    { name: 'reconstruction', value: evaluation.reconstruction, units, better: 'lower', how: 'the reconstruction term per example' },
  ];
  if (evaluation.kl !== undefined) entries.push({ name: 'kl', value: evaluation.kl, units, better: 'lower', how: 'KL(q(z|x) ‖ p(z)) per example' });
  if (evaluation.elbo !== undefined) entries.push({ name: 'elbo', value: evaluation.elbo, units, better: 'higher', how: '−(reconstruction + KL): a lower bound on log p(x) where the units are nats' });
  entries.push({ name: 'mse', value: evaluation.mse, units: '', better: 'lower', how: 'mean squared pixel error, pixels in [0, 1]' });
  entries.push({ name: 'psnr', value: evaluation.psnr, units: 'dB', better: 'higher', how: '10·log10(1 / MSE)' });
  return entries;
}

function formatValue(metric: MetricValue): string {
  if (metric.units === 'accuracy') return `${(100 * metric.value).toFixed(1)}%${metric.std !== undefined ? ` ± ${(100 * metric.std).toFixed(1)}%` : ''}`;
  if (Number.isInteger(metric.value) && metric.std === undefined) return `${metric.value}${metric.units === '' ? '' : ` ${metric.units}`}`;
  const magnitude = Math.abs(metric.value);
  const digits = metric.units === '' && magnitude < 0.1 ? 5 : 3;
  const value = metric.value.toFixed(digits);
  const spread = metric.std !== undefined ? ` ± ${metric.std.toFixed(digits)}` : '';
  const units = metric.units === '' ? '' : ` ${metric.units}`;
  return `${value}${spread}${units}`;
}

/** One metric a line with its units and which way is better, then the notes. */
export function metricLines(report: Pick<MetricReport, 'metrics' | 'notes'>): string[] {
  const lines: string[] = [];
  for (const metric of Object.values(report.metrics)) {
    lines.push(`${metric.name.padEnd(15)}${formatValue(metric).padEnd(22)} ${metric.better} is better${metric.how ? `; ${metric.how}` : ''}`);
  }
  for (const note of report.notes) lines.push(`note: ${note}`);
  return lines;
}

/** The report as text: what was evaluated, then metricLines. */
export function reportTable(report: MetricReport): string {
  return [`${report.split} split, ${report.examples} examples, checkpoint ${report.checkpoint} (epoch ${report.epoch}):`, ...metricLines(report)].join('\n');
}
