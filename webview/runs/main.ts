/**
 * The Runs panel's page. It says `ready`, then draws what the host sends: the table, the selected
 * runs' curves and their reconstructions. Its selection, sort, filters and chart settings live in
 * the webview's state, so that they survive a hide and a window reload (the host's serializer
 * gives the panel back and the page asks again for what it had selected).
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { VscodeSingleSelect } from '@vscode-elements/elements/dist/vscode-single-select/vscode-single-select.js';
import type { VscodeTextfield } from '@vscode-elements/elements/dist/vscode-textfield/vscode-textfield.js';
import type { HostMessage, PageMessage, RunRow, RunsPanelState, SweepGroup } from '../../extension/runs-panel-protocol';
import { opaque } from '../chart/chart-view';
import { runLabels, runName } from './format';
import { icon } from './icons';
import { Overlay } from './overlay';
import { Reconstructions } from './reconstructions';
import { RUNS_STYLE } from './style';
import { SweepPlot } from './sweep-plot';
import { RunsTable } from './table';

interface WebviewApi {
  postMessage(message: PageMessage): void;
  getState(): RunsPanelState | undefined;
  setState(state: RunsPanelState): void;
}
declare function acquireVsCodeApi(): WebviewApi;

const api = acquireVsCodeApi();
const THEME_COLOURS = ['--vscode-charts-blue', '--vscode-charts-orange', '--vscode-charts-green', '--vscode-charts-purple', '--vscode-charts-red', '--vscode-charts-yellow'];
const FALLBACK_COLOURS = ['#3794ff', '#d18616', '#89d185', '#b180d7', '#f14c4c', '#cca700'];
/** More runs than the theme has chart colours: the others get hues spread around the wheel. */
const HUE_STEP = 137.5;
const HOST_TYPES = new Set(['runs', 'columns', 'untrusted', 'curve', 'views', 'notice']);

function element<K extends keyof HTMLElementTagNameMap>(tag: K, properties: Partial<HTMLElementTagNameMap[K]> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const created = Object.assign(document.createElement(tag), properties);
  created.append(...children);
  return created;
}

function themeColours(): string[] {
  const style = getComputedStyle(document.documentElement);
  return THEME_COLOURS.map((name, index) => opaque(style.getPropertyValue(name).trim() || FALLBACK_COLOURS[index]));
}

function embeddedState(): RunsPanelState | undefined {
  try {
    return document.body.dataset.state ? (JSON.parse(document.body.dataset.state) as RunsPanelState) : undefined;
  } catch {
    return undefined;
  }
}

class RunsPage {
  /** The webview's own state; a panel restored without one is given it by the host (data-state). */
  private state: RunsPanelState = { selected: [], ...(api.getState() ?? embeddedState()) };
  private rows: RunRow[] = [];
  private byRun = new Map<string, RunRow>();
  private sweeps = new Map<string, SweepGroup>();
  private listedOnce = false;
  private configKeys: string[] = [];
  /** The selected runs' labels: what differs between them. */
  private labels = new Map<string, string>();
  private readonly root = document.getElementById('runs-root') as HTMLDivElement;
  private readonly table: RunsTable;
  private readonly overlay: Overlay;
  private readonly views: Reconstructions;
  private readonly sweepPlot: SweepPlot;
  private readonly search: VscodeTextfield;
  private readonly statusFilter: VscodeSingleSelect;
  private readonly summary = element('span', { className: 'note' });
  private readonly problems = element('div', { className: 'problem' });
  private readonly message = element('div', { className: 'message' });
  private readonly content: HTMLDivElement;
  private colours = themeColours();

