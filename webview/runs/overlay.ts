/**
 * The selected runs' curves on one chart (chart.js, as the notebook's training chart): one line per
 * run, in the run's colour, from the notebook chart's own History (the same x axes, smoothing and
 * thinning to the canvas's width). A hovered row's line is drawn thick and the others faded.
 */
import { Chart, LinearScale, LineController, LineElement, LogarithmicScale, PointElement, Tooltip } from 'chart.js';
import type { ChartDataset } from 'chart.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import type { VscodeCheckbox } from '@vscode-elements/elements/dist/vscode-checkbox/vscode-checkbox.js';
import type { VscodeSingleSelect } from '@vscode-elements/elements/dist/vscode-single-select/vscode-single-select.js';
import type { ChartSnapshot } from '../../extension/renderer-protocol';
import type { RunsPanelState } from '../../extension/runs-panel-protocol';
import type { Point, XAxis } from '../chart/series';
import { History } from '../chart/series';
import { PATCHED_CHART_OPTIONS, POINT_DATA_OPTIONS, readAxisColours, themedAxis } from '../shared/chart-setup';
import { cssVariable, element } from '../shared/dom';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Tooltip);

export type SeriesName = NonNullable<RunsPanelState['series']>;
const SERIES: Record<SeriesName, string> = { 'step-loss': 'loss (per step)', 'train-loss': 'train loss (epoch)', 'test-loss': 'test loss (epoch)' };
const X_TITLES: Record<XAxis, string> = { step: 'step', epoch: 'epoch', seconds: 'wall time (s)' };

export interface OverlayRun {
  id: string;
  label: string;
  colour: string;
}

type LineDataset = ChartDataset<'line', Point[]> & { runId: string };

export class Overlay {
  readonly root: HTMLDivElement;
  private readonly chart: Chart<'line', Point[]>;
  private readonly histories = new Map<string, History>();
  private runs: OverlayRun[] = [];
  private highlighted: string | undefined;
  /** A redraw asked for and not yet done: curves arrive one message per run, drawn once per frame. */
  private pending = false;
  private readonly series: VscodeSingleSelect;
  private readonly xAxis: VscodeSingleSelect;
  private readonly smoothing: HTMLInputElement;
  private readonly smoothingValue: HTMLSpanElement;
  private readonly logScale: VscodeCheckbox;
  private readonly logNote: HTMLSpanElement;
  private readonly seriesNote: HTMLSpanElement;
  private readonly legend: HTMLDivElement;

