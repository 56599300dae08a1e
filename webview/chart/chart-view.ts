/**
 * One training chart in one output element: built once, then patched (new arrays assigned,
 * `update('none')`), so the element and its canvas stay the same for the whole run and the height
 * never changes. The legend is HTML (buttons that toggle series, reachable by keyboard); colours
 * come from the theme's `--vscode-*` variables and follow a theme change.
 */
import { Chart, LinearScale, LineController, LineElement, LogarithmicScale, PointElement, Tooltip } from 'chart.js';
import type { ChartDataset, Plugin } from 'chart.js';
import zoomPlugin from 'chartjs-plugin-zoom';
// The controls VS Code's own views use (they read the same --vscode-* variables); a range slider is not among them.
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-toolbar-button/index.js';
import type { VscodeCheckbox } from '@vscode-elements/elements/dist/vscode-checkbox/vscode-checkbox.js';
import type { VscodeSingleSelect } from '@vscode-elements/elements/dist/vscode-single-select/vscode-single-select.js';
import type { ChartSnapshot, HostMessage } from '../../extension/renderer-protocol';
import type { IconName } from './icons';
import { icon } from './icons';
import type { Point, SeriesSpec, XAxis } from './series';
import { History, SERIES, thin, toCsv } from './series';
import { CHART_STYLE } from './style';
import { PATCHED_CHART_OPTIONS, POINT_DATA_OPTIONS, readAxisColours, themedAxis } from '../shared/chart-setup';
import { cssVariable, element } from '../shared/dom';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Tooltip, zoomPlugin);

/** The whole output's height in CSS pixels: fixed, so that the notebook never jumps. */
export const CHART_HEIGHT = 360;

const THEME_COLOURS = ['--vscode-charts-blue', '--vscode-charts-orange', '--vscode-charts-green', '--vscode-charts-purple', '--vscode-charts-red', '--vscode-charts-yellow'];
const FALLBACK_COLOURS = ['#3794ff', '#d18616', '#89d185', '#b180d7', '#f14c4c', '#cca700'];
const X_TITLES: Record<XAxis, string> = { step: 'step', epoch: 'epoch', seconds: 'wall time (s)' };

interface Theme {
  colours: string[];
  foreground: string;
  muted: string;
  grid: string;
  font: string;
  /** Behind an exported PNG: the canvas itself is transparent, and the theme's text colour needs its own background to read. */
  background: string;
}

/** The theme's colours, read once per theme (reading styles on every update would cost a style recalculation). */
function readTheme(): Theme {
  return {
    colours: THEME_COLOURS.map((name, index) => opaque(cssVariable(name, FALLBACK_COLOURS[index]))),
    ...readAxisColours(),
    muted: cssVariable('--vscode-descriptionForeground', '#888'),
    font: cssVariable('--vscode-font-family', 'sans-serif'),
    background: cssVariable('--vscode-editor-background', '#1e1e1e'),
  };
}

/**
 * A theme colour without its alpha: some themes' chart colours are borrowed from translucent ones
 * (charts.orange is the overview ruler's find-match colour), and a line must read at full strength.
 */
export function opaque(colour: string): string {
  const hex = /^#([0-9a-f]{6})[0-9a-f]{2}$/i.exec(colour);
  if (hex) return `#${hex[1]}`;
  const short = /^#([0-9a-f]{3})[0-9a-f]$/i.exec(colour);
  if (short) return `#${short[1]}`;
  const rgba = /^rgba\(([^,]+),([^,]+),([^,]+),[^)]+\)$/i.exec(colour.replace(/\s+/g, ''));
  return rgba ? `rgb(${rgba[1]},${rgba[2]},${rgba[3]})` : colour;
}

/** Enough digits to tell two values apart in a tooltip, without a float's noise. */
function exact(value: number): string {
  return Math.abs(value) >= 1e-3 && Math.abs(value) < 1e6 ? String(Number(value.toPrecision(7))) : value.toExponential(6);
}

/** Vertical lines on the x axis: each set with its own colour and dash. */
interface Markers {
  at: number[];
  colour: string;
  dash: number[];
}

/** Dashed lines where a run was resumed from its checkpoint, dotted ones where the learning rate dropped. */
function markerLines(markers: () => Markers[]): Plugin<'line'> {
  return {
    id: 'latentLabMarkers',
    afterDatasetsDraw(chart) {
      const { ctx, chartArea, scales } = chart;
      ctx.save();
      for (const { at, colour, dash } of markers()) {
        ctx.strokeStyle = colour;
        ctx.setLineDash(dash);
        for (const mark of at) {
          const x = scales.x.getPixelForValue(mark);
          if (x < chartArea.left || x > chartArea.right) continue;
          ctx.beginPath();
          ctx.moveTo(x, chartArea.top);
          ctx.lineTo(x, chartArea.bottom);
          ctx.stroke();
        }
      }
      ctx.restore();
    },
  };
}

