/**
 * The views a notebook renderer keeps on screen. VS Code calls renderOutputItem again with the same
 * element when the host replaces an output's items: the view kept for that element is found here
 * and takes the newer snapshot instead of being built again. An element shows one output item, so
 * a view is disposed once, by the item it last drew, or with every other view when VS Code names
 * no item.
 */

/** What the renderer owns for one output element. */
export interface OutputView {
  dispose(): void;
}

export class OutputViews<View extends OutputView> {
  private readonly byElement = new WeakMap<HTMLElement, View>();
  private readonly byOutput = new Map<string, { element: HTMLElement; view: View }>();

  /** The view already drawn in `element`, if any. */
  at(element: HTMLElement): View | undefined {
    return this.byElement.get(element);
  }

  /** `view` in `element` now draws the output item `outputId`; an item it drew before is no longer its owner. */
  show(outputId: string, element: HTMLElement, view: View): void {
    for (const [id, entry] of this.byOutput) if (entry.element === element && id !== outputId) this.byOutput.delete(id);
    this.byElement.set(element, view);
    this.byOutput.set(outputId, { element, view });
  }

  /** Every view on screen, each once (a host message goes to the views it names). */
  all(): View[] {
    return [...new Set([...this.byOutput.values()].map((entry) => entry.view))];
  }

  /** For disposeOutputItem: the item's view, or every view when `outputId` is undefined. */
  dispose(outputId: string | undefined): void {
    for (const id of outputId === undefined ? [...this.byOutput.keys()] : [outputId]) {
      const entry = this.byOutput.get(id);
      if (!entry) continue;
      this.byOutput.delete(id);
      this.byElement.delete(entry.element);
      entry.view.dispose();
    }
  }
}
