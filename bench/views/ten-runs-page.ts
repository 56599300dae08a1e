/**
 * T1's page (bundled by chart-update.ts for Chromium): one chart.js chart holding 10 runs × 20k
 * logged steps, one line per run, as the runs panel's overlay draws them, updated the way the
 * training chart updates: the host's `append` message checked by the renderer's own parser, its
 * points added to the run's History (the renderer's: every point kept, each line decimated on
 * arrival to the canvas's columns and continued from the last update), new arrays assigned, and
 * `update('none')` with animation off. The time is the synchronous handling of one such update
 * for every run, drawing included.
 */
import { Chart, LinearScale, LineController, LineElement, PointElement } from 'chart.js';
import type { ChartDataset } from 'chart.js';
import type { HostMessage } from '../../extension/renderer-protocol';
import { parseHostMessage } from '../../webview/chart/messages';
import type { Point } from '../../webview/chart/series';
import { History } from '../../webview/chart/series';

Chart.register(LineController, LineElement, PointElement, LinearScale);

const COLOURS = ['#3794ff', '#d18616', '#89d185', '#b180d7', '#f14c4c', '#cca700', '#4ec9b0', '#c586c0', '#dcdcaa', '#9cdcfe'];
const SMOOTHING = 0.6;
const loss = (point: { loss: number }) => point.loss;

export interface TenRunsChart {
  /** Each run's history as a snapshot would bring it. */
  load(runs: HostMessage[]): void;
  /** One round: an update for each run, handled and drawn; answers its time in ms. */
  update(messages: unknown[]): number;
  /** Logged steps each run holds, and points drawn in all. */
  held(): { steps: number[]; drawn: number };
}

export function tenRunsChart(canvas: HTMLCanvasElement): TenRunsChart {
  const histories = new Map<string, History>();
  const datasets = new Map<string, ChartDataset<'line', Point[]>>();
  const chart = new Chart<'line', Point[]>(canvas, {
    type: 'line',
    data: { datasets: [] },
    options: { animation: false, parsing: false, normalized: true, responsive: true, maintainAspectRatio: false, interaction: { mode: 'nearest', intersect: false }, scales: { x: { type: 'linear' }, y: { type: 'linear' } } },
  });
  // As the notebook's chart does: the datasets stay, each changed one gets a new data array.
  const draw = (changed: Iterable<string>) => {
    const columns = Math.max(200, chart.width || 600);
    for (const run of changed) datasets.get(run)!.data = histories.get(run)!.stepLine(loss, SMOOTHING, columns).smoothed;
    chart.update('none');
  };
  return {
    load(runs) {
      for (const message of runs) {
        if (message.type !== 'append') continue;
        const history = new History();
        history.add(message);
        histories.set(message.chartId, history);
        datasets.set(message.chartId, { label: message.chartId, data: [], borderColor: COLOURS[datasets.size % COLOURS.length], borderWidth: 1.5, pointRadius: 0, tension: 0 });
      }
      chart.data.datasets = [...datasets.values()];
      draw(histories.keys());
    },
    update(messages) {
      const started = performance.now();
      const changed = new Set<string>();
      for (const value of messages) {
        const message = parseHostMessage(value);
        const history = message && histories.get(message.chartId);
        if (!message || message.type !== 'append' || !history) continue;
        history.add(message);
        changed.add(message.chartId);
      }
      draw(changed);
      return performance.now() - started;
    },
    held() {
      return { steps: [...histories.values()].map((history) => history.lastStep), drawn: [...datasets.values()].reduce((sum, dataset) => sum + dataset.data.length, 0) };
    },
  };
}

(globalThis as unknown as { tenRunsChart: typeof tenRunsChart }).tenRunsChart = tenRunsChart;
