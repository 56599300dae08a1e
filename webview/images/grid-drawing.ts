/**
 * Draws one image view's canvas from a scene (what the view shows now): the examples' panes for the
 * diff mode with their losses and the heatmap's colour scale, one enlarged example under the shared
 * camera, or the samples. It keeps what is costly to compute again (each frame's error maps, the
 * last epoch pair's change) and where it put every pane, for the pointer and for tests.
 */
import type { Box, Cell, PaneKind } from './layout';
import { CAPTION, enlargedPanes, gridCells, HEADER, sampleCells } from './layout';
import type { Frame, Snapshot } from './messages';
import type { Paint, Theme } from './painter';
import { intersect, Painter, readTheme } from './painter';
import { errorOf, largest, niceTop, paintHeatmap, paintImage } from './pixels';

export type DiffMode = 'side-by-side' | 'swipe' | 'onion' | 'flicker' | 'epochs';
export type Panel = 'reconstructions' | 'samples';

/** Where the enlarged panes look: the image point at their centre and the zoom over "fit". */
export interface Camera {
  x: number;
  y: number;
  zoom: number;
}

export interface Scene {
  snapshot: Snapshot;
  /** The frame drawn: the shown epoch's, or the last one drawn while it is on its way. */
  frame: Frame;
  /** Epoch vs epoch: the other epoch's frame, when it is here. */
  other: Frame | undefined;
  compare: number | undefined;
  diff: DiffMode;
  panel: Panel;
  /** The examples in the order they are drawn. */
  order: number[];
  enlarged: number | undefined;
  camera: Camera;
  /** The swipe divider, as a fraction of an image's width. */
  swipe: number;
  /** The reconstruction's opacity over the input. */
  onion: number;
  /** Flicker: the input is on screen (rather than the reconstruction). */
  showsInput: boolean;
  /** The heatmaps on 0–1 rather than on the largest error shown. */
  fullScale: boolean;
}

const LEGEND_WIDTH = 64;
/** The least space between two column titles. */
const HEADER_GAP = 8;
/** The colour scale's least height (title, bar and five ticks that do not touch). */
const LEGEND_HEIGHT = 100;

/** The canvas less a margin: the panes' edges (and high-contrast borders) stay inside it. */
const MARGIN = 2;
function areaOf(width: number, height: number): Box {
  return { x: 2 * MARGIN, y: MARGIN, width: width - 4 * MARGIN, height: height - 2 * MARGIN };
}

export function format(value: number): string {
  return Math.abs(value) >= 0.01 && Math.abs(value) < 1e5 ? String(Number(value.toPrecision(4))) : value.toExponential(2);
}

/** An example's losses in the run's units. */
export function describeExample(snapshot: Snapshot, frame: Frame, index: number): string {
  const units = snapshot.units === 'nats' ? ' nats' : '';
  const terms = [`#${index + 1}`];
  if (frame.loss) terms.push(`loss ${format(frame.loss[index])}${units}`);
  if (frame.reconstruction) terms.push(`reconstruction ${format(frame.reconstruction[index])}${units}`);
  if (frame.kl) terms.push(`KL ${format(frame.kl[index])}${units}`);
  return terms.join(' · ');
}

/** The panes of one example for a diff mode; denoising and masked views add the corrupted input, and two epochs read earlier first. */
export function paneKinds(diff: DiffMode, snapshot: Snapshot, compareIsLater = false): PaneKind[] {
  const corrupted = snapshot.corrupted ? (['corrupted'] as const) : [];
  switch (diff) {
    case 'side-by-side':
      return ['input', ...corrupted, 'reconstruction', 'error'];
    case 'epochs':
      return compareIsLater ? ['reconstruction', 'compare', 'change'] : ['compare', 'reconstruction', 'change'];
    default:
      return [...corrupted, 'composite', 'error'];
  }
}

/** Where the whole image lands in an enlarged pane under the shared camera. */
export function cameraBox(pane: Box, image: { width: number; height: number }, camera: Camera): Box {
  const scale = Math.min(pane.width / image.width, pane.height / image.height) * camera.zoom;
  const centreX = pane.x + pane.width / 2;
  const centreY = pane.y + pane.height / 2;
  return { x: centreX - camera.x * scale, y: centreY - camera.y * scale, width: image.width * scale, height: image.height * scale };
}