type LineDataset = ChartDataset<'line', Point[]>;

export class ChartView {
  readonly root: HTMLDivElement;
  private history = new History();
  private chartId = '';
  private readonly chart: Chart<'line', Point[]>;
  private readonly canvas: HTMLCanvasElement;
  private readonly legend: HTMLDivElement;
  private readonly buttons = new Map<string, HTMLButtonElement>();
  private readonly datasets = new Map<string, { smoothed: LineDataset; raw?: LineDataset }>();
  private readonly hidden = new Set(SERIES.filter((spec) => !spec.shownAtFirst).map((spec) => spec.id));
  private readonly logScale: VscodeCheckbox;
  private readonly logNote: HTMLSpanElement;
  private readonly smoothing: HTMLInputElement;
  private readonly smoothingValue: HTMLSpanElement;
  private readonly xAxis: VscodeSingleSelect;
  private readonly themeWatch: MutationObserver;
  private theme = readTheme();
  /** Computed with the series, drawn by the markers plugin. */
  private markers: Markers[] = [];
  /** The last CSV export's blob URL, released by the next export or by dispose. */
  private exported: string | undefined;

  constructor(host: HTMLElement) {
    this.root = element('div', { className: 'latent-lab-chart' });
    this.root.style.height = `${CHART_HEIGHT}px`;
    this.root.append(element('style', { textContent: CHART_STYLE }));

    this.xAxis = element('vscode-single-select', { title: 'x axis' }, ...(['step', 'epoch', 'seconds'] as const).map((value) => element('vscode-option', { value, textContent: X_TITLES[value] })));
    this.xAxis.setAttribute('aria-label', 'x axis');
    this.xAxis.addEventListener('change', () => {
      this.history.x = this.xAxis.value as XAxis;
      this.chart.resetZoom('none');
      this.redraw();
    });
    this.smoothing = element('input', { type: 'range', min: '0', max: '0.99', step: '0.01', value: '0.6' });
    this.smoothing.setAttribute('aria-label', 'smoothing');
    this.smoothingValue = element('span', { className: 'value' });
    this.smoothing.addEventListener('input', () => this.redraw());
    this.logScale = element('vscode-checkbox', { label: 'log y' });
    this.logScale.setAttribute('aria-label', 'log scale');
    this.logScale.addEventListener('change', () => this.redraw());
    this.logNote = element('span', { className: 'note' });
    const resetZoom = this.toolButton('reset-zoom', 'Reset zoom', 'Reset zoom: back to the whole history (Ctrl+wheel zooms, Shift+drag zooms to a box, drag pans)', () => this.chart.resetZoom('none'));
    const png = this.toolButton('export-png', 'Export PNG', 'Export the chart as a PNG image', () => this.download(this.image(), 'training-chart.png'));
    const csv = this.toolButton('export-csv', 'Export CSV', 'Export every logged value as CSV', () => this.download(this.csvUrl(), 'training-metrics.csv'));

    const toolbar = element('div', { className: 'toolbar' },
      element('span', { className: 'field' }, 'x ', this.xAxis),
      element('label', {}, 'smoothing ', this.smoothing, this.smoothingValue),
      this.logScale,
      this.logNote,
      element('span', { className: 'spacer' }),
      resetZoom, png, csv,
    );
    this.legend = element('div', { className: 'legend', role: 'group' });
    this.legend.setAttribute('aria-label', 'series');
    for (const spec of SERIES) this.legend.append(this.legendButton(spec));
    this.canvas = element('canvas');
    this.root.append(toolbar, this.legend, element('div', { className: 'plot' }, this.canvas));
    host.replaceChildren(this.root);

    for (const spec of SERIES) {
      const smoothed: LineDataset = { label: spec.label, data: [], yAxisID: spec.rightAxis ? 'lr' : 'y', borderWidth: spec.per === 'epoch' ? 2 : 1.5, pointRadius: spec.per === 'epoch' ? 3 : 0, tension: 0 };
      // The raw per-step loss stays visible, faint, behind its smoothed line (as TensorBoard draws it).
      const raw: LineDataset | undefined = spec.per === 'step' && !spec.rightAxis ? { label: `${spec.label}, unsmoothed`, data: [], yAxisID: 'y', borderWidth: 1, pointRadius: 0 } : undefined;
      this.datasets.set(spec.id, { smoothed, ...(raw ? { raw } : {}) });
    }
    this.chart = new Chart<'line', Point[]>(this.canvas, {
      type: 'line',
      data: { datasets: [...this.datasets.values()].flatMap(({ smoothed, raw }) => (raw ? [raw, smoothed] : [smoothed])) },
      options: {
        ...PATCHED_CHART_OPTIONS,
        ...POINT_DATA_OPTIONS,
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        scales: {
          x: { type: 'linear', title: { display: true, text: 'step' } },
          y: { type: 'linear', title: { display: true, text: 'loss' } },
          lr: { type: 'linear', position: 'right', display: 'auto', title: { display: true, text: 'learning rate' }, grid: { drawOnChartArea: false } },
        },
        plugins: {
          tooltip: {
            callbacks: {
              title: (items) => (items[0] ? `${X_TITLES[this.history.x]} ${exact(items[0].parsed.x ?? 0)}` : ''),
              label: (item) => `${item.dataset.label}: ${exact(item.parsed.y ?? 0)}`,
            },
          },
          zoom: {
            pan: { enabled: true, mode: 'xy' },
            zoom: { wheel: { enabled: true, modifierKey: 'ctrl' }, drag: { enabled: true, modifierKey: 'shift' }, pinch: { enabled: true }, mode: 'xy' },
          },
        },
      },
      plugins: [markerLines(() => this.markers), this.rangeStamp()],
    });
    // VS Code restyles the page when the theme changes: the chart's colours follow.
    this.themeWatch = new MutationObserver(() => {
      this.theme = readTheme();
      this.redraw();
    });
    this.themeWatch.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
    if (document.body) this.themeWatch.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  }

