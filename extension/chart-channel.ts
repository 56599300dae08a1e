/**
 * The training charts' renderer messaging, host side: a chart's new points go only to renderers
 * that said they show it, coalesced to one message per CHART_MESSAGE_INTERVAL_MS, and a renderer
 * that says `ready` gets what it lacks. The messaging is given (VS Code's in the extension, a
 * recorder in tests).
 */
import type * as vscode from 'vscode';
import type { ChartPoints } from './chart-points';
import type { RendererMessage } from './renderer-protocol';

/**
 * How often a live chart's new points are sent (T2: logged → painted within 300 ms). An append
 * message is a few KB, so this is its own interval, shorter than the progress line's
 * `latentLab.outputUpdateInterval` (which rewrites an output item).
 */
export const CHART_MESSAGE_INTERVAL_MS = 50;

export type ChartMessaging = Pick<vscode.NotebookRendererMessaging, 'onDidReceiveMessage' | 'postMessage'>;

/** A renderer's message, checked: anything else is dropped. */
export function parseRendererMessage(value: unknown): RendererMessage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const message = value as Record<string, unknown>;
  const count = (field: unknown) => typeof field === 'number' && Number.isInteger(field) && field >= 0;
  if (message.type !== 'ready' || typeof message.chartId !== 'string' || message.chartId.length > 200 || !count(message.step) || !count(message.epoch)) return undefined;
  return { type: 'ready', chartId: message.chartId, step: message.step as number, epoch: message.epoch as number };
}

export class ChartChannel {
  private readonly subscription: { dispose(): unknown };
  private readonly charts = new Map<string, ChartPoints>();
  /** Charts that a renderer said it shows: only these get messages. */
  private readonly shown = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly messaging: ChartMessaging, private readonly log?: Pick<vscode.LogOutputChannel, 'warn'>) {
    this.subscription = this.messaging.onDidReceiveMessage(({ editor, message }) => this.receive(editor, message));
  }

  /** Routes messages for this chart until the returned disposable is disposed (by the run that owns it). */
  register(chart: ChartPoints): { dispose(): void } {
    this.charts.set(chart.id, chart);
    return {
      dispose: () => {
        this.flush();
        this.charts.delete(chart.id);
        this.shown.delete(chart.id);
      },
    };
  }

  /** The chart has new points: sent within one CHART_MESSAGE_INTERVAL_MS. */
  changed(): void {
    this.timer ??= setTimeout(() => this.flush(), CHART_MESSAGE_INTERVAL_MS);
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const chart of this.charts.values()) {
      const message = chart.takeUnsent();
      if (message && this.shown.has(chart.id)) void this.messaging.postMessage({ ...message, sentAt: Date.now() });
    }
  }

  private receive(editor: vscode.NotebookEditor, value: unknown): void {
    const message = parseRendererMessage(value);
    if (!message) {
      this.log?.warn('the chart renderer sent a message this version does not know; ignored');
      return;
    }
    const chart = this.charts.get(message.chartId);
    if (!chart) return;
    this.shown.add(chart.id);
    void this.messaging.postMessage(chart.since(message.step, message.epoch), editor);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.subscription.dispose();
    this.charts.clear();
  }
}
