/**
 * The selected sweep's metric against one of its swept keys (chart.js, as the overlay): one point
 * per run, the newest run folder of each index, a point per seed of a setting (each seed its own
 * colour and marker), or, when asked, one point per setting at the mean of its seeds with a bar of
 * ± one standard deviation. A key the sweep draws log-uniformly gets a logarithmic x axis unless
 * the person says otherwise; a key of words (a `choice` of names) gets one column per word.
 */
import { CategoryScale, Chart, LinearScale, LogarithmicScale, PointElement, ScatterController, Tooltip } from 'chart.js';
import type { Plugin } from 'chart.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import type { VscodeCheckbox } from '@vscode-elements/elements/dist/vscode-checkbox/vscode-checkbox.js';
import type { VscodeSingleSelect } from '@vscode-elements/elements/dist/vscode-single-select/vscode-single-select.js';
import type { RunRow, RunsPanelState, SweepGroup } from '../../extension/runs-panel-protocol';
import { PATCHED_CHART_OPTIONS, readAxisColours, themedAxis } from '../shared/chart-setup';
import { element } from '../shared/dom';
import { configText, numberText } from './format';

Chart.register(ScatterController, PointElement, LinearScale, LogarithmicScale, CategoryScale, Tooltip);

/** Each seed its own marker too, drawn hollow, so that seeds of a setting whose values nearly agree stay visible on top of each other. */
const MARKERS = ['circle', 'triangle', 'rect', 'rectRot', 'star', 'crossRot'] as const;

/** A logarithmic axis labels 1, 2 and 5 of each decade only: the others crowd. */
function logTick(value: number | string): string {
  const number = Number(value);
  const mantissa = number / 10 ** Math.floor(Math.log10(number) + 1e-9);
  return [1, 2, 5].some((kept) => Math.abs(mantissa - kept) < 1e-6) ? String(Number(number.toPrecision(3))) : '';
}

interface SweepPoint {
  x: number | string;
  y: number;
  /** The run's index; a setting's mean names its first run. */
  index: number;
  /** A mean's standard deviation over its seeds, and how many there were. */
  std?: number;
  seeds?: number;
}

/** A mean's ± one standard deviation, drawn as a vertical bar with caps in its dataset's colour. */
const ERROR_BARS: Plugin<'scatter'> = {
  id: 'sweepErrorBars',
  afterDatasetsDraw(chart) {
    const { ctx } = chart;
    const y = chart.scales.y;
    chart.data.datasets.forEach((dataset, datasetIndex) => {
      const meta = chart.getDatasetMeta(datasetIndex);
      if (meta.hidden) return;
      ctx.save();
      ctx.strokeStyle = String(dataset.borderColor);
      ctx.lineWidth = 1.5;
      (dataset.data as SweepPoint[]).forEach((point, index) => {
        if (!point.std) return;
        const x = meta.data[index].x;
        const top = y.getPixelForValue(point.y + point.std);
        const bottom = y.getPixelForValue(point.y - point.std);
        ctx.beginPath();
        ctx.moveTo(x, top);
        ctx.lineTo(x, bottom);
        ctx.moveTo(x - 4, top);
        ctx.lineTo(x + 4, top);
        ctx.moveTo(x - 4, bottom);
        ctx.lineTo(x + 4, bottom);
        ctx.stroke();
      });
      ctx.restore();
    });
  },
};

/** The seeds' points of each setting (the same values of every swept key but the seed) as one: their mean and standard deviation. */
function meanOfSeeds(points: readonly (SweepPoint & { setting: string })[]): SweepPoint[] {
  const settings = new Map<string, (SweepPoint & { setting: string })[]>();
  for (const point of points) settings.set(point.setting, [...(settings.get(point.setting) ?? []), point]);
  return [...settings.values()].map((members) => {
    const mean = members.reduce((sum, point) => sum + point.y, 0) / members.length;
    const variance = members.length > 1 ? members.reduce((sum, point) => sum + (point.y - mean) ** 2, 0) / (members.length - 1) : 0;
    return { x: members[0].x, y: mean, index: Math.min(...members.map((point) => point.index)), std: Math.sqrt(variance), seeds: members.length };
  });
}

