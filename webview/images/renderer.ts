/**
 * The notebook renderer for image views (`application/vnd.latent-lab.images+json`). VS Code calls
 * renderOutputItem again with the same element when the host replaces the output's items (once
 * per epoch while training): the view kept for that element takes the newer snapshot instead of
 * being built again. Between snapshots, and after the run, frames come by message.
 */
import type { ActivationFunction } from 'vscode-notebook-renderer';
import type { ImagesRendererMessage } from '../../extension/images-protocol';
import { OutputViews } from '../shared/output-views';
import { ImageView } from './image-view';
import { parseHostMessage, parseSnapshot } from './messages';

export const activate: ActivationFunction = (context) => {
  const views = new OutputViews<ImageView>();
  const post = context.postMessage ? (message: ImagesRendererMessage) => context.postMessage!(message) : undefined;
  context.onDidReceiveMessage?.((value) => {
    const parsed = parseHostMessage(value);
    if (!parsed) return;
    for (const view of views.all()) {
      if ('problem' in parsed) {
        if (view.viewId === parsed.viewId) view.warn(parsed.problem);
      } else if (view.viewId === parsed.message.viewId) view.receive(parsed.message);
    }
  });
  return {
    renderOutputItem(item, element) {
      let value: unknown;
      try {
        value = item.json();
      } catch {
        value = undefined;
      }
      const snapshot = parseSnapshot(value);
      const view = views.at(element);
      if (typeof snapshot === 'string') {
        // A view on screen keeps what it shows; the bad snapshot is named, not drawn.
        if (view) view.warn(`output item: ${snapshot}`);
        else element.textContent = `Latent Lab cannot draw this image view: ${snapshot}`;
        return;
      }
      if (view) {
        views.show(item.id, element, view);
        const another = view.viewId !== snapshot.viewId;
        view.load(snapshot);
        if (another) post?.({ type: 'ready', viewId: snapshot.viewId, epoch: snapshot.frame.epoch });
        return;
      }
      views.show(item.id, element, new ImageView(element, snapshot, post));
      // The host sends a view nothing until it is on screen; then the epochs it lacks.
      post?.({ type: 'ready', viewId: snapshot.viewId, epoch: snapshot.frame.epoch });
    },
    disposeOutputItem(id) {
      views.dispose(id);
    },
  };
};