export class GridDrawing {
  /** Every pane drawn last, in CSS pixels of the canvas. */
  cells: Cell[] = [];
  /** The column titles drawn last: where each starts and how wide it is drawn. */
  headers: { text: string; x: number; width: number }[] = [];
  /** The heatmaps' scale drawn last (a fraction of full intensity). */
  scale = 0;
  private theme: Theme = readTheme();
  private readonly painter = new Painter();
  private readonly errors = new WeakMap<Frame, Float32Array[]>();
  private changes: { from: Frame; to: Frame; errors: Float32Array[] } | undefined;

  constructor(private readonly canvas: HTMLCanvasElement) {}

  /** The theme's colours changed (VS Code restyles the page). */
  readTheme(): void {
    this.theme = readTheme();
  }

  draw(scene: Scene): void {
    const width = this.canvas.clientWidth;
    const height = this.canvas.clientHeight;
    if (width === 0 || height === 0) return;
    const ratio = window.devicePixelRatio || 1;
    if (this.canvas.width !== Math.round(width * ratio) || this.canvas.height !== Math.round(height * ratio)) {
      this.canvas.width = Math.round(width * ratio);
      this.canvas.height = Math.round(height * ratio);
    }
    const context = this.canvas.getContext('2d');
    if (!context) return;
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, width, height);
    context.font = `11px ${this.theme.font}`;
    this.painter.resize(scene.snapshot.width, scene.snapshot.height);
    const area = areaOf(width, height);
    this.headers = [];
    if (scene.panel === 'samples') this.drawSamples(context, scene, area);
    else this.drawExamples(context, scene, area);
    this.canvas.dataset.headers = JSON.stringify(this.headers.map(({ text, x, width: w }) => ({ text, x: Math.round(x), width: Math.round(w) })));
    this.canvas.dataset.cells = JSON.stringify(this.cells.map(({ index, kind, x, y, width: w, height: h }) => ({ index, kind, x: Math.round(x), y: Math.round(y), width: Math.round(w), height: Math.round(h) })));
    this.canvas.dataset.scale = String(this.scale);
  }

  /**
   * The canvas height the scene's grid (or samples) takes at `width`, given at most `limit`: the
   * bottom of its lowest caption, or of the colour scale, and the canvas's margin under it.
   */
  contentHeight(scene: Scene, width: number, limit: number): number {
    if (scene.enlarged !== undefined) return limit;
    const area = areaOf(width, limit);
    const { snapshot, frame } = scene;
    let bottom: number;
    if (scene.panel === 'samples') {
      const last = sampleLayout(frame.sampleCount, frame.sampleColumns, snapshot, area).at(-1);
      bottom = (last ? last.y + last.height + 3 : area.y) + CAPTION;
    } else {
      const kinds = paneKinds(scene.diff, snapshot, scene.compare !== undefined && scene.compare > frame.epoch);
      const heat = kinds.includes('error') || kinds.includes('change');
      const body: Box = heat ? { ...area, width: area.width - LEGEND_WIDTH } : area;
      const { groups } = gridCells(scene.order, kinds, snapshot, body);
      bottom = Math.max(area.y + HEADER, ...groups.map((group) => group.y + group.height), heat ? area.y + HEADER + LEGEND_HEIGHT : 0);
    }
    return Math.min(limit, Math.ceil(bottom) + MARGIN);
  }

  private drawExamples(context: CanvasRenderingContext2D, scene: Scene, area: Box): void {
    const { snapshot, frame, other, enlarged } = scene;
    const theme = this.theme;
    const kinds = paneKinds(scene.diff, snapshot, scene.compare !== undefined && scene.compare > frame.epoch);
    const heat = kinds.includes('error') || kinds.includes('change');
    const body: Box = heat ? { ...area, width: area.width - LEGEND_WIDTH } : area;
    if (enlarged !== undefined) {
      this.scale = this.scaleFor(scene, kinds, [enlarged]);
      this.cells = enlargedPanes(enlarged, kinds, body);
      this.drawHeaders(context, this.cells, scene);
      for (const cell of this.cells) this.drawPane(context, cell, scene, cameraBox(cell, snapshot, scene.camera));
      context.fillStyle = theme.foreground;
      context.textBaseline = 'top';
      context.textAlign = 'left';
      context.fillText(describeExample(snapshot, frame, enlarged), body.x, body.y + body.height - CAPTION + 3);
    } else {
      this.scale = this.scaleFor(scene, kinds, scene.order);
      const { cells, groups } = gridCells(scene.order, kinds, snapshot, body);
      this.cells = cells;
      this.drawHeaders(context, cells.slice(0, kinds.length), scene);
      for (const cell of cells) this.drawPane(context, cell, scene, cell);
      context.textBaseline = 'top';
      context.textAlign = 'left';
      context.fillStyle = theme.foreground;
      groups.forEach((group, place) => {
        const index = scene.order[place];
        const loss = frame.loss?.[index];
        const text = loss === undefined ? `#${index + 1}` : `#${index + 1} ${format(loss)}${snapshot.units === 'nats' ? ' nats' : ''}`;
        context.fillText(text, group.x, group.y + group.height - CAPTION + 2, group.width);
      });
    }
    // Epoch vs epoch has no scale until the other epoch is here.
    if (heat && !(kinds.includes('change') && other === undefined)) {
      const title = kinds.includes('change') ? '|Δ| epochs' : '|x − x̂|';
      this.painter.legend(context, { x: area.x + area.width - LEGEND_WIDTH + 10, y: area.y + HEADER, width: LEGEND_WIDTH - 10, height: Math.min(area.height - HEADER, 220) }, this.scale, title, theme);
    }
  }

  /** Every example's |x − x̂| for a frame, computed once per frame. */
  private errorsOf(snapshot: Snapshot, frame: Frame): Float32Array[] | undefined {
    const { inputs } = snapshot;
    if (!inputs || !frame.reconstructions) return undefined;
    let errors = this.errors.get(frame);
    if (!errors) {
      const reconstructions = frame.reconstructions;
      errors = Array.from({ length: snapshot.count }, (_, index) => errorOf(inputs, index, reconstructions, index, snapshot));
      this.errors.set(frame, errors);
    }
    return errors;
  }

  /** Every example's change between two epochs' reconstructions, for the last pair asked. */
  private changesOf(snapshot: Snapshot, from: Frame, to: Frame): Float32Array[] | undefined {
    if (!from.reconstructions || !to.reconstructions) return undefined;
    if (this.changes?.from !== from || this.changes.to !== to) {
      const [a, b] = [from.reconstructions, to.reconstructions];
      this.changes = { from, to, errors: Array.from({ length: snapshot.count }, (_, index) => errorOf(a, index, b, index, snapshot)) };
    }
    return this.changes.errors;
  }

  /** The scale shared by the heatmaps on screen: fixed, or the next round number over their largest value. */
  private scaleFor(scene: Scene, kinds: PaneKind[], indices: readonly number[]): number {
    const { snapshot, frame, other } = scene;
    const errors = kinds.includes('error') ? this.errorsOf(snapshot, frame) : kinds.includes('change') && other ? this.changesOf(snapshot, other, frame) : undefined;
    if (!errors) return 0;
    return scene.fullScale ? 1 : niceTop(largest(indices.map((index) => errors[index])) / 255);
  }

  private paintOf(kind: PaneKind, index: number, scene: Scene): Paint {
    const { snapshot, frame, other } = scene;
    const image =
      (pixels: Uint8Array | undefined): Paint =>
      (target) => {
        if (!pixels) return false;
        paintImage(target, pixels, index, snapshot);
        return true;
      };
    const heatmap =
      (errors: Float32Array[] | undefined): Paint =>
      (target) => {
        const error = errors?.[index];
        if (!error) return false;
        paintHeatmap(target, error, this.scale * 255);
        return true;
      };
    switch (kind) {
      case 'input':
      case 'composite':
        return image(snapshot.inputs);
      case 'corrupted':
        return image(snapshot.corrupted);
      case 'reconstruction':
        return image(frame.reconstructions);
      case 'compare':
        return image(other?.reconstructions);
      case 'sample':
        return image(frame.samples);
      case 'error':
        return heatmap(this.errorsOf(snapshot, frame));
      case 'change':
        return heatmap(other && this.changesOf(snapshot, other, frame));
    }
  }

  /** The column titles, once above the first example's panes; a shorter title where the long one does not fit. */
  private drawHeaders(context: CanvasRenderingContext2D, cells: Cell[], scene: Scene): void {
    const { snapshot, frame, diff, compare } = scene;
    const composite = diff === 'swipe' ? ['input | reconstruction', 'input | recon.', 'in | out'] : diff === 'onion' ? ['onion skin', 'onion'] : scene.showsInput ? ['input', 'input'] : ['reconstruction', 'recon.'];
    const names: Record<PaneKind, string[]> = {
      input: snapshot.corrupted ? ['clean', 'clean'] : ['input', 'input'],
      corrupted: snapshot.mask ? ['masked', 'masked'] : ['corrupted', 'corr.'],
      reconstruction: diff === 'epochs' ? [`epoch ${frame.epoch}`, `${frame.epoch}`] : ['reconstruction', 'recon.'],
      error: ['error', 'err.'],
      compare: [`epoch ${compare ?? '–'}`, `${compare ?? '–'}`],
      change: ['change', 'Δ'],
      composite,
      sample: ['', ''],
    };
    context.save();
    context.fillStyle = this.theme.muted;
    context.textBaseline = 'bottom';
    context.textAlign = 'left';
    for (const cell of cells) {
      // A title keeps clear of the next pane's by more than the panes' gap, or two read as one.
      const room = Math.max(cell.width - HEADER_GAP, 24);
      const choices = names[cell.kind];
      const text = choices.find((choice) => context.measureText(choice).width <= room) ?? choices.at(-1)!;
      context.fillText(text, cell.x, cell.y - 3, room);
      this.headers.push({ text, x: cell.x, width: Math.min(room, context.measureText(text).width) });
    }
    context.restore();
  }

  /** One pane; `image` is where its whole image lands (the pane itself, or the enlarged camera's box). */
  private drawPane(context: CanvasRenderingContext2D, pane: Cell, scene: Scene, image: Box): void {
    const theme = this.theme;
    // High-contrast themes draw a border around everything: a black image on black needs its edge.
    if (theme.contrast) {
      context.strokeStyle = theme.contrast;
      context.strokeRect(pane.x - 0.5, pane.y - 0.5, pane.width + 1, pane.height + 1);
    }
    const paint = this.paintOf(pane.kind, pane.index, scene);
    if (pane.kind !== 'composite') {
      if (!this.painter.draw(context, paint, image, pane)) this.painter.missing(context, pane, theme);
      return;
    }
    const reconstruction = this.paintOf('reconstruction', pane.index, scene);
    switch (scene.diff) {
      case 'swipe': {
        if (!this.painter.draw(context, paint, image, pane)) return this.painter.missing(context, pane, theme);
        const x = image.x + scene.swipe * image.width;
        const right = intersect(pane, { x, y: pane.y, width: pane.x + pane.width - x, height: pane.height });
        this.painter.draw(context, reconstruction, image, right);
        if (x >= pane.x && x <= pane.x + pane.width) this.painter.divider(context, x, pane, theme);
        return;
      }
      case 'onion':
        if (!this.painter.draw(context, paint, image, pane)) return this.painter.missing(context, pane, theme);
        this.painter.draw(context, reconstruction, image, pane, scene.onion);
        return;
      default:
        if (!this.painter.draw(context, scene.showsInput ? paint : reconstruction, image, pane)) this.painter.missing(context, pane, theme);
    }
  }

  private drawSamples(context: CanvasRenderingContext2D, scene: Scene, area: Box): void {
    const { snapshot, frame } = scene;
    const count = frame.sampleCount;
    this.cells = sampleLayout(count, frame.sampleColumns, snapshot, area);
    this.scale = 0;
    for (const cell of this.cells) this.drawPane(context, cell, scene, cell);
    context.fillStyle = this.theme.muted;
    context.textBaseline = 'top';
    context.textAlign = 'left';
    const last = this.cells.at(-1);
    const caption = count === 0 ? `No samples at epoch ${frame.epoch}.` : `${count} samples at epoch ${frame.epoch}${snapshot.sampleCaption ? ` · ${snapshot.sampleCaption}` : ''}`;
    context.fillText(caption, area.x, last ? Math.min(area.y + area.height - CAPTION, last.y + last.height + 3) : area.y, area.width);
  }
}

/** The samples in rows of their columns (or a little wider than square). */
function sampleLayout(count: number, sampleColumns: number | undefined, image: { width: number; height: number }, area: Box): Cell[] {
  const columns = Math.min(count, sampleColumns ?? Math.max(1, Math.ceil(Math.sqrt(count * 2))));
  return count > 0 ? sampleCells(count, Math.max(1, columns), image, area) : [];
}
