/** The sweep's summary: every run's overrides and final metrics, sorted by the sweep's metric; a table and a CSV. */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../util/atomic-file';
import type { RunStatus } from './sweep-status';

export interface SummaryTable {
  header: string[];
  rows: string[][];
  /** The metric sorted by, and which way. */
  metric: string;
}

/** A run's value of `split.metric` (test.loss, train.loss, test.psnr, …). */
function metricValue(status: RunStatus, metric: string): number | undefined {
  const [split, name] = metric.replace(/^-/, '').split('.');
  const values = (split === 'test' ? status.summary?.test : split === 'train' ? status.summary?.train : undefined) as Record<string, unknown> | undefined;
  const value = values?.[name];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function cell(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * The table: index, each swept key, the seed, state, epochs, then the test metrics any run has.
 * Sorted by `metric` (lower first; `-name` higher first); runs without it last, in index order.
 */
export function summaryTable(statuses: RunStatus[], metric = 'test.loss'): SummaryTable {
  const keys = [...new Set(statuses.flatMap((status) => status.run.overrides.map(([key]) => key)))];
  const seeds = statuses.some((status) => status.run.seed !== undefined);
  const metricNames = [...new Set(statuses.flatMap((status) => Object.keys(status.summary?.test ?? {})))].filter((name) => statuses.some((status) => typeof (status.summary?.test as Record<string, unknown> | undefined)?.[name] === 'number'));
  const descending = metric.startsWith('-');
  const sorted = [...statuses].sort((a, b) => {
    const left = metricValue(a, metric);
    const right = metricValue(b, metric);
    if (left === undefined || right === undefined) return left === right ? a.run.index - b.run.index : left === undefined ? 1 : -1;
    return (descending ? right - left : left - right) || a.run.index - b.run.index;
  });
  const header = ['index', ...keys, ...(seeds ? ['seed'] : []), 'state', 'epochs', ...metricNames.map((name) => `test.${name}`), 'run folder'];
  const rows = sorted.map((status) => {
    const overrides = new Map(status.run.overrides);
    return [
      String(status.run.index),
      ...keys.map((key) => cell(overrides.get(key))),
      ...(seeds ? [cell(status.run.seed)] : []),
      status.state,
      cell(status.summary?.epochs),
      ...metricNames.map((name) => cell((status.summary?.test as Record<string, unknown> | undefined)?.[name])),
      status.runDir ?? '',
    ];
  });
  return { header, rows, metric };
}

export function formatTable(table: SummaryTable): string {
  const all = [table.header, ...table.rows];
  // The run folder, last, is not padded: it is long and the line ends there.
  const widths = table.header.map((_, column) => Math.max(...all.map((row) => row[column].length)));
  return all.map((row) => row.map((value, column) => (column === row.length - 1 ? value : value.padEnd(widths[column]))).join('  ').trimEnd()).join('\n');
}

function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function writeSummaryCsv(file: string, table: SummaryTable): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const text = [table.header, ...table.rows].map((row) => row.map(csvField).join(',')).join('\n');
  writeFileAtomic(file, [Buffer.from(`${text}\n`)]);
}