type SweepSettings = Pick<RunsPanelState, 'sweepKey' | 'sweepLogX' | 'sweepMean'>;

export class SweepPlot {
  readonly root: HTMLDivElement;
  private readonly title = element('h2');
  private readonly keySelect: VscodeSingleSelect;
  private readonly logX: VscodeCheckbox;
  private readonly mean: VscodeCheckbox;
  private readonly note = element('span', { className: 'note' });
  private readonly legend = element('div', { className: 'legend' });
  private readonly chart: Chart<'scatter', SweepPoint[]>;
  private group: SweepGroup | undefined;
  private rows: RunRow[] = [];
  private colours: string[] = [];
  private keys = '';
  /** The key on the x axis (the select's own value lags behind its options being replaced). */
  private key = '';

  constructor(private readonly settings: SweepSettings, private readonly changed: (settings: SweepSettings) => void) {
    this.keySelect = element('vscode-single-select', { title: 'swept key' });
    this.keySelect.setAttribute('aria-label', 'swept key on the x axis');
    this.keySelect.addEventListener('change', () => {
      // Another key: its own axis, logarithmic when the sweep draws it log-uniformly.
      this.key = this.keySelect.value;
      this.settings.sweepKey = this.keySelect.value;
      this.settings.sweepLogX = undefined;
      this.changed({ sweepKey: this.keySelect.value, sweepLogX: undefined });
      this.draw();
    });
    this.logX = element('vscode-checkbox', { label: 'log x' });
    this.logX.setAttribute('aria-label', 'log x scale');
    this.logX.addEventListener('change', () => {
      this.settings.sweepLogX = this.logX.checked;
      this.changed({ sweepLogX: this.logX.checked });
      this.draw();
    });
    this.mean = element('vscode-checkbox', { label: 'mean ± std of the seeds', checked: settings.sweepMean ?? false });
    this.mean.setAttribute('aria-label', 'mean and standard deviation of each setting\'s seeds');
    this.mean.addEventListener('change', () => {
      this.settings.sweepMean = this.mean.checked;
      this.changed({ sweepMean: this.mean.checked });
      this.draw();
    });
    const canvas = element('canvas');
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', 'the sweep\'s metric against a swept key, one point per run');
    this.root = element('div', { className: 'sweep-plot' }, this.title,
      element('div', { className: 'toolbar' }, element('span', {}, 'x '), this.keySelect, this.logX, this.mean, this.note),
      this.legend, element('div', { className: 'chart' }, canvas));
    this.root.hidden = true;
    this.chart = new Chart<'scatter', SweepPoint[]>(canvas, {
      type: 'scatter',
      data: { datasets: [] },
      plugins: [ERROR_BARS],
      options: {
        ...PATCHED_CHART_OPTIONS,
        plugins: {
          tooltip: {
            callbacks: {
              label: (item) => {
                const point = item.raw as SweepPoint;
                if (point.seeds !== undefined) return `${configText(point.x)} → ${numberText(point.y)} ± ${numberText(point.std)} (${point.seeds} seed${point.seeds === 1 ? '' : 's'})`;
                return `run ${point.index} (${item.dataset.label}): ${configText(point.x)} → ${numberText(point.y)}`;
              },
            },
          },
        },
      },
    });
  }

  /** The sweep to plot (undefined hides the plot), its runs' rows, and the colours of the seeds. */
  show(group: SweepGroup | undefined, rows: readonly RunRow[], colours: string[]): void {
    if (group && this.group && group.id !== this.group.id && this.settings.sweepLogX !== undefined) {
      // Another sweep: its axis as its cell draws the key, until chosen again.
      this.settings.sweepLogX = undefined;
      this.changed({ sweepLogX: undefined });
    }
    this.group = group;
    this.root.hidden = !group;
    this.root.dataset.sweep = group?.id ?? '';
    if (!group) return;
    this.rows = rows.filter((row) => row.sweep?.id === group.id && row.sweep.newest);
    this.colours = colours;
    const keys = group.keys.length > 0 ? group.keys : ['seed'];
    // The first swept key that is not the seed, unless one was chosen.
    this.key = this.settings.sweepKey && keys.includes(this.settings.sweepKey) ? this.settings.sweepKey : keys.find((candidate) => candidate !== 'seed') ?? keys[0];
    if (keys.join() !== this.keys) {
      this.keys = keys.join();
      this.keySelect.replaceChildren(...keys.map((key) => element('vscode-option', { value: key, textContent: key, selected: key === this.key })));
    } else this.keySelect.value = this.key;
    this.draw();
  }

  private draw(): void {
    const group = this.group;
    if (!group) return;
    const key = this.key;
    const bySeed = key !== 'seed' && group.keys.includes('seed');
    const settingKeys = group.keys.filter((candidate) => candidate !== 'seed');
    const points = this.rows.flatMap((row): (SweepPoint & { seed: string; setting: string })[] => {
      const x = row.config[key];
      const y = row.sweep?.metric;
      if (y === undefined || (typeof x !== 'number' && typeof x !== 'string')) return [];
      return [{ x, y, index: row.sweep!.index, seed: bySeed ? configText(row.config.seed) : '', setting: JSON.stringify(settingKeys.map((name) => row.config[name] ?? null)) }];
    });
    this.mean.disabled = !bySeed;
    const averaged = bySeed && this.mean.checked;
    const numeric = points.every((point) => typeof point.x === 'number');
    const positive = numeric && points.every((point) => (point.x as number) > 0);
    const log = positive && (this.settings.sweepLogX ?? group.logKeys.includes(key));
    this.logX.checked = log;
    this.logX.disabled = !positive;
    const seeds = [...new Set(points.map((point) => point.seed))].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
    const colours = readAxisColours();
    const { foreground } = colours;
    const marker = { backgroundColor: 'transparent', borderWidth: 2, pointRadius: 5, pointHoverRadius: 7 };
    const means = averaged ? meanOfSeeds(points) : [];
    this.chart.data.datasets = averaged
      ? [{ label: `mean ± std of ${seeds.length} seeds`, data: means, borderColor: this.colours[0] ?? foreground, pointStyle: 'circle', ...marker }]
      : seeds.map((seed, index) => ({ label: seed ? `seed ${seed}` : 'runs', data: points.filter((point) => point.seed === seed), borderColor: this.colours[index % this.colours.length] ?? foreground, pointStyle: MARKERS[index % MARKERS.length], ...marker }));
    const categories = numeric ? [] : [...new Set(points.map((point) => String(point.x)))];
    const scales = this.chart.options.scales as Record<string, Record<string, unknown>>;
    scales.x = { type: numeric ? (log ? 'logarithmic' : 'linear') : 'category', ...(numeric ? {} : { labels: categories }), ...themedAxis(log ? `${key} (log)` : key, colours, log ? { callback: logTick, autoSkip: false } : {}) };
    const metric = group.metric.replace(/^-/, '');
    // The bars inside the plot, not cut at its edge.
    const bars = means.filter((point) => point.std);
    const range = bars.length > 0 ? { suggestedMin: Math.min(...bars.map((point) => point.y - point.std!)), suggestedMax: Math.max(...bars.map((point) => point.y + point.std!)) } : {};
    scales.y = { type: 'linear', ...range, ...themedAxis(`${metric}${group.metric.startsWith('-') ? ' (higher is better)' : ''}`, colours) };
    Chart.defaults.color = foreground;
    this.chart.update('none');

    this.title.textContent = `Sweep ${group.name}: ${metric} against ${key}`;
    const missing = group.total - points.length;
    this.note.textContent = `${points.length} of ${group.total} runs have ${metric}${missing > 0 ? ' (the others are not finished or not started)' : ''}`;
    this.legend.replaceChildren(...this.chart.data.datasets.map((dataset) => {
      const swatch = element('span', { className: 'swatch' });
      swatch.style.background = String(dataset.borderColor);
      return element('span', { className: 'entry' }, swatch, dataset.label ?? '');
    }));
    this.root.dataset.points = String(averaged ? means.length : points.length);
    this.root.dataset.mode = averaged ? 'mean' : 'seeds';
    this.root.dataset.key = key;
    this.root.dataset.xScale = numeric ? (log ? 'logarithmic' : 'linear') : 'category';
  }

  /** The theme changed: colours are read again. */
  restyle(colours: string[]): void {
    this.colours = colours;
    this.draw();
  }
}
