/**
 * The runs table: one row per run, the config keys that differ between the selected runs as
 * columns, sorted by any column, filtered by status and a search text. A row is selected by a click
 * or Space/Enter; hovering or focusing it highlights its curve. Rows are rebuilt when the data
 * change, never on hover. A sweep's runs sit under its group row (name, runs done of its total,
 * best metric), where its first run would be; expanded, they show and the swept keys are columns.
 * A click or Space/Enter on a group row plots the sweep; its chevron expands it.
 */
import type { RunAction, RunRow, SweepGroup } from '../../extension/runs-panel-protocol';
import { configText, durationText, lossText, numberText, runName, startText } from './format';
import type { IconName } from './icons';
import { icon } from './icons';

export interface Column {
  id: string;
  title: string;
  /** The value sorted on. */
  key: (row: RunRow) => string | number | undefined;
  cell: (row: RunRow) => Node | string;
  number?: boolean;
  config?: boolean;
}

export interface TableEvents {
  toggle(run: string): void;
  hover(run: string | undefined): void;
  action(action: RunAction, run: string): void;
  sorted(sort: { column: string; descending: boolean }): void;
  expandSweep(sweep: string): void;
  selectSweep(sweep: string): void;
}

export interface TableOptions {
  selected: ReadonlySet<string>;
  configKeys: readonly string[];
  sort: { column: string; descending: boolean };
  colours: ReadonlyMap<string, string>;
  sweeps: ReadonlyMap<string, SweepGroup>;
  expanded: ReadonlySet<string>;
  /** The sweep plotted. */
  plotted?: string;
  /** The selected runs' labels (what differs between them): a row's hover says it. */
  labels: ReadonlyMap<string, string>;
}

/** `3 / 4 runs done · best test.loss 87.2 (run 2)`. */
export function sweepText(group: SweepGroup): string {
  const best = group.best ? ` · best ${group.metric.replace(/^-/, '')} ${numberText(group.best.value)} (run ${group.best.index})` : '';
  return `${group.done} / ${group.total} runs done${best}`;
}

function element<K extends keyof HTMLElementTagNameMap>(tag: K, properties: Partial<HTMLElementTagNameMap[K]> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const created = Object.assign(document.createElement(tag), properties);
  created.append(...children);
  return created;
}

const ACTION_TITLES: Record<RunAction, string> = { openExperiment: 'Open the experiment', openFolder: 'Open the run folder', continue: 'Continue training this run', delete: 'Delete this run' };

function statusCell(row: RunRow): HTMLElement {
  return element('span', { className: `status ${row.status}`, textContent: row.status, title: row.problem ?? row.status });
}

/** `native · AMD EPYC (2 cores)`: the backend and the device's first part; the whole string is the cell's tooltip. */
export function backendText(row: Pick<RunRow, 'backend' | 'device'>): string {
  return [row.backend, row.device?.split(', ')[0]].filter(Boolean).join(' · ');
}

/** Text cut to its column's width with an ellipsis, whole in its tooltip. */
function clipped(text: string, title: string, className: string): HTMLElement {
  return element('span', { className: `clip ${className}`, textContent: text, title });
}

/**
 * The fixed columns. What a person compares comes first, seen in a normal window without
 * scrolling: experiment, status, then the config columns, then the test metrics and the actions;
 * after the actions, when and where each run ran.
 */
function fixedColumns(labels: ReadonlyMap<string, string>): { before: Column[]; metrics: Column[]; after: Column[] } {
  const experimentText = (row: RunRow) => (row.sweep ? `${runName(row)} · run ${row.sweep.index}${row.sweep.newest ? '' : ' (older)'}` : row.title && row.title !== row.experiment ? `${runName(row)} · ${row.title}` : runName(row));
  return {
    before: [
      { id: 'experiment', title: 'experiment', key: (row) => runName(row), cell: (row) => clipped(experimentText(row), [labels.get(row.runDir), experimentText(row), row.runDir].filter(Boolean).join('\n'), 'experiment') },
      { id: 'status', title: 'status', key: (row) => row.status, cell: statusCell },
    ],
    metrics: [
      { id: 'test-loss', title: 'test loss', key: (row) => row.test?.loss, cell: (row) => lossText(row.test?.loss, row.units), number: true },
      { id: 'best-loss', title: 'best test loss', key: (row) => row.best?.loss, cell: (row) => (row.best ? `${lossText(row.best.loss, row.units)} (epoch ${row.best.epoch})` : ''), number: true },
      { id: 'psnr', title: 'test PSNR', key: (row) => row.test?.psnr, cell: (row) => (row.test?.psnr !== undefined ? `${row.test.psnr.toFixed(2)} dB` : ''), number: true },
    ],
    after: [
      { id: 'started', title: 'started', key: (row) => row.startedAt, cell: (row) => startText(row.startedAt) },
      { id: 'duration', title: 'duration', key: (row) => row.durationSeconds, cell: (row) => durationText(row.durationSeconds), number: true },
      { id: 'epochs', title: 'epochs', key: (row) => row.epochs, cell: (row) => (row.targetEpochs && row.targetEpochs !== row.epochs ? `${row.epochs} / ${row.targetEpochs}` : String(row.epochs)), number: true },
      { id: 'backend', title: 'backend · device', key: (row) => `${row.backend ?? ''} ${row.device ?? ''}`, cell: (row) => clipped(backendText(row), [row.backend, row.device].filter(Boolean).join(' · '), 'backend') },
    ],
  };
}