  /** The x axis's shown range on the root element, after every update (zoom, pan and reset included): tests and the views benchmark read it. */
  private rangeStamp(): Plugin<'line'> {
    return {
      id: 'latentLabRange',
      afterUpdate: ({ scales }) => {
        this.root.dataset.xMin = String(scales.x.min);
        this.root.dataset.xMax = String(scales.x.max);
      },
    };
  }

  /** An icon button, named for assistive technology (`label`) and by its tooltip (`title`). */
  private toolButton(name: IconName, label: string, title: string, action: () => void): HTMLElement {
    const button = element('vscode-toolbar-button', { label, title }, icon(name));
    button.dataset.action = name;
    button.addEventListener('click', action);
    return button;
  }

  private legendButton(spec: SeriesSpec): HTMLButtonElement {
    const swatch = element('span', { className: 'swatch' });
    const button = element('button', { className: 'series', type: 'button' }, swatch, spec.label);
    button.dataset.series = spec.id;
    button.addEventListener('click', () => {
      if (this.hidden.has(spec.id)) this.hidden.delete(spec.id);
      else this.hidden.add(spec.id);
      this.redraw();
    });
    this.buttons.set(spec.id, button);
    return button;
  }

  /** The chart as drawn, on the theme's background, at the canvas's own size. */
  private image(): string {
    const copy = element('canvas', { width: this.canvas.width, height: this.canvas.height });
    const context = copy.getContext('2d')!;
    context.fillStyle = this.theme.background;
    context.fillRect(0, 0, copy.width, copy.height);
    context.drawImage(this.canvas, 0, 0);
    return copy.toDataURL('image/png');
  }

  /** A blob URL of the history as CSV; the previous export's is released (VS Code has read it by the next click). */
  private csvUrl(): string {
    if (this.exported) URL.revokeObjectURL(this.exported);
    this.exported = URL.createObjectURL(new Blob([toCsv(this.history)], { type: 'text/csv' }));
    return this.exported;
  }

  private download(url: string, name: string): void {
    const link = element('a', { href: url, download: name });
    this.root.append(link);
    link.click();
    link.remove();
  }

  get lastStep(): number {
    return this.history.lastStep;
  }

  get lastEpoch(): number {
    return this.history.lastEpoch;
  }

  get id(): string {
    return this.chartId;
  }

  /** The output item: the whole history as saved (on reopen), or a newer snapshot of the run this chart shows. */
  load(snapshot: ChartSnapshot): void {
    if (snapshot.chartId !== this.chartId) {
      this.history = Object.assign(new History(), { x: this.history.x });
      this.chartId = snapshot.chartId;
      this.root.dataset.chartId = snapshot.chartId;
    }
    // A snapshot can be older than the deltas already drawn: only what extends the history is taken.
    this.history.add({
      ...(snapshot.units ? { units: snapshot.units } : {}),
      steps: snapshot.steps.filter((point) => point.step > this.history.lastStep),
      epochs: snapshot.epochs.filter((point) => point.epoch > this.history.lastEpoch),
      resumes: snapshot.resumes,
    });
    this.redraw();
  }

