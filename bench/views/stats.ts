/** Percentiles and the benchmark's report lines: p50/p95 beside each target, and whether it is met. */

/** The nearest-rank percentile (p in 0–100) of the values; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** One measured target: what was measured, its p50 and p95, and the limit its p95 (or its single value) must stay within. */
export interface Result {
  target: string;
  what: string;
  p50: number;
  p95: number;
  unit: 'ms' | 'KB';
  limit: number;
  samples: number;
  /** Printed, not judged: a breakdown beside a target. */
  informative?: boolean;
  note?: string;
}

export function result(target: string, what: string, values: readonly number[], unit: Result['unit'], limit: number, extra: Partial<Result> = {}): Result {
  return { target, what, p50: percentile(values, 50), p95: percentile(values, 95), unit, limit, samples: values.length, ...extra };
}

function format(value: number): string {
  if (!Number.isFinite(value)) return '—';
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

export function verdict(entry: Result): string {
  if (entry.informative) return '';
  if (entry.samples === 0) return 'not measured';
  return entry.p95 <= entry.limit ? 'met' : 'NOT MET';
}

export function report(results: readonly Result[]): string {
  const rows = results.map((entry) => [entry.target, entry.what, `${format(entry.p50)} ${entry.unit}`, `${format(entry.p95)} ${entry.unit}`, `≤ ${entry.limit} ${entry.unit}`, String(entry.samples), verdict(entry), entry.note ?? '']);
  const header = ['target', 'what', 'p50', 'p95', 'limit (p95)', 'n', 'verdict', 'note'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (row: string[]) => row.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}
