/**
 * Where each image goes on the view's one canvas: groups of panes (one group per example, its
 * panes side by side) in rows, at the largest scale that fits them all; the samples as a plain
 * grid; one enlarged group filling the canvas. Pure geometry, in CSS pixels.
 */

/** What a pane shows. `composite` is the swipe, onion or flicker pane of input and reconstruction. */
export type PaneKind = 'input' | 'corrupted' | 'reconstruction' | 'error' | 'composite' | 'compare' | 'change' | 'sample';

export interface Cell {
  /** The example's (or sample's) index in the arrays. */
  index: number;
  kind: PaneKind;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Space between the panes of one example, between examples, and for the line under each example. */
export const PANE_GAP = 2;
export const GROUP_GAP = 12;
export const CAPTION = 15;
export const HEADER = 16;

/** A whole multiple keeps every source pixel the same size on screen: taken where it costs at most 15% of the size. */
function whole(scale: number): number {
  return scale >= 1 && Math.floor(scale) / scale >= 0.85 ? Math.floor(scale) : scale;
}

/**
 * The largest pane scale for `groups` examples of `panes` panes each in `area`, and how many
 * examples per row. Scales are compared as drawn (whole multiples taken), and of two rows that
 * draw the same size the one with fewer rows wins: the grid is then no taller than it must be,
 * and the view sized to it lays it out the same way again.
 */
function fit(groups: number, panes: number, width: number, height: number, area: Box): { scale: number; perRow: number } {
  let best = { scale: 0, perRow: 1, rows: Math.max(1, groups) };
  for (let perRow = 1; perRow <= Math.max(1, groups); perRow++) {
    const rows = Math.ceil(groups / perRow);
    const across = (area.width - (perRow - 1) * GROUP_GAP - perRow * (panes - 1) * PANE_GAP) / (perRow * panes * width);
    const down = (area.height - rows * CAPTION - (rows - 1) * (GROUP_GAP / 2)) / (rows * height);
    const scale = whole(Math.min(across, down));
    if (scale > best.scale || (scale === best.scale && rows < best.rows)) best = { scale, perRow, rows };
    if (rows === 1) break;
  }
  return { scale: best.scale, perRow: best.perRow };
}

/** The examples in `order`, each as `kinds` panes side by side, under a header line. */
export function gridCells(order: readonly number[], kinds: readonly PaneKind[], image: { width: number; height: number }, area: Box): { cells: Cell[]; groups: Box[]; scale: number } {
  const body = { x: area.x, y: area.y + HEADER, width: area.width, height: area.height - HEADER };
  const { scale, perRow } = fit(order.length, kinds.length, image.width, image.height, body);
  const paneWidth = image.width * scale;
  const paneHeight = image.height * scale;
  const groupWidth = kinds.length * paneWidth + (kinds.length - 1) * PANE_GAP;
  const cells: Cell[] = [];
  const groups: Box[] = [];
  order.forEach((index, place) => {
    const x = body.x + (place % perRow) * (groupWidth + GROUP_GAP);
    const y = body.y + Math.floor(place / perRow) * (paneHeight + CAPTION + GROUP_GAP / 2);
    groups.push({ x, y, width: groupWidth, height: paneHeight + CAPTION });
    kinds.forEach((kind, pane) => cells.push({ index, kind, x: x + pane * (paneWidth + PANE_GAP), y, width: paneWidth, height: paneHeight }));
  });
  return { cells, groups, scale };
}

/** `count` samples in rows of `columns`, with a caption line under them. */
export function sampleCells(count: number, columns: number, image: { width: number; height: number }, area: Box): Cell[] {
  const rows = Math.ceil(count / columns);
  const across = (area.width - (columns - 1) * PANE_GAP) / (columns * image.width);
  const down = (area.height - CAPTION - (rows - 1) * PANE_GAP) / (rows * image.height);
  const scale = whole(Math.max(0, Math.min(across, down)));
  const cells: Cell[] = [];
  for (let index = 0; index < count; index++) {
    const column = index % columns;
    const row = Math.floor(index / columns);
    cells.push({ index, kind: 'sample', x: area.x + column * (image.width * scale + PANE_GAP), y: area.y + row * (image.height * scale + PANE_GAP), width: image.width * scale, height: image.height * scale });
  }
  return cells;
}

/** One example's panes side by side, each as large as the canvas allows (zoom and pan act inside them). */
export function enlargedPanes(index: number, kinds: readonly PaneKind[], area: Box): Cell[] {
  const width = (area.width - (kinds.length - 1) * GROUP_GAP) / kinds.length;
  const top = area.y + HEADER;
  return kinds.map((kind, pane) => ({ index, kind, x: area.x + pane * (width + GROUP_GAP), y: top, width, height: area.height - HEADER - CAPTION }));
}

export function contains(box: Box, x: number, y: number): boolean {
  return x >= box.x && x < box.x + box.width && y >= box.y && y < box.y + box.height;
}
