/**
 * The Latent Explorer's page. It says `ready` (each time it is shown: a hidden view's page is
 * discarded), then draws what the host sends: a scatter of a split's latent means, the input and
 * reconstruction under the pointer, the decoder's image anywhere else, traversal sliders, an
 * interpolation strip between two picked points and, for a CVAE, the same z decoded as every
 * class. Run, camera, colouring and picks live in the webview's state, so a view shown again or a
 * reloaded window draws the same picture; the host keeps the computed points, so showing the view
 * again recomputes nothing.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import type { VscodeCheckbox } from '@vscode-elements/elements/dist/vscode-checkbox/vscode-checkbox.js';
import type { VscodeSingleSelect } from '@vscode-elements/elements/dist/vscode-single-select/vscode-single-select.js';
import type { Camera, ColourBy, ExplorerChoice, ExplorerRun, ExplorerState, ExploreExampleResult, ExploreImages, ExploreResult, ExploreSplit, HostMessage, PageMessage } from '../../extension/explorer-protocol';
import { classColours, ramp, robustRange } from './colours';
import { fitCamera } from './fit';
import { GridPicker } from './picker';
import { decodeBase64, decodeFloats, drawGrid, drawImage, drawStrip } from './pixels';
import type { ScatterRenderer } from './scatter';
import { createScatter } from './scatter';
import { EXPLORER_STYLE } from './style';

interface WebviewApi {
  postMessage(message: PageMessage): void;
  getState(): ExplorerState | undefined;
  setState(state: ExplorerState): void;
}
declare function acquireVsCodeApi(): WebviewApi;

const api = acquireVsCodeApi();
const HOST_TYPES = new Set(['untrusted', 'runs', 'busy', 'points', 'example', 'decoded', 'classes', 'strip', 'lasso', 'notice']);
/** The most lassoed examples shown (the host refuses more). */
const LASSO_LIMIT = 48;
const LASSO_COLUMNS = 8;
/** Pixels around the pointer in which a point counts as hovered. */
const PICK_RADIUS = 5;
const POINT_SIZE = 4;
/** The hovered example's input and reconstruction and the decoded image, each at most this many CSS pixels: three side by side in a 280-px side bar. */
const IMAGE_SIDE = 84;
/** The gaps between those three images (the pair's and the strip's), CSS pixels. */
const IMAGE_GAPS = 10;
const STRIP_STEPS = 8;
const MAX_HEIGHT = 420;
const MIN_HEIGHT = 180;
/** The view's height the scatter leaves to the images under it (an image, a few lines of caption), so that they are in sight while the pointer is on it. */
const FIGURES_ROOM = 150;
/** How long a wheel's or a key's zoom or pan stays still before every point is drawn again (until then the last frame is shown moved). */
const SETTLE_MS = 150;

function element<K extends keyof HTMLElementTagNameMap>(tag: K, properties: Partial<HTMLElementTagNameMap[K]> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const created = Object.assign(document.createElement(tag), properties);
  created.append(...children);
  return created;
}

function select(title: string, options: [string, string][], value: string | undefined): VscodeSingleSelect {
  const created = element('vscode-single-select', { title }, ...options.map(([key, text]) => element('vscode-option', { value: key, textContent: text, selected: key === value })));
  created.setAttribute('aria-label', title);
  return created;
}

/** What follows a loss: nothing where the units are the loss's own ("loss 92.32", not "loss 92.32 loss"). */
function unitsSuffix(units: string): string {
  return units === 'loss' ? '' : ` ${units}`;
}

function number(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 1 ? value.toFixed(2) : value.toPrecision(3);
}

/** The points as the page keeps them, decoded from the host's message. */
interface Points {
  choice: ExplorerChoice;
  result: ExploreResult;
  projected: Float32Array;
  /** Decoded when first needed (colouring by a dimension, an interpolation): most views never need them. */
  means(): Float32Array;
  labels: Uint8Array;
  /** Decoded when first coloured by. */
  losses(): Float32Array;
  /** Built when first asked, which the page does right after the first frame: the frame does not wait for it. */
  picker(): GridPicker;
  classes: number;
}

