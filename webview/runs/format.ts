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