  constructor() {
    const style = element('style', { textContent: RUNS_STYLE });
    style.nonce = document.body.dataset.nonce ?? '';
    document.head.append(style);
    this.search = element('vscode-textfield', { placeholder: 'Search runs (experiment, status, config value)', value: this.state.search ?? '' });
    this.search.setAttribute('aria-label', 'search runs');
    this.search.addEventListener('input', () => this.update({ search: this.search.value }));
    this.statusFilter = element('vscode-single-select', { title: 'status' }, ...['all', 'running', 'completed', 'early-stopped', 'stopped', 'interrupted', 'diverged'].map((value) => element('vscode-option', { value, textContent: value === 'all' ? 'every status' : value })));
    this.statusFilter.setAttribute('aria-label', 'status filter');
    this.statusFilter.value = this.state.status ?? 'all';
    this.statusFilter.addEventListener('change', () => this.update({ status: this.statusFilter.value }));
    const button = (name: 'refresh' | 'exportCsv', label: string, action: () => void) => {
      const created = element('vscode-button', { secondary: true, title: label }, icon(name), ` ${label}`);
      created.setAttribute('aria-label', label);
      created.addEventListener('click', action);
      return created;
    };
    const textButton = (label: string, title: string, action: () => void) => {
      const created = element('vscode-button', { secondary: true, title, textContent: label });
      created.setAttribute('aria-label', label);
      created.addEventListener('click', action);
      return created;
    };
    this.table = new RunsTable({
      toggle: (run) => this.toggle(run),
      hover: (run) => {
        this.table.markHovered(run);
        this.overlay.highlight(run && this.state.selected.includes(run) ? run : undefined);
      },
      action: (action, run) => api.postMessage({ type: 'action', action, run }),
      sorted: (sort) => this.update({ sort }),
      expandSweep: (sweep) => {
        const expanded = this.state.expandedSweeps ?? [];
        this.update({ expandedSweeps: expanded.includes(sweep) ? expanded.filter((id) => id !== sweep) : [...expanded, sweep] });
      },
      selectSweep: (sweep) => this.update({ sweep: this.state.sweep === sweep ? undefined : sweep }),
    });
    this.sweepPlot = new SweepPlot({ sweepKey: this.state.sweepKey, sweepLogX: this.state.sweepLogX, sweepMean: this.state.sweepMean }, (changed) => this.save(changed));
    this.overlay = new Overlay(this.state, (changed) => this.save(changed));
    this.views = new Reconstructions((run) => this.labels.get(run) ?? (this.byRun.get(run) ? runName(this.byRun.get(run)!) : run), (epoch) => api.postMessage({ type: 'viewsEpoch', epoch }));
    this.content = element('div', {},
      element('div', { className: 'toolbar' }, this.search, this.statusFilter, this.summary,
        textButton('Select Shown', 'Select every run the table shows', () => this.select([...new Set([...this.state.selected, ...this.table.shownRuns.map((row) => row.runDir)])])),
        textButton('Clear Selection', 'Select no run', () => this.select([])),
        element('span', { className: 'spacer' }),
        button('refresh', 'Refresh', () => api.postMessage({ type: 'refresh' })),
        button('exportCsv', 'Export CSV', () => api.postMessage({ type: 'exportCsv', runs: this.table.shownRuns.map((row) => row.runDir), keys: this.table.configKeys }))),
      this.problems, this.table.root, this.sweepPlot.root,
      element('h2', { textContent: 'Curves of the selected runs' }), this.overlay.root,
      element('h2', { textContent: 'Reconstructions of the selected runs' }), this.views.root);
    this.content.hidden = true;
    this.message.textContent = 'Reading the runs…';
    this.root.replaceChildren(this.message, this.content);
    window.addEventListener('message', (event: MessageEvent) => this.receive(event.data));
    // VS Code restyles the page when the theme changes: the runs' colours follow.
    new MutationObserver(() => {
      this.colours = themeColours();
      this.render();
      this.overlay.restyle();
      this.sweepPlot.restyle(this.colours);
    }).observe(document.body, { attributes: true, attributeFilter: ['class'] });
    api.postMessage({ type: 'ready' });
  }

  private save(changed: Partial<RunsPanelState>): void {
    this.state = { ...this.state, ...changed };
    api.setState(this.state);
  }

  private update(changed: Partial<RunsPanelState>): void {
    this.save(changed);
    this.render();
  }

  private colourOf(run: string): string {
    const index = this.state.selected.indexOf(run);
    if (index < 0) return '';
    return index < this.colours.length ? this.colours[index] : `hsl(${(index * HUE_STEP) % 360} 65% 55%)`;
  }