class ExplorerPage {
  private state: ExplorerState = { follow: true, colour: 'label', hidden: [], picked: [], ...api.getState() };
  private readonly root = document.getElementById('explorer-root') as HTMLDivElement;
  private readonly controls = element('div', { className: 'controls' });
  private readonly status = element('p', { className: 'status', role: 'status' });
  private readonly wrap = element('div', { className: 'scatter-wrap' });
  private canvas = element('canvas', { className: 'scatter', tabIndex: 0 });
  private readonly overlay = element('canvas', { className: 'overlay' });
  private readonly legend = element('div', { className: 'legend' });
  private readonly colourRow = element('div', { className: 'row' });
  private readonly hover = element('figure', { className: 'hover', hidden: true });
  private readonly input = element('canvas', { className: 'input' });
  private readonly reconstruction = element('canvas', { className: 'reconstruction' });
  private readonly hoverCaption = element('figcaption');
  private readonly decodedFigure = element('figure', { className: 'decoded-figure', hidden: true });
  private readonly decoded = element('canvas', { className: 'decoded' });
  private readonly decodedCaption = element('figcaption');
  private readonly conditional = element('section', { className: 'conditional', hidden: true });
  private readonly classesCanvas = element('canvas', { className: 'classes' });
  private readonly sliders = element('section', { className: 'sliders' });
  private readonly strip = element('section', { className: 'strip', hidden: true });
  private readonly stripCanvas = element('canvas', { className: 'strip-images' });
  private readonly stripCaption = element('p', { className: 'caption' });
  private readonly lassoSection = element('section', { className: 'lasso', hidden: true });
  private readonly lassoCanvas = element('canvas', { className: 'lasso-images' });
  private readonly lassoCaption = element('p', { className: 'caption' });
  private renderer: ScatterRenderer | undefined;
  private runs: ExplorerRun[] = [];
  private points: Points | undefined;
  private colours = new Uint8Array(0);
  private hovered = -1;
  /** The point the sliders reset to: the last example hovered or the last free point decoded. */
  private anchor: number[] | undefined;
  private label = 0;
  /** A drag: panning (Shift or the middle button), drawing a lasso (Alt, in data units), or decoding along the way. */
  private drag: { x: number; y: number; pan: boolean; moved: boolean; lasso?: [number, number][] } | undefined;
  private frame = 0;
  /** The camera moved since every point was last drawn at it; `settle` draws them when it stops. */
  private moving = false;
  private settle = 0;
  private decodes = 0;
  private measured: { width: number; height: number } | undefined;

  constructor() {
    const style = element('style', { textContent: EXPLORER_STYLE });
    style.nonce = document.body.dataset.nonce ?? '';
    document.head.append(style);
    this.wrap.append(this.canvas, this.overlay);
    this.hover.append(element('div', { className: 'pair' }, this.input, this.reconstruction), this.hoverCaption);
    this.decodedFigure.append(this.decoded, this.decodedCaption);
    this.strip.append(element('h3', { textContent: 'Interpolation' }), this.stripCanvas, this.stripCaption);
    this.lassoSection.append(element('h3', { textContent: 'Lasso' }), this.lassoCanvas, this.lassoCaption);
    // The images right under the scatter, where the eye is while the pointer moves over it.
    this.root.append(this.controls, this.status, this.wrap, element('div', { className: 'figures' }, this.hover, this.decodedFigure), this.legend, this.colourRow, this.conditional, this.sliders, this.strip, this.lassoSection);
    this.listen(this.canvas);
    // A new width only: the root's height follows the scatter's, which layout sets.
    let observedWidth = -1;
    new ResizeObserver(() => {
      if (this.root.clientWidth === observedWidth) return;
      observedWidth = this.root.clientWidth;
      this.layout();
    }).observe(this.root);
    // The scatter's height follows the view's too, which the root's size does not see.
    window.addEventListener('resize', () => this.layout());
    window.addEventListener('message', (event: MessageEvent<unknown>) => {
      const message = event.data as HostMessage | undefined;
      if (typeof message === 'object' && message !== null && HOST_TYPES.has((message as { type?: string }).type ?? '')) this.receive(message);
    });
    this.status.textContent = 'Looking for runs…';
    api.postMessage({ type: 'ready', ...(this.state.choice ? { choice: this.state.choice } : {}), follow: this.state.follow });
    // A page shown again will get its points: its renderer (a GL context, compiled shaders) is made while the host answers.
    if (this.state.choice) this.ensureRenderer();
  }

  private save(patch: Partial<ExplorerState>): void {
    this.state = { ...this.state, ...patch };
    api.setState(this.state);
  }

