/** How the table writes a run's values: times, durations and losses with their units. */
import type { RunRow } from '../../extension/runs-panel-protocol';

/** `2026-11-01 12:01` in the viewer's time zone. */
export function startText(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const two = (value: number) => String(value).padStart(2, '0');
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ${two(date.getHours())}:${two(date.getMinutes())}`;
}

/** `45 s`, `12 min 5 s`, `3 h 4 min`. */
export function durationText(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

/** Four significant digits, as a loss is read. */
export function numberText(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '';
  return Math.abs(value) >= 1e-3 && Math.abs(value) < 1e6 ? String(Number(value.toPrecision(4))) : value.toExponential(3);
}

export function lossText(value: number | undefined, units: RunRow['units']): string {
  const number = numberText(value);
  return number && units === 'nats' ? `${number} nats` : number;
}

export function configText(value: RunRow['config'][string] | undefined): string {
  return value === undefined ? '—' : value === null ? 'null' : String(value);
}

/** The run's short name: its experiment and its folder's name (the start time). */
export function runName(row: Pick<RunRow, 'experiment' | 'runDir'>): string {
  return `${row.experiment}/${row.runDir.split(/[\\/]/).pop()}`;
}

/** More differing keys than a label reads at a glance: the table's columns show the rest. */
const LABEL_KEYS = 4;

/**
 * Each run's label where runs are told apart (the legend, the reconstructions, a row's hover): the
 * values of `keys` (the config keys that differ between them), `seed 8 · train.lr 0.003`; its
 * experiment first when they are of several; its start time where that says nothing or two runs
 * would read the same.
 */
export function runLabels(rows: readonly Pick<RunRow, 'runDir' | 'experiment' | 'startedAt' | 'config'>[], keys: readonly string[]): Map<string, string> {
  const several = new Set(rows.map((row) => row.experiment)).size > 1;
  const shown = keys.slice(0, LABEL_KEYS);
  const labels = rows.map((row) => {
    const parts = shown.filter((key) => row.config[key] !== undefined).map((key) => `${key} ${configText(row.config[key])}`);
    if (parts.length > 0 && keys.length > LABEL_KEYS) parts.push('…');
    return [...(several ? [row.experiment] : []), ...(parts.length > 0 ? parts : [startText(row.startedAt)])].join(' · ');
  });
  const count = new Map<string, number>();
  for (const label of labels) count.set(label, (count.get(label) ?? 0) + 1);
  return new Map(rows.map((row, index) => {
    const label = labels[index];
    const time = startText(row.startedAt);
    return [row.runDir, count.get(label)! > 1 && !label.endsWith(time) ? `${label} · ${time}` : label];
  }));
}