  private toggle(run: string): void {
    const selected = this.state.selected.includes(run) ? this.state.selected.filter((id) => id !== run) : [...this.state.selected, run];
    this.select(selected);
  }

  private select(selected: string[]): void {
    this.update({ selected });
    api.postMessage({ type: 'select', runs: selected });
  }

  private receive(data: unknown): void {
    if (typeof data !== 'object' || data === null || !HOST_TYPES.has((data as { type?: string }).type ?? '')) return;
    const message = data as HostMessage;
    switch (message.type) {
      case 'untrusted':
        this.content.hidden = true;
        this.message.hidden = false;
        this.message.textContent = message.message;
        this.root.dataset.untrusted = 'true';
        return;
      case 'runs': {
        this.rows = message.rows;
        this.byRun = new Map(message.rows.map((row) => [row.runDir, row]));
        this.sweeps = new Map(message.sweeps.map((group) => [group.id, group]));
        this.root.dataset.untrusted = 'false';
        this.root.dataset.listed = String(message.rows.length);
        this.message.hidden = message.rows.length > 0;
        this.message.textContent = message.rows.length === 0 ? `No runs yet: a notebook's train cell, or \`aexp run\`, writes them under ${message.roots.join(', ')}.` : '';
        this.content.hidden = message.rows.length === 0;
        this.problems.replaceChildren(...message.problems.map((problem) => element('div', { textContent: problem })));
        const selected = this.state.selected.filter((run) => this.byRun.has(run));
        // The first listing after a reload: the host learns the selection the page kept.
        if (!this.listedOnce || selected.length !== this.state.selected.length) {
          this.listedOnce = true;
          this.select(selected);
        } else this.render();
        return;
      }
      case 'columns':
        this.configKeys = message.keys;
        this.render();
        return;
      case 'curve':
        if (this.state.selected.includes(message.run)) this.overlay.setCurve(message.run, message.snapshot);
        return;
      case 'views':
        this.views.show(message);
        return;
      case 'notice':
        this.problems.replaceChildren(element('div', { textContent: message.message }));
        return;
    }
  }

  private render(): void {
    const search = (this.state.search ?? '').trim().toLowerCase();
    const status = this.state.status ?? 'all';
    const shown = this.rows.filter((row) => (status === 'all' || row.status === status) && (!search || [runName(row), row.title ?? '', row.status, row.backend ?? '', row.device ?? '', ...Object.entries(row.config).map(([key, value]) => `${key}=${String(value)}`)].some((text) => text.toLowerCase().includes(search))));
    const selectedRows = this.state.selected.map((run) => this.byRun.get(run)).filter((row): row is RunRow => row !== undefined);
    const colours = new Map(this.state.selected.map((run) => [run, this.colourOf(run)]));
    // The host's config columns are the keys that differ between the selected runs once two are.
    const labels = runLabels(selectedRows, selectedRows.length >= 2 ? this.configKeys : []);
    const relabelled = JSON.stringify([...labels]) !== JSON.stringify([...this.labels]);
    this.labels = labels;
    const expanded = new Set((this.state.expandedSweeps ?? []).filter((id) => this.sweeps.has(id)));
    // An expanded sweep's swept keys are columns, first, for its runs.
    const configKeys = [...new Set([...[...expanded].flatMap((id) => this.sweeps.get(id)!.keys), ...this.configKeys])];
    const plotted = this.state.sweep && this.sweeps.has(this.state.sweep) ? this.state.sweep : undefined;
    this.table.render(shown, { selected: new Set(this.state.selected), configKeys, sort: this.state.sort ?? { column: 'started', descending: true }, colours, sweeps: this.sweeps, expanded, labels, ...(plotted ? { plotted } : {}) });
    this.sweepPlot.show(plotted ? this.sweeps.get(plotted) : undefined, this.rows, this.colours);
    this.summary.textContent = `${shown.length} of ${this.rows.length} runs · ${this.state.selected.length} selected`;
    this.overlay.setRuns(selectedRows.map((row) => ({ id: row.runDir, label: labels.get(row.runDir)!, colour: colours.get(row.runDir)! })));
    if (relabelled) this.views.relabel();
  }
}

new RunsPage();