export class RunsTable {
  readonly root: HTMLDivElement;
  private readonly table: HTMLTableElement;
  private rowsByRun = new Map<string, HTMLTableRowElement>();
  private shown: RunRow[] = [];
  /** The columns before the actions. */
  private columns: Column[] = [];
  /** The columns after the actions. */
  private trailing: Column[] = [];
  private labels: ReadonlyMap<string, string> = new Map();

  constructor(private readonly events: TableEvents) {
    this.table = element('table');
    this.table.setAttribute('aria-label', 'runs');
    this.table.setAttribute('aria-multiselectable', 'true');
    this.table.setAttribute('role', 'grid');
    this.root = element('div', { className: 'table-wrap' }, this.table);
    this.root.addEventListener('mouseleave', () => this.events.hover(undefined));
  }

  /** The runs as shown, in order (the CSV export takes them so). */
  get shownRuns(): RunRow[] {
    return this.shown;
  }

  get configKeys(): string[] {
    return this.columns.filter((column) => column.config).map((column) => column.id.slice('config:'.length));
  }

  render(rows: readonly RunRow[], options: TableOptions): void {
    this.labels = options.labels;
    const { before, metrics, after } = fixedColumns(options.labels);
    const config: Column[] = options.configKeys.map((key) => ({ id: `config:${key}`, title: key, config: true, key: (row) => { const value = row.config[key]; return typeof value === 'number' ? value : configText(value); }, cell: (row) => configText(row.config[key]) }));
    this.columns = [...before, ...config, ...metrics];
    this.trailing = after;
    const every = [...this.columns, ...this.trailing];
    const sortColumn = every.find((column) => column.id === options.sort.column) ?? every.find((column) => column.id === 'started')!;
    const direction = options.sort.descending ? -1 : 1;
    this.shown = [...rows].sort((a, b) => direction * compare(sortColumn.key(a), sortColumn.key(b)));

    const header = element('tr');
    header.append(element('th', { textContent: '' }));
    const headerCell = (column: Column) => {
      const arrow = column === sortColumn ? (options.sort.descending ? '▼' : '▲') : '';
      const button = element('button', { className: 'sort', type: 'button', textContent: column.title });
      button.dataset.arrow = arrow;
      button.setAttribute('aria-label', `sort by ${column.title}`);
      button.addEventListener('click', () => this.events.sorted({ column: column.id, descending: column === sortColumn ? !options.sort.descending : column.id === 'started' }));
      const cell = element('th', { className: column.config ? 'config' : '' }, button);
      if (column === sortColumn) cell.setAttribute('aria-sort', options.sort.descending ? 'descending' : 'ascending');
      if (column.config) cell.title = 'differs between the selected runs';
      return cell;
    };
    header.append(...this.columns.map(headerCell), element('th', { textContent: 'actions' }), ...this.trailing.map(headerCell));

    const body = element('tbody');
    this.rowsByRun = new Map();
    const placed = new Set<string>();
    for (const row of this.shown) {
      const sweep = row.sweep && options.sweeps.get(row.sweep.id);
      if (!sweep) {
        body.append(this.rowElement(row, options.selected.has(row.runDir), options.colours.get(row.runDir)));
        continue;
      }
      // The group row where its first run comes in this order, then its runs in the same order.
      if (placed.has(sweep.id)) continue;
      placed.add(sweep.id);
      const members = this.shown.filter((candidate) => candidate.sweep?.id === sweep.id);
      const expanded = options.expanded.has(sweep.id);
      body.append(this.groupElement(sweep, expanded, options.plotted === sweep.id));
      if (expanded) for (const member of members) body.append(this.rowElement(member, options.selected.has(member.runDir), options.colours.get(member.runDir), sweep.id));
    }
    this.table.replaceChildren(element('thead', {}, header), body);
    this.root.dataset.rows = String(this.shown.length);
  }