  receive(message: HostMessage): void {
    if (message.type === 'append') {
      this.history.add(message);
      // How many logged steps came by message rather than in an output item (tests read it).
      this.root.dataset.appendedSteps = String(Number(this.root.dataset.appendedSteps ?? 0) + message.steps.length);
      if (message.sentAt !== undefined) this.root.dataset.sentAt = String(message.sentAt);
      this.redraw();
    }
  }

  private redraw(): void {
    const history = this.history;
    const { colours, foreground, grid, font } = this.theme;
    const weight = Number(this.smoothing.value);
    this.smoothingValue.textContent = weight.toFixed(2);
    // chart.js keeps the canvas's width: asking the DOM would force a layout on every update.
    const columns = Math.max(200, this.chart?.width || 600);
    const variational = history.variational;

    let allPositive = true;
    let drawnSteps = 0;
    for (const spec of SERIES) {
      const { smoothed, raw } = this.datasets.get(spec.id)!;
      const hidden = this.hidden.has(spec.id);
      const present = spec.present(history) && !(spec.id.endsWith('-kl') && !variational);
      // Hidden series are not computed: with tens of thousands of steps each one costs.
      const drawn = present && !hidden;
      const smoothable = spec.per === 'step' && !spec.rightAxis;
      const line = drawn && spec.step ? history.stepLine(spec.step, smoothable ? weight : 0, columns) : undefined;
      const points = drawn && spec.epoch ? history.epochSeries(spec.epoch) : [];
      const colour = colours[spec.colour % colours.length];
      const button = this.buttons.get(spec.id)!;
      button.hidden = !present;
      button.setAttribute('aria-pressed', String(!hidden));
      (button.firstChild as HTMLElement).style.background = hidden ? 'transparent' : colour;
      (button.firstChild as HTMLElement).style.borderColor = colour;
      if (drawn && !spec.rightAxis && (line ? !line.positive : points.some((point) => point.y <= 0))) allPositive = false;
      smoothed.data = line ? line.smoothed : thin(points, columns);
      smoothed.hidden = hidden;
      smoothed.borderColor = colour;
      smoothed.backgroundColor = colour;
      if (raw) {
        raw.data = line?.raw ?? [];
        raw.hidden = hidden;
        raw.borderColor = `color-mix(in srgb, ${colour} 30%, transparent)`;
      }
      if (spec.id === 'step-loss') {
        drawnSteps = smoothed.data.length;
        this.root.dataset.xLast = String(line?.lastX ?? '');
      }
    }

    // Log scale only while every value on the loss axis is positive (a Gaussian likelihood in nats can be negative).
    this.logScale.disabled = !allPositive;
    if (!allPositive) this.logScale.checked = false;
    this.logNote.textContent = allPositive ? '' : 'log scale off: some values are ≤ 0';
    const log = this.logScale.checked;
    const units = history.units === 'nats' ? 'loss (nats)' : 'loss';
    const options = this.chart.options;
    const scales = options.scales as Record<string, Record<string, unknown>>;
    scales.x = { ...scales.x, type: 'linear', ...themedAxis(X_TITLES[history.x], { foreground, grid }) };
    scales.y = { ...scales.y, type: log ? 'logarithmic' : 'linear', ...themedAxis(units, { foreground, grid }) };
    scales.lr = { ...scales.lr, ticks: { color: foreground }, title: { display: true, text: 'learning rate', color: foreground } };
    Chart.defaults.font.family = font;
    Chart.defaults.color = foreground;
    this.markers = [
      { at: history.resumeMarks(), colour: this.theme.muted, dash: [4, 4] },
      { at: history.rateDrops(), colour: colours[5 % colours.length], dash: [1, 3] },
    ];
    this.chart.update('none');

    this.root.dataset.resumeMarks = String(this.markers[0].at.length);
    this.root.dataset.rateDrops = String(this.markers[1].at.length);
    this.root.dataset.steps = String(history.steps.length);
    this.root.dataset.epochs = String(history.epochs.length);
    // The last step drawn: the views benchmark notes when it reaches the screen.
    this.root.dataset.lastStep = String(history.lastStep);
    this.root.dataset.drawnSteps = String(drawnSteps);
    this.root.dataset.yScale = log ? 'logarithmic' : 'linear';
  }

  dispose(): void {
    if (this.exported) URL.revokeObjectURL(this.exported);
    this.themeWatch.disconnect();
    this.chart.destroy();
    this.root.remove();
  }
}