  private receive(message: HostMessage): void {
    switch (message.type) {
      case 'untrusted':
        this.root.dataset.untrusted = 'true';
        this.controls.replaceChildren();
        this.status.textContent = message.message;
        this.wrap.hidden = true;
        return;
      case 'runs':
        this.runs = message.runs;
        this.save({ follow: message.follow, ...(message.choice ? { choice: message.choice } : {}) });
        this.drawControls();
        if (message.runs.length === 0) this.status.textContent = 'No run folder with a checkpoint yet: run an experiment\'s train cell, then explore its latent space here.';
        return;
      case 'busy':
        this.root.dataset.busy = 'true';
        this.status.textContent = message.message;
        return;
      case 'notice':
        delete this.root.dataset.busy;
        this.status.textContent = message.message;
        this.root.dataset.notice = message.message;
        return;
      case 'points':
        delete this.root.dataset.busy;
        this.showPoints(message.choice, message.result);
        return;
      case 'example':
        this.showExample(message.result);
        return;
      case 'decoded':
        this.showDecoded(message.z, message.images);
        return;
      case 'classes':
        drawStrip(this.classesCanvas, decodeBase64(message.images.pixels), message.images.shape, message.images.count, 48);
        return;
      case 'strip':
        this.showStrip(message.images);
        return;
      case 'lasso':
        drawGrid(this.lassoCanvas, decodeBase64(message.images.pixels), message.images.shape, message.images.count, LASSO_COLUMNS, 28);
        this.lassoCanvas.dataset.count = String(message.images.count);
    }
  }

  private drawControls(): void {
    const choice = this.state.choice;
    const run = select('run', this.runs.map((candidate) => [candidate.runDir, candidate.label]), choice?.runDir);
    const checkpoints = this.runs.find((candidate) => candidate.runDir === choice?.runDir)?.checkpoints ?? ['last'];
    const checkpoint = select('checkpoint', checkpoints.map((name) => [name, name]), choice?.checkpoint);
    const split = select('split', [['test', 'test split'], ['train', 'train split'], ['all', 'train + test']], choice?.split ?? 'test');
    const projection = select('projection', [['pca', 'PCA'], ['umap', 'UMAP (5k subsample)']], choice?.projection ?? 'pca');
    const follow = element('vscode-checkbox', { label: 'follow the notebook', checked: this.state.follow }) as VscodeCheckbox;
    const choose = (patch: Partial<ExplorerChoice>, following = false) => {
      const runDir = patch.runDir ?? choice?.runDir ?? this.runs[0]?.runDir;
      if (!runDir) return;
      const chosenProjection = patch.projection ?? choice?.projection;
      const next: ExplorerChoice = { runDir, checkpoint: patch.checkpoint ?? (patch.runDir ? 'last' : choice?.checkpoint ?? 'last'), split: patch.split ?? choice?.split ?? 'test', ...(chosenProjection ? { projection: chosenProjection } : {}) };
      this.save({ choice: next, follow: following, picked: [], camera: patch.split || patch.runDir || patch.projection ? undefined : this.state.camera });
      api.postMessage({ type: 'choose', choice: next, follow: following });
    };
    run.addEventListener('change', () => choose({ runDir: run.value }));
    checkpoint.addEventListener('change', () => choose({ checkpoint: checkpoint.value }));
    split.addEventListener('change', () => choose({ split: split.value as ExploreSplit }, this.state.follow));
    projection.addEventListener('change', () => choose({ projection: projection.value as 'pca' | 'umap' }, this.state.follow));
    follow.addEventListener('change', () => choose({}, follow.checked));
    this.controls.replaceChildren(run, element('div', { className: 'row' }, checkpoint, split, projection), follow);
  }

  private showPoints(choice: ExplorerChoice, result: ExploreResult): void {
    performance.mark('explorer-points');
    const sameRun = this.points && this.points.choice.runDir === choice.runDir && this.points.choice.split === choice.split;
    const projected = decodeFloats(result.projection.points);
    const labels = decodeBase64(result.labels);
    let classes = 0;
    for (const label of labels) classes = Math.max(classes, label + 1);
    let means: Float32Array | undefined;
    let losses: Float32Array | undefined;
    let picker: GridPicker | undefined;
    this.points = {
      choice, result, projected, labels, classes: Math.max(classes, result.model.classes),
      means: () => (means ??= decodeFloats(result.means)),
      losses: () => (losses ??= decodeFloats(result.losses)),
      picker: () => (picker ??= new GridPicker(projected, result.count)),
    };
    if (!sameRun && this.state.choice && (this.state.choice.runDir !== choice.runDir || this.state.choice.split !== choice.split)) this.save({ camera: undefined, picked: [] });
    this.save({ choice });
    this.root.dataset.points = String(result.count);
    this.root.dataset.renderer = this.ensureRenderer().kind;
    this.status.textContent = this.describe(result);
    this.drawColourControls();
    this.recolour();
    this.renderer!.setPoints(projected, this.colours, result.count);
    if (!this.state.camera) this.save({ camera: this.fit() });
    this.layout();
    // The first frame now, not at the next animation frame: the rest of the page can follow it.
    this.drawNow();
    performance.mark('explorer-first-frame');
    const shown = this.points;
    setTimeout(() => shown.picker(), 0);
    this.drawSliders();
    this.conditional.hidden = result.model.classes === 0 || !result.model.decodes;
    if (!this.conditional.hidden) this.drawConditional();
    if (this.state.current && this.state.current.length === result.model.latent) this.decode(this.state.current);
    if (this.state.picked.length === 2) this.interpolate();
  }

