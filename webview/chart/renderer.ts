/**
 * The notebook renderer for the training chart (`application/vnd.latent-lab.chart+json`). VS Code
 * calls renderOutputItem again with the same element when the host replaces the output's items
 * (once per epoch): the view kept for that element takes the newer snapshot instead of being
 * built again. Between snapshots the host's messages extend it.
 */
import type { ActivationFunction } from 'vscode-notebook-renderer';
import type { RendererMessage } from '../../extension/renderer-protocol';
import { OutputViews } from '../shared/output-views';
import { ChartView } from './chart-view';
import { parseHostMessage, parseSnapshot } from './messages';

export const activate: ActivationFunction = (context) => {
  const views = new OutputViews<ChartView>();
  context.onDidReceiveMessage?.((value) => {
    const message = parseHostMessage(value);
    if (!message) return;
    for (const view of views.all()) if (view.id === message.chartId) view.receive(message);
  });
  return {
    renderOutputItem(item, element) {
      const snapshot = parseSnapshot(item.json());
      if (typeof snapshot === 'string') {
        element.textContent = `Latent Lab cannot draw this chart: ${snapshot}`;
        return;
      }
      const view = views.at(element) ?? new ChartView(element);
      views.show(item.id, element, view);
      view.load(snapshot);
      // The host sends a chart nothing until it is on screen; then only what it lacks.
      if (snapshot.live) context.postMessage?.({ type: 'ready', chartId: snapshot.chartId, step: view.lastStep, epoch: view.lastEpoch } satisfies RendererMessage);
    },
    disposeOutputItem(id) {
      views.dispose(id);
    },
  };
};