  private groupElement(sweep: SweepGroup, expanded: boolean, plotted: boolean): HTMLTableRowElement {
    const line = element('tr', { tabIndex: 0, className: `sweep-group${plotted ? ' plotted' : ''}` });
    line.dataset.sweep = sweep.id;
    line.setAttribute('aria-expanded', String(expanded));
    line.setAttribute('aria-selected', String(plotted));
    line.title = plotted ? 'plotted below' : 'plot this sweep';
    const chevron = element('button', { className: 'icon-button', type: 'button', title: expanded ? 'Collapse the sweep' : 'Expand the sweep' }, icon(expanded ? 'collapse' : 'expand'));
    chevron.setAttribute('aria-label', `${expanded ? 'Collapse' : 'Expand'} the sweep ${sweep.name}`);
    chevron.addEventListener('click', (event) => {
      event.stopPropagation();
      this.events.expandSweep(sweep.id);
    });
    const summary = element('span', { className: 'sweep-summary' }, element('span', { className: 'sweep-name', textContent: `sweep ${sweep.name}` }), ` · ${sweepText(sweep)}`);
    if (sweep.keys.length > 0) summary.append(element('span', { className: 'note', textContent: ` · over ${sweep.keys.join(', ')}` }));
    if (sweep.problem) summary.append(element('span', { className: 'problem', textContent: ` · ${sweep.problem}` }));
    line.append(element('td', {}, chevron), element('td', { colSpan: this.columns.length + this.trailing.length + 1 }, summary));
    line.addEventListener('click', () => this.events.selectSweep(sweep.id));
    line.addEventListener('keydown', (event) => {
      if (event.target !== line) return;
      if (event.key === ' ' || event.key === 'Enter') {
        event.preventDefault();
        this.events.selectSweep(sweep.id);
      } else if ((event.key === 'ArrowRight' && !expanded) || (event.key === 'ArrowLeft' && expanded)) {
        event.preventDefault();
        this.events.expandSweep(sweep.id);
      }
    });
    return line;
  }

  private rowElement(row: RunRow, selected: boolean, colour: string | undefined, sweep?: string): HTMLTableRowElement {
    const line = element('tr', { tabIndex: 0, className: sweep ? 'sweep-run' : '' });
    line.dataset.run = row.runDir;
    line.setAttribute('aria-selected', String(selected));
    const swatch = element('span', { className: 'swatch' });
    if (colour) swatch.style.background = colour;
    line.append(element('td', {}, swatch));
    const cell = (column: Column) => element('td', { className: column.number ? 'number' : '' }, column.cell(row));
    line.append(...this.columns.map(cell));
    const actions = element('span', { className: 'actions' });
    for (const action of ['openExperiment', 'openFolder', 'continue', 'delete'] as const) {
      const button = element('button', { className: 'icon-button', type: 'button', title: ACTION_TITLES[action] }, icon(action as IconName));
      button.setAttribute('aria-label', `${ACTION_TITLES[action]} ${runName(row)}`);
      button.dataset.action = action;
      if (row.status === 'running' && (action === 'delete' || action === 'continue')) button.disabled = true;
      button.addEventListener('click', (event) => {
        event.stopPropagation();
        this.events.action(action, row.runDir);
      });
      actions.append(button);
    }
    line.append(element('td', {}, actions), ...this.trailing.map(cell));
    const label = this.labels.get(row.runDir);
    if (label) line.title = `${label}\n${row.runDir}`;
    line.addEventListener('click', () => this.events.toggle(row.runDir));
    line.addEventListener('keydown', (event) => {
      if (event.target !== line || (event.key !== ' ' && event.key !== 'Enter')) return;
      event.preventDefault();
      this.events.toggle(row.runDir);
    });
    line.addEventListener('mouseenter', () => this.events.hover(row.runDir));
    line.addEventListener('focus', () => this.events.hover(row.runDir));
    this.rowsByRun.set(row.runDir, line);
    return line;
  }

  /** The hovered run's row marked, without rebuilding anything. */
  markHovered(run: string | undefined): void {
    for (const [id, line] of this.rowsByRun) line.classList.toggle('hovered', id === run);
  }
}

function compare(a: string | number | undefined, b: string | number | undefined): number {
  if (a === undefined || a === '') return b === undefined || b === '' ? 0 : 1;
  if (b === undefined || b === '') return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}