  /** One sentence on what the picture is, and what this model cannot do and why. */
  private describe(result: ExploreResult): string {
    const { model, projection } = result;
    if (projection.method === 'umap') {
      const what = `UMAP of ${result.count} ${result.split} examples' means at ${model.checkpoint} (epoch ${model.epoch}; a seeded subsample where the split has more than 5000): UMAP has no inverse, so a point decodes as the code of the example nearest to it.`;
      return model.decodes ? what : `${what} ${model.reason ?? ''}`;
    }
    const axes = projection.method === 'pca' ? `PCA of ${model.latent}-d means (${(100 * (projection.explained[0] + projection.explained[1])).toFixed(0)}% of the variance); the decoded point is mean + a·PC1 + b·PC2` : `the ${model.latent}-d ${model.variational ? 'means' : 'codes'} as they are`;
    const what = `${result.count} ${result.split} examples at ${model.checkpoint} (epoch ${model.epoch}): ${axes}.`;
    if (!model.decodes) return `${what} ${model.reason ?? 'This model cannot decode a free latent point.'} Hover a point for its input and reconstruction.`;
    if (!model.variational) return `${what} A plain autoencoder has no prior: points far from the codes decode to whatever the decoder makes of them, and there is nothing to sample.`;
    return what;
  }

  private ensureRenderer(): ScatterRenderer {
    if (this.renderer) return this.renderer;
    const { renderer, canvas } = createScatter(this.canvas);
    if (canvas !== this.canvas) {
      this.canvas = canvas;
      this.listen(canvas);
    }
    this.renderer = renderer;
    return renderer;
  }

  private drawColourControls(): void {
    const points = this.points!;
    const dimensions = points.result.dimensions.map((dimension): [string, string] => [`dimension-${dimension.index}`, `z${dimension.index}`]);
    const colour = select('colour by', [['label', 'colour by label'], ['loss', 'colour by loss'], ...dimensions.map(([key, text]): [string, string] => [key, `colour by ${text}`])], this.state.colour);
    colour.addEventListener('change', () => {
      this.save({ colour: colour.value as ColourBy });
      this.recolour();
      this.renderer?.setColours(this.colours);
      this.drawLegend();
      this.redraw();
    });
    this.colourRow.replaceChildren(colour);
    this.drawLegend();
  }

  private drawLegend(): void {
    const points = this.points!;
    if (this.state.colour !== 'label') {
      const values = this.colourValues();
      const [low, high] = robustRange(values);
      const bar = element('span', { className: 'ramp' });
      this.legend.replaceChildren(element('span', { textContent: number(low) }), bar, element('span', { textContent: number(high) }), element('span', { className: 'units', textContent: this.state.colour === 'loss' ? points.result.model.units : '' }));
      return;
    }
    const palette = classColours(points.classes);
    this.legend.replaceChildren(...palette.map(([r, g, b], label) => {
      const hidden = this.state.hidden.includes(label);
      const button = element('button', { className: 'class', type: 'button', title: hidden ? `show class ${label}` : `hide class ${label}` }, element('span', { className: 'swatch' }), String(label));
      button.querySelector<HTMLSpanElement>('.swatch')!.style.background = `rgb(${r}, ${g}, ${b})`;
      button.setAttribute('aria-pressed', String(!hidden));
      button.dataset.label = String(label);
      button.addEventListener('click', () => {
        this.save({ hidden: hidden ? this.state.hidden.filter((other) => other !== label) : [...this.state.hidden, label] });
        this.recolour();
        this.renderer?.setColours(this.colours);
        this.drawLegend();
        this.redraw();
      });
      return button;
    }));
  }

