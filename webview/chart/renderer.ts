/**
 * The notebook renderer for the training chart (`application/vnd.latent-lab.chart+json`). VS Code
 * calls renderOutputItem again with the same element when the host replaces the output's items
 * (once per epoch): the view kept for that element takes the newer snapshot instead of being
 * built again. Between snapshots the host's messages extend it.
 */
import type { ActivationFunction } from 'vscode-notebook-renderer';
import type { RendererMessage } from '../../extension/renderer-protocol';
import { ChartView } from './chart-view';
import { parseHostMessage, parseSnapshot } from './messages';

export const activate: ActivationFunction = (context) => {
  const views = new WeakMap<HTMLElement, ChartView>();
  const byOutput = new Map<string, { element: HTMLElement; view: ChartView }>();
  context.onDidReceiveMessage?.((value) => {
    const message = parseHostMessage(value);
    if (!message) return;
    for (const { view } of byOutput.values()) if (view.id === message.chartId) view.receive(message);
  });
  const forget = (id: string) => {
    const entry = byOutput.get(id);
    if (!entry) return;
    byOutput.delete(id);
    entry.view.dispose();
    views.delete(entry.element);
  };
  return {
    renderOutputItem(item, element) {
      const snapshot = parseSnapshot(item.json());
      if (typeof snapshot === 'string') {
        element.textContent = `Latent Lab cannot draw this chart: ${snapshot}`;
        return;
      }
      let view = views.get(element);
      if (!view) {
        view = new ChartView(element);
        views.set(element, view);
      }
      byOutput.set(item.id, { element, view });
      view.load(snapshot);
      // The host sends a chart nothing until it is on screen; then only what it lacks.
      if (snapshot.live) context.postMessage?.({ type: 'ready', chartId: snapshot.chartId, step: view.lastStep, epoch: view.lastEpoch } satisfies RendererMessage);
    },
    disposeOutputItem(id) {
      if (id !== undefined) forget(id);
      else for (const key of [...byOutput.keys()]) forget(key);
    },
  };
};