  constructor(state: RunsPanelState, private readonly changed: (state: Partial<RunsPanelState>) => void) {
    const select = (label: string, options: Record<string, string>, value: string) => {
      const created = element('vscode-single-select', { title: label }, ...Object.entries(options).map(([key, text]) => element('vscode-option', { value: key, textContent: text })));
      created.setAttribute('aria-label', label);
      created.value = value;
      created.addEventListener('change', () => this.settingsChanged());
      return created;
    };
    this.series = select('series', SERIES, state.series ?? 'step-loss');
    this.xAxis = select('x axis', X_TITLES, state.x ?? 'step');
    this.smoothing = element('input', { type: 'range', min: '0', max: '0.99', step: '0.01', value: String(state.smoothing ?? 0.6) });
    this.smoothing.setAttribute('aria-label', 'smoothing');
    this.smoothing.addEventListener('input', () => this.settingsChanged());
    this.smoothingValue = element('span', { className: 'note' });
    this.logScale = element('vscode-checkbox', { label: 'log y', checked: state.log ?? false });
    this.logScale.setAttribute('aria-label', 'log scale');
    this.logScale.addEventListener('change', () => this.settingsChanged());
    this.logNote = element('span', { className: 'note' });
    this.seriesNote = element('span', { className: 'note series-note' });
    this.legend = element('div', { className: 'legend' });
    this.legend.setAttribute('aria-label', 'selected runs');
    const canvas = element('canvas');
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', 'the selected runs\' curves');
    const plot = element('div', { className: 'chart' }, canvas);
    this.root = element('div', {},
      element('div', { className: 'toolbar' }, this.series, element('span', {}, 'x '), this.xAxis, element('label', {}, 'smoothing ', this.smoothing, this.smoothingValue), this.logScale, this.logNote, this.seriesNote),
      this.legend, plot);
    this.chart = new Chart<'line', Point[]>(canvas, {
      type: 'line',
      data: { datasets: [] },
      options: {
        ...PATCHED_CHART_OPTIONS,
        ...POINT_DATA_OPTIONS,
        interaction: { mode: 'nearest', intersect: false },
        scales: { x: { type: 'linear' }, y: { type: 'linear' } },
        plugins: { tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${Number(item.parsed.y?.toPrecision(6))}` } } },
      },
    });
  }

  private settingsChanged(): void {
    this.changed({ series: this.series.value as SeriesName, x: this.xAxis.value as XAxis, smoothing: Number(this.smoothing.value), log: this.logScale.checked });
    this.redraw();
  }

  /** A run's whole curve as the host read it (again, when it grew). */
  setCurve(run: string, snapshot: ChartSnapshot): void {
    const history = new History();
    history.add(snapshot);
    this.histories.set(run, history);
    this.redraw();
  }

  /** The runs drawn, in order, with their colours; curves of runs no longer selected are dropped. */
  setRuns(runs: OverlayRun[]): void {
    this.runs = runs;
    for (const id of [...this.histories.keys()]) if (!runs.some((run) => run.id === id)) this.histories.delete(id);
    this.redraw();
  }

  highlight(run: string | undefined): void {
    if (run === this.highlighted) return;
    this.highlighted = run;
    this.redraw();
  }

  private redraw(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.draw();
    });
  }

  private draw(): void {
    const chosen = this.series.value as SeriesName;
    const loaded = this.runs.flatMap((run) => this.histories.get(run.id) ?? []);
    // A run of fewer steps than its log_every logs no step: its epochs are all there is to draw.
    const noSteps = chosen === 'step-loss' && loaded.length > 0 && loaded.every((history) => history.steps.length === 0);
    const series: SeriesName = noSteps ? 'train-loss' : chosen;
    this.seriesNote.textContent = noSteps ? `no selected run logged a loss per step (a run logs one every log_every steps): the ${SERIES['train-loss'].replace(' (epoch)', '')} per epoch instead` : '';
    const x = this.xAxis.value as XAxis;
    const weight = Number(this.smoothing.value);
    this.smoothingValue.textContent = weight.toFixed(2);
    const columns = Math.max(200, this.chart.width || 600);
    const colours = readAxisColours();
    let allPositive = true;
    let points = 0;
    const datasets: LineDataset[] = [];
    let units: string | undefined;
    for (const run of this.runs) {
      const history = this.histories.get(run.id);
      if (!history) continue;
      history.x = x;
      units ??= history.units;
      let data: Point[];
      if (series === 'step-loss') {
        const line = history.stepLine((point) => point.loss, weight, columns);
        data = line.smoothed;
        if (!line.positive) allPositive = false;
      } else {
        data = history.epochSeries((point) => (series === 'train-loss' ? point.train.loss : point.test?.loss));
        if (data.some((point) => point.y <= 0)) allPositive = false;
      }
      points += data.length;
      const faded = this.highlighted !== undefined && this.highlighted !== run.id;
      const strong = this.highlighted === run.id;
      datasets.push({
        runId: run.id, label: run.label, data, borderColor: faded ? `color-mix(in srgb, ${run.colour} 25%, transparent)` : run.colour, backgroundColor: run.colour,
        borderWidth: strong ? 3.5 : 1.5, pointRadius: series === 'step-loss' ? 0 : strong ? 4 : 2.5, tension: 0, order: strong ? 0 : 1,
      });
    }
    this.logScale.disabled = !allPositive;
    if (!allPositive) this.logScale.checked = false;
    this.logNote.textContent = allPositive ? '' : 'log scale off: some values are ≤ 0';
    const log = this.logScale.checked;
    this.chart.data.datasets = datasets;
    const scales = this.chart.options.scales as Record<string, Record<string, unknown>>;
    scales.x = { type: 'linear', ...themedAxis(X_TITLES[x], colours) };
    scales.y = { type: log ? 'logarithmic' : 'linear', ...themedAxis(units === 'nats' ? `${SERIES[series]} (nats)` : SERIES[series], colours) };
    Chart.defaults.color = colours.foreground;
    Chart.defaults.font.family = cssVariable('--vscode-font-family', 'sans-serif');
    this.chart.update('none');

    this.legend.replaceChildren(...this.runs.map((run) => {
      const swatch = element('span', { className: 'swatch' });
      swatch.style.background = run.colour;
      const entry = element('span', { className: `entry${run.id === this.highlighted ? ' highlighted' : ''}` }, swatch, run.label);
      entry.dataset.run = run.id;
      return entry;
    }));
    this.root.dataset.datasets = String(datasets.length);
    this.root.dataset.series = series;
    this.root.dataset.points = String(points);
    this.root.dataset.highlighted = this.highlighted ?? '';
    this.root.dataset.yScale = log ? 'logarithmic' : 'linear';
  }

  /** The theme changed: colours are read again. */
  restyle(): void {
    this.redraw();
  }

  dispose(): void {
    this.chart.destroy();
  }
}