  private colourValues(): Float32Array {
    const points = this.points!;
    if (this.state.colour === 'loss') return points.losses();
    const dimension = Number(this.state.colour.slice('dimension-'.length));
    const latent = points.result.model.latent;
    const means = points.means();
    return Float32Array.from({ length: points.result.count }, (_, row) => means[row * latent + dimension]);
  }

  private recolour(): void {
    const points = this.points!;
    const count = points.result.count;
    this.colours = new Uint8Array(count * 4);
    const hidden = new Set(this.state.hidden);
    if (this.state.colour === 'label') {
      const palette = classColours(points.classes);
      const alpha = Array.from({ length: points.classes }, (_, label) => (hidden.has(label) ? 0 : 220));
      for (let index = 0; index < count; index++) {
        const label = points.labels[index];
        const [r, g, b] = palette[label] ?? [128, 128, 128];
        const at = index * 4;
        this.colours[at] = r;
        this.colours[at + 1] = g;
        this.colours[at + 2] = b;
        this.colours[at + 3] = alpha[label] ?? 220;
      }
      return;
    }
    const values = this.colourValues();
    const [low, high] = robustRange(values);
    for (let index = 0; index < count; index++) this.colours.set([...ramp((values[index] - low) / (high - low)), hidden.has(points.labels[index]) ? 0 : 220], index * 4);
  }

  private visible = (index: number): boolean => this.colours[index * 4 + 3] > 0;

  private fit(): Camera {
    const { width, height } = this.measure();
    return fitCamera(this.points!.projected, this.points!.result.count, width, height);
  }

  /** The scatter's size as last laid out (read on every frame and pointer move, so not measured then). */
  private size(): { width: number; height: number } {
    return this.measured ?? this.measure();
  }

  /**
   * Square up to MAX_HEIGHT, and where the view is short, short enough that the images under it
   * are in the view with it, from the view's top down (in a side bar shared with other views, a
   * wheel over the scatter zooms, so scrolling to them would be a chore), but not below MIN_HEIGHT.
   */
  private measure(): { width: number; height: number } {
    const width = Math.max(120, this.root.clientWidth);
    const top = this.wrap.getBoundingClientRect().top + window.scrollY;
    return { width, height: Math.round(Math.max(MIN_HEIGHT, Math.min(MAX_HEIGHT, width, window.innerHeight - top - FIGURES_ROOM))) };
  }

  /** The side of each of the three images under the scatter: as big as IMAGE_SIDE while they fit side by side. */
  private imageSide(): number {
    return Math.max(28, Math.min(IMAGE_SIDE, Math.floor((this.root.clientWidth - IMAGE_GAPS) / 3)));
  }

  private layout(): void {
    this.measured = this.measure();
    const { width, height } = this.measured;
    const ratio = window.devicePixelRatio || 1;
    // A canvas given its size again is cleared, which the renderer would not know: only a new size is set.
    for (const canvas of [this.canvas, this.overlay]) {
      if (canvas.width !== Math.round(width * ratio)) canvas.width = Math.round(width * ratio);
      if (canvas.height !== Math.round(height * ratio)) canvas.height = Math.round(height * ratio);
      canvas.style.width = `${width}px`;
      canvas.style.height = `${height}px`;
    }
    this.wrap.style.height = `${height}px`;
    this.redraw();
  }

  private redraw(): void {
    cancelAnimationFrame(this.frame);
    this.frame = requestAnimationFrame(() => this.drawNow());
  }

  /**
   * The camera moves: frames show the last drawing moved until it stays still for SETTLE_MS, or,
   * for a drag (`until: 'release'`), until the drag ends: a pan's frame moved by whole pixels is
   * what drawing every point again would show, so a held drag need not draw them.
   */
  private move(camera: Camera, until: 'still' | 'release' = 'still'): void {
    this.save({ camera });
    this.moving = true;
    clearTimeout(this.settle);
    if (until === 'still') this.settle = setTimeout(() => this.settled(), SETTLE_MS);
    this.redraw();
  }

  private settled(): void {
    clearTimeout(this.settle);
    if (!this.moving) return;
    this.moving = false;
    this.redraw();
  }

  private drawNow(): void {
    cancelAnimationFrame(this.frame);
    const camera = this.state.camera;
    if (!this.renderer || !camera || !this.points) return;
    const { width, height } = this.size();
    this.renderer.draw(camera, width, height, POINT_SIZE, this.moving);
    this.canvas.dataset.camera = JSON.stringify({ ...camera, width, height });
    this.drawOverlay(camera, width, height);
  }

  /** The current point (a cross) and the picked examples (rings) over the scatter. */
  private drawOverlay(camera: Camera, width: number, height: number): void {
    const context = this.overlay.getContext('2d')!;
    const ratio = this.overlay.width / width;
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, width, height);
    const foreground = getComputedStyle(document.documentElement).getPropertyValue('--vscode-foreground').trim() || '#888';
    context.strokeStyle = foreground;
    context.lineWidth = 1.5;
    const screen = (x: number, y: number) => [(x - camera.x) * camera.scale + width / 2, height / 2 - (y - camera.y) * camera.scale];
    for (const index of this.state.picked) {
      const [x, y] = screen(this.points!.projected[index * 2], this.points!.projected[index * 2 + 1]);
      context.beginPath();
      context.arc(x, y, 6, 0, 2 * Math.PI);
      context.stroke();
    }
    const lasso = this.drag?.lasso;
    if (lasso && lasso.length > 1) {
      context.beginPath();
      lasso.forEach(([x, y], at) => {
        const [sx, sy] = screen(x, y);
        if (at === 0) context.moveTo(sx, sy);
        else context.lineTo(sx, sy);
      });
      context.setLineDash([4, 3]);
      context.stroke();
      context.setLineDash([]);
    }
    const place = this.state.current && this.project(this.state.current);
    if (place) {
      const [px, py] = place;
      const [x, y] = screen(px, py);
      context.beginPath();
      context.moveTo(x - 6, y);
      context.lineTo(x + 6, y);
      context.moveTo(x, y - 6);
      context.lineTo(x, y + 6);
      context.stroke();
    }
  }

  /** Screen pixels (CSS) → data coordinates. */
  private toData(event: PointerEvent | WheelEvent): [number, number] {
    const camera = this.state.camera!;
    const box = this.canvas.getBoundingClientRect();
    const { width, height } = this.size();
    return [camera.x + (event.clientX - box.left - width / 2) / camera.scale, camera.y - (event.clientY - box.top - height / 2) / camera.scale];
  }

  /** The latent vector a point of the picture stands for: the inverse projection. */
  private unproject(x: number, y: number): number[] {
    const { projection, model } = this.points!.result;
    if (projection.method === 'identity') return [x, y].slice(0, model.latent);
    if (projection.method === 'umap') {
      const row = Math.max(0, this.points!.picker().nearest(x, y, Number.MAX_VALUE));
      return Array.from(this.points!.means().subarray(row * model.latent, (row + 1) * model.latent));
    }
    return projection.mean.map((mean, column) => mean + x * projection.components[0][column] + y * projection.components[1][column]);
  }

  /** A latent vector's place in the picture. */
  private project(z: number[]): [number, number] | undefined {
    const { projection } = this.points!.result;
    if (projection.method === 'identity') return [z[0] ?? 0, z[1] ?? 0];
    if (projection.method === 'umap') return undefined;
    const [first, second] = projection.components;
    let x = 0, y = 0;
    z.forEach((value, column) => {
      x += (value - projection.mean[column]) * first[column];
      y += (value - projection.mean[column]) * second[column];
    });
    return [x, y];
  }

  private listen(canvas: HTMLCanvasElement): void {
    canvas.addEventListener('pointerdown', (event) => {
      if (!this.points) return;
      this.drag = { x: event.clientX, y: event.clientY, pan: event.shiftKey || event.button === 1, moved: false, ...(event.altKey ? { lasso: [this.toData(event)] } : {}) };
      // A drag that leaves the canvas keeps decoding; an event no pointer made (a script's) has nothing to capture.
      if (event.isTrusted) canvas.setPointerCapture(event.pointerId);
    });
    canvas.addEventListener('pointermove', (event) => this.pointerMove(event));
    canvas.addEventListener('pointercancel', () => {
      this.drag = undefined;
      this.settled();
    });
    canvas.addEventListener('pointerup', (event) => {
      const drag = this.drag;
      this.drag = undefined;
      if (drag?.lasso) return this.closeLasso(drag.lasso);
      if (drag?.pan) this.settled();
      if (!drag || drag.moved || !this.points) return;
      const index = this.pick(event);
      if (index >= 0) this.togglePick(index);
    });
    canvas.addEventListener('wheel', (event) => {
      if (!this.state.camera) return;
      event.preventDefault();
      const [x, y] = this.toData(event);
      const factor = Math.exp(-event.deltaY * 0.0015);
      const camera = this.state.camera;
      // The data point under the pointer stays under it.
      this.move({ x: x - (x - camera.x) / factor, y: y - (y - camera.y) / factor, scale: camera.scale * factor });
    }, { passive: false });
    canvas.addEventListener('keydown', (event) => {
      const camera = this.state.camera;
      if (!camera) return;
      const step = 40 / camera.scale;
      const moves: Record<string, Partial<Camera>> = { ArrowLeft: { x: camera.x - step }, ArrowRight: { x: camera.x + step }, ArrowUp: { y: camera.y + step }, ArrowDown: { y: camera.y - step }, '+': { scale: camera.scale * 1.25 }, '-': { scale: camera.scale / 1.25 }, '0': this.fit() };
      if (!moves[event.key]) return;
      event.preventDefault();
      this.move({ ...camera, ...moves[event.key] });
    });
  }

  private pick(event: PointerEvent): number {
    const [x, y] = this.toData(event);
    return this.points!.picker().nearest(x, y, PICK_RADIUS / this.state.camera!.scale, this.visible);
  }

  private pointerMove(event: PointerEvent): void {
    if (!this.points || !this.state.camera) return;
    const drag = this.drag;
    if (drag && (Math.abs(event.clientX - drag.x) + Math.abs(event.clientY - drag.y) > 2)) drag.moved = true;
    if (drag?.lasso) {
      drag.lasso.push(this.toData(event));
      this.redraw();
      return;
    }
    if (drag?.pan) {
      const camera = this.state.camera;
      this.move({ ...camera, x: camera.x - (event.clientX - drag.x) / camera.scale, y: camera.y + (event.clientY - drag.y) / camera.scale }, 'release');
      drag.x = event.clientX;
      drag.y = event.clientY;
      return;
    }
    const index = drag ? -1 : this.pick(event);
    if (index >= 0) {
      if (index !== this.hovered) {
        this.hovered = index;
        this.canvas.dataset.hovered = String(index);
        api.postMessage({ type: 'example', index: this.exampleOf(index) });
      }
      return;
    }
    this.hovered = -1;
    delete this.canvas.dataset.hovered;
    if (!this.points.result.model.decodes) return;
    const [x, y] = this.toData(event);
    const z = this.unproject(x, y);
    this.anchor = z;
    this.decode(z);
  }

  /** A point's example in the split (UMAP shows a subsample). */
  private exampleOf(row: number): number {
    return this.points!.result.indices?.[row] ?? row;
  }

  private closeLasso(polygon: [number, number][]): void {
    this.redraw();
    const inside = this.points!.picker().inside(polygon, this.visible);
    this.lassoSection.hidden = false;
    this.lassoSection.dataset.inside = String(inside.length);
    this.lassoCaption.textContent = inside.length === 0 ? 'No point inside the lasso.' : `${inside.length} points inside${inside.length > LASSO_LIMIT ? `; the first ${LASSO_LIMIT} shown` : ''}.`;
    if (inside.length === 0) {
      this.lassoCanvas.width = 0;
      return;
    }
    api.postMessage({ type: 'lasso', indices: inside.slice(0, LASSO_LIMIT).map((row) => this.exampleOf(row)) });
  }

  private decode(z: number[]): void {
    this.save({ current: z });
    this.decodes++;
    this.root.dataset.decodeRequests = String(this.decodes);
    api.postMessage({ type: 'decode', z, ...(this.points!.result.model.classes > 0 ? { label: this.label } : {}) });
    this.updateSliders(z);
    this.redraw();
  }

  private showExample(example: ExploreExampleResult): void {
    const points = this.points;
    if (!points) return;
    const side = this.imageSide();
    drawImage(this.input, decodeBase64(example.input), example.shape, 0, side);
    drawImage(this.reconstruction, decodeBase64(example.reconstruction), example.shape, 0, side);
    // Numbered from 1 as the notebook's image view numbers the same test images; data-index and the messages keep the split's 0-based index.
    this.hoverCaption.textContent = `#${example.index + 1} · label ${example.label} · loss ${number(example.loss)}${unitsSuffix(points.result.model.units)} (input, reconstruction)`;
    this.hover.dataset.index = String(example.index);
    this.hover.hidden = false;
    if (points.result.model.decodes) {
      this.anchor = example.mean;
      this.save({ current: example.mean });
      this.updateSliders(example.mean);
      this.redraw();
    }
  }

  private showDecoded(z: number[], images: ExploreImages): void {
    drawImage(this.decoded, decodeBase64(images.pixels), images.shape, 0, this.imageSide());
    this.decodedFigure.hidden = false;
    const points = this.points;
    const method = points?.result.projection.method;
    this.decodedCaption.textContent = method === 'pca' ? 'decoded: mean + a·PC1 + b·PC2' : method === 'umap' ? 'decoded: the nearest example\'s code' : 'decoded at this point';
    this.decoded.dataset.z = z.map((value) => value.toFixed(3)).join(',');
    this.root.dataset.decoded = String(Number(this.root.dataset.decoded ?? 0) + 1);
  }

  private drawSliders(): void {
    const points = this.points!;
    if (!points.result.model.decodes) {
      this.sliders.replaceChildren();
      return;
    }
    const reset = element('vscode-button', { secondary: true, textContent: 'Reset' });
    reset.addEventListener('click', () => {
      if (this.anchor) this.decode(this.anchor);
    });
    const units = points.result.model.variational ? `KL${points.result.model.units === 'nats' ? ' (nats)' : ''}` : 'variance of the code';
    const rows = points.result.dimensions.map((dimension) => {
      const range = element('input', { type: 'range', min: String(dimension.low), max: String(dimension.high), step: String((dimension.high - dimension.low) / 200), value: String((dimension.low + dimension.high) / 2) });
      range.dataset.dimension = String(dimension.index);
      range.setAttribute('aria-label', `z${dimension.index}`);
      range.addEventListener('input', () => {
        const z = [...(this.state.current ?? this.unproject(0, 0))];
        z[dimension.index] = Number(range.value);
        this.decode(z);
      });
      const name = element('label', { textContent: `z${dimension.index} ${number(dimension.kl)}${dimension.active ? '' : ' (inactive)'}`, title: `${units}: ${dimension.kl}` });
      const row = element('div', { className: dimension.active ? 'slider' : 'slider inactive' }, name, range);
      return row;
    });
    this.sliders.replaceChildren(element('div', { className: 'row' }, element('h3', { textContent: `Traverse (ordered by ${units})` }), reset), ...rows);
  }

  private updateSliders(z: number[]): void {
    for (const range of this.sliders.querySelectorAll<HTMLInputElement>('input[type=range]')) {
      const value = z[Number(range.dataset.dimension)];
      if (value !== undefined && document.activeElement !== range) range.value = String(value);
    }
  }

  private drawConditional(): void {
    const classes = this.points!.result.model.classes;
    const label = select('decode as class', Array.from({ length: classes }, (_, index): [string, string] => [String(index), `decode as class ${index}`]), String(this.label));
    label.addEventListener('change', () => {
      this.label = Number(label.value);
      if (this.state.current) this.decode(this.state.current);
    });
    const every = element('vscode-button', { secondary: true, textContent: 'Every class' });
    every.addEventListener('click', () => {
      if (this.state.current) api.postMessage({ type: 'decodeClasses', z: this.state.current });
    });
    this.conditional.replaceChildren(element('div', { className: 'row' }, label, every), this.classesCanvas);
  }

  private togglePick(index: number): void {
    const picked = this.state.picked.includes(index) ? this.state.picked.filter((other) => other !== index) : [...this.state.picked, index].slice(-2);
    this.save({ picked });
    this.redraw();
    if (picked.length === 2) this.interpolate();
  }

  private interpolate(): void {
    const points = this.points!;
    if (!points.result.model.decodes) return;
    const latent = points.result.model.latent;
    const means = points.means();
    const [from, to] = this.state.picked.map((index) => Array.from(means.subarray(index * latent, (index + 1) * latent)));
    if (!from || !to) return;
    api.postMessage({ type: 'interpolate', from, to, steps: STRIP_STEPS, method: points.result.model.variational ? 'slerp' : 'lerp', ...(points.result.model.classes > 0 ? { label: this.label } : {}) });
    this.stripCaption.textContent = `#${this.exampleOf(this.state.picked[0]) + 1} → #${this.exampleOf(this.state.picked[1]) + 1}, ${points.result.model.variational ? 'slerp' : 'lerp'} of their means`;
  }

  private showStrip(images: ExploreImages): void {
    this.strip.hidden = false;
    drawStrip(this.stripCanvas, decodeBase64(images.pixels), images.shape, images.count, 36);
  }
}

new ExplorerPage();
