/**
 * One image view in one output element: the fixed test examples (or the prior draws) at any epoch,
 * scrubbed with a slider, with the input against its reconstruction side by side (and the error
 * heatmap), by swipe, onion skin or flicker, or this epoch's reconstruction against another's.
 * Built once per element and patched afterwards (a newer snapshot, the host's messages), drawn in
 * one canvas. Its height is set once, when first drawn, to what its grid takes (at most
 * VIEW_HEIGHT), so that the notebook neither jumps while training nor shows an empty band.
 * Frames the view lacks are asked for by message and cached.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import type { VscodeButton } from '@vscode-elements/elements/dist/vscode-button/vscode-button.js';
import type { VscodeSingleSelect } from '@vscode-elements/elements/dist/vscode-single-select/vscode-single-select.js';
import type { ImagesRendererMessage } from '../../extension/images-protocol';
import { FrameCache, FrameRequests } from './frames';
import type { Camera, DiffMode, Panel, Scene } from './grid-drawing';
import { cameraBox, describeExample, GridDrawing, paneKinds } from './grid-drawing';
import type { Cell } from './layout';
import { contains } from './layout';
import type { IconName } from './icons';
import { icon } from './icons';
import type { Frame, HostMessage, Snapshot } from './messages';
import { parseFrame } from './messages';
import { IMAGES_STYLE } from './style';

/** The most height the whole output takes, in CSS pixels; a smaller grid takes less. */
export const VIEW_HEIGHT = 460;
const ZOOM_LIMIT = 64;

type Sort = 'index' | 'worst';

const DIFF_LABELS: Record<DiffMode, [string, string]> = {
  'side-by-side': ['Side by side', 'Input, reconstruction and the error heatmap |x − x̂| side by side'],
  swipe: ['Swipe', 'Drag the divider across any image: input on its left, reconstruction on its right'],
  onion: ['Onion', 'The reconstruction over the input at the opacity you set'],
  flicker: ['Flicker', 'Alternate input and reconstruction at the rate you set, or hold Space to see the input'],
  epochs: ['Epochs', "This epoch's reconstruction against another epoch's: what changed while training"],
};

function element<K extends keyof HTMLElementTagNameMap>(tag: K, properties: Partial<HTMLElementTagNameMap[K]> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const created = Object.assign(document.createElement(tag), properties);
  created.append(...children);
  return created;
}

export class ImageView {
  readonly root: HTMLDivElement;
  private snapshot: Snapshot;
  private epochs: number[];
  private live: boolean;
  private shown: number;
  /** The other epoch of an epoch-vs-epoch diff; follows "the one before" until the person picks one. */
  private compare: number | undefined;
  private compareChosen = false;
  /** The grid's diff mode, and the enlarged example's own (it starts as the grid's). */
  private gridDiff: DiffMode = 'side-by-side';
  private enlargedDiff: DiffMode = 'side-by-side';
  private panel: Panel;
  private sort: Sort = 'index';
  private swipe = 0.5;
  private onion = 0.5;
  private flickerRate = 2;
  private flickerInput = false;
  private holding = false;
  private enlarged: number | undefined;
  private camera: Camera = { x: 0, y: 0, zoom: 1 };
  private readonly cache = new FrameCache();
  private requests: FrameRequests;
  private readonly failed = new Map<number, string>();
  /** The newest frame drawn: shown (dimmed state) while the one wanted is on its way. */
  private drawn: Frame;
  /** The heatmaps on a fixed 0–1 scale (comparable across epochs) instead of this epoch's largest error. */
  private fullScale = false;
  private readonly canvas: HTMLCanvasElement;
  private readonly plot: HTMLDivElement;
  /** The output's height is set (once per view, at its first drawing with a width). */
  private sized = false;
  private readonly drawing: GridDrawing;
  private readonly slider: HTMLInputElement;
  private readonly epochLabel: HTMLSpanElement;
  private readonly epochNote: HTMLSpanElement;
  private readonly compareSlider: HTMLInputElement;
  private readonly compareLabel: HTMLSpanElement;
  private readonly compareField: HTMLLabelElement;
  private readonly onionField: HTMLLabelElement;
  private readonly flickerField: HTMLLabelElement;
  private readonly diffButtons = new Map<DiffMode, VscodeButton>();
  private readonly panelButtons = new Map<Panel, VscodeButton>();
  private readonly sortButtons = new Map<Sort, VscodeButton>();
  private readonly diffGroup: HTMLSpanElement;
  private readonly sortGroup: HTMLSpanElement;
  private readonly panelGroup: HTMLSpanElement;
  private readonly closeButton: VscodeButton;
  private readonly scaleButton: VscodeButton;
  private readonly status: HTMLDivElement;
  private readonly notice: HTMLDivElement;
  private readonly resizeWatch: ResizeObserver;
  private readonly themeWatch: MutationObserver;
  private flickerTimer: ReturnType<typeof setInterval> | undefined;
  private flickerTimerRate = 0;
  private drag: { pointerId: number; kind: 'swipe' | 'pan'; lastX: number; lastY: number; moved: boolean } | undefined;
  private hover: Cell | undefined;
  /** In the enlarged view, the pixel under the pointer and its values. */
  private hoverPixel: string | undefined;

  constructor(
    host: HTMLElement,
    snapshot: Snapshot,
    private readonly post: ((message: ImagesRendererMessage) => void) | undefined,
  ) {
    this.snapshot = snapshot;
    this.epochs = post ? snapshot.epochs : [snapshot.frame.epoch];
    this.live = snapshot.live;
    this.shown = snapshot.frame.epoch;
    this.drawn = snapshot.frame;
    this.cache.put(snapshot.frame);
    this.panel = ImageView.onlySamples(snapshot) ? 'samples' : 'reconstructions';
    this.requests = this.newRequests();

    this.root = element('div', { className: 'latent-lab-images', tabIndex: 0 });
    this.root.style.height = `${VIEW_HEIGHT}px`;
    this.root.setAttribute('role', 'group');
    this.root.setAttribute('aria-label', 'Latent Lab image view');

    this.panelGroup = element('span', { className: 'group' });
    for (const [panel, label] of [['reconstructions', 'Reconstructions'], ['samples', 'Samples']] as const) {
      const button = this.button(label, `Show the ${panel}`, () => this.setPanel(panel));
      button.dataset.panelChoice = panel;
      this.panelButtons.set(panel, button);
      this.panelGroup.append(button);
    }
    this.diffGroup = element('span', { className: 'group' });
    for (const mode of Object.keys(DIFF_LABELS) as DiffMode[]) {
      const button = this.button(DIFF_LABELS[mode][0], DIFF_LABELS[mode][1], () => this.setDiff(mode), mode);
      button.dataset.diffMode = mode;
      this.diffButtons.set(mode, button);
      this.diffGroup.append(button);
    }
    this.sortGroup = element('span', { className: 'group' });
    for (const [sort, label, title] of [['index', 'Index', 'The examples in their order'], ['worst', 'Worst first', 'The examples with the largest loss first']] as const) {
      const button = this.button(label, title, () => this.setSort(sort), sort);
      button.dataset.sort = sort;
      this.sortButtons.set(sort, button);
      this.sortGroup.append(button);
    }
    this.scaleButton = this.button('Scale 0–1', 'Colour the error on a fixed scale from 0 to full intensity, the same at every epoch (otherwise the scale ends at this epoch’s largest error)', () => {
      this.fullScale = !this.fullScale;
      this.refresh();
    }, 'scale');
    this.scaleButton.dataset.heatScale = 'full';
    this.closeButton = this.button('Close', 'Back to the grid (Escape)', () => this.setEnlarged(undefined), 'close');
    this.closeButton.hidden = true;
    const toolbar = element('div', { className: 'toolbar' }, this.panelGroup, this.diffGroup, element('span', { className: 'spacer' }), this.closeButton);

    this.slider = element('input', { type: 'range', className: 'epoch-slider', min: '0', step: '1' });
    this.slider.setAttribute('aria-label', 'epoch');
    this.slider.addEventListener('input', () => this.showEpoch(this.epochs[Number(this.slider.value)] ?? this.shown));
    this.epochLabel = element('span', { className: 'value epoch-label' });
    this.compareSlider = element('input', { type: 'range', className: 'compare-slider', min: '0', step: '1' });
    this.compareSlider.setAttribute('aria-label', 'compare with epoch');
    this.compareSlider.addEventListener('input', () => {
      this.compareChosen = true;
      this.compare = this.epochs[Number(this.compareSlider.value)];
      this.refresh();
    });
    this.compareLabel = element('span', { className: 'value' });
    this.compareField = element('label', { className: 'field', title: 'The epoch this one is compared with' }, 'against', this.compareSlider, this.compareLabel);
    const onionSlider = element('input', { type: 'range', className: 'onion-slider', min: '0', max: '100', value: String(this.onion * 100) });
    onionSlider.setAttribute('aria-label', 'reconstruction opacity');
    onionSlider.addEventListener('input', () => {
      this.onion = Number(onionSlider.value) / 100;
      this.draw();
    });
    this.onionField = element('label', { className: 'field', title: 'Opacity of the reconstruction over the input' }, 'opacity', onionSlider);
    const rate = element('vscode-single-select', { title: 'How often the flicker alternates; hold Space to see the input' }) as VscodeSingleSelect;
    rate.setAttribute('aria-label', 'flicker rate');
    for (const [value, label] of [['0', 'hold Space'], ['1', '1 per second'], ['2', '2 per second'], ['4', '4 per second']]) rate.append(element('vscode-option', { value, textContent: label, selected: Number(value) === this.flickerRate }));
    rate.addEventListener('change', () => {
      this.flickerRate = Number(rate.value);
      this.refresh();
    });
    this.flickerField = element('label', { className: 'field' }, 'flicker', rate);
    this.epochNote = element('span', { className: 'note' }, 'epoch');
    const scrub = element('div', { className: 'scrub' }, this.epochNote, this.slider, this.epochLabel, this.compareField, this.onionField, this.flickerField, this.scaleButton, this.sortGroup);

    this.canvas = element('canvas', { className: 'image-grid' });
    this.canvas.setAttribute('role', 'img');
    this.drawing = new GridDrawing(this.canvas);
    this.status = element('div', { className: 'status' });
    this.notice = element('div', { className: 'notice' });
    this.plot = element('div', { className: 'plot' }, this.canvas);
    this.root.append(element('style', { textContent: IMAGES_STYLE }), toolbar, scrub, this.plot, this.status, this.notice);
    host.replaceChildren(this.root);

    this.root.addEventListener('keydown', (event) => this.keyDown(event));
    this.root.addEventListener('keyup', (event) => {
      if (event.key !== ' ' || !this.holding) return;
      this.holding = false;
      this.draw();
    });
    this.canvas.addEventListener('pointerdown', (event) => this.pointerDown(event));
    this.canvas.addEventListener('pointermove', (event) => this.pointerMove(event));
    this.canvas.addEventListener('pointerup', (event) => this.pointerUp(event));
    this.canvas.addEventListener('pointercancel', () => (this.drag = undefined));
    this.canvas.addEventListener('pointerleave', () => {
      this.hover = undefined;
      this.refreshStatus();
    });
    this.canvas.addEventListener('wheel', (event) => this.wheel(event), { passive: false });
    this.resizeWatch = new ResizeObserver(() => this.draw());
    this.resizeWatch.observe(this.canvas);
    // VS Code restyles the page when the theme changes: the canvas's text and divider follow.
    this.themeWatch = new MutationObserver(() => {
      this.drawing.readTheme();
      this.draw();
    });
    this.themeWatch.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
    if (document.body) this.themeWatch.observe(document.body, { attributes: true, attributeFilter: ['class'] });
    this.refresh();
  }

  /** A sample cell's view, or a view with no fixed examples: there is nothing but samples to show. */
  private static onlySamples(snapshot: Snapshot): boolean {
    return snapshot.mode === 'sample' || (snapshot.count === 0 && snapshot.frame.samples !== undefined);
  }

  get viewId(): string {
    return this.snapshot.viewId;
  }

  /** The newest epoch this view holds (the `ready` message says it). */
  get newest(): number {
    return this.epochs.at(-1) ?? this.snapshot.frame.epoch;
  }

  /** A newer snapshot of the same output (the host replaced its items): the element stays. */
  load(snapshot: Snapshot): void {
    if (snapshot.viewId !== this.snapshot.viewId || snapshot.height !== this.snapshot.height || snapshot.width !== this.snapshot.width || snapshot.channels !== this.snapshot.channels || snapshot.count !== this.snapshot.count) {
      // Another view in the same element: nothing of the old one applies, its requests included.
      this.cache.keepOnly([]);
      this.failed.clear();
      this.requests = this.newRequests();
      this.epochs = [];
      this.shown = snapshot.frame.epoch;
      this.drawn = snapshot.frame;
      this.enlarged = undefined;
      this.compare = undefined;
      this.compareChosen = false;
      this.gridDiff = 'side-by-side';
      this.sort = 'index';
      this.panel = 'reconstructions';
      this.swipe = 0.5;
      this.hover = undefined;
      this.hoverPixel = undefined;
      this.notice.textContent = '';
      this.sized = false;
    }
    this.snapshot = snapshot;
    this.panel = ImageView.onlySamples(snapshot) ? 'samples' : this.panel;
    this.cache.put(snapshot.frame);
    const known = this.post ? snapshot.epochs : [snapshot.frame.epoch];
    // Messages may already have brought more epochs than this snapshot lists.
    this.setEpochs(known.at(-1)! >= (this.epochs.at(-1) ?? -1) ? known : this.epochs, snapshot.live);
  }

  receive(message: HostMessage): void {
    switch (message.type) {
      case 'epochs': {
        if (message.frame !== undefined) {
          const frame = parseFrame(message.frame, this.snapshot);
          if (typeof frame === 'string') this.warn(`epochs message: ${frame}`);
          else if (!message.epochs.includes(frame.epoch)) this.warn(`epochs message: frame.epoch ${frame.epoch} is not among its epochs`);
          else this.cache.put(frame);
        }
        if (!this.post) return;
        // The host has looked again: an epoch it could not send before is asked for again.
        this.failed.clear();
        this.setEpochs(message.epochs, message.live);
        return;
      }
      case 'frame': {
        const request = this.requests.settle(message.requestId);
        // An answer to a request this view did not make (or no longer waits for) changes nothing.
        if (!request) return;
        const frame = parseFrame(message.frame, this.snapshot);
        if (typeof frame === 'string') {
          this.failed.set(request.epoch, frame);
          this.warn(`frame message: ${frame}`);
        } else if (frame.epoch !== request.epoch) {
          this.failed.set(request.epoch, `the host answered with epoch ${frame.epoch}`);
          this.warn(`frame message: asked for epoch ${request.epoch}, got epoch ${frame.epoch}`);
        } else this.cache.put(frame);
        this.refresh();
        return;
      }
      case 'frame-error': {
        const request = this.requests.settle(message.requestId);
        if (!request) return;
        this.failed.set(request.epoch, `${message.error.name}: ${message.error.message}`);
        this.refresh();
        return;
      }
    }
  }

  /** A one-line notice for input that was dropped; the view goes on as it was. */
  warn(text: string): void {
    this.notice.textContent = `Dropped: ${text}`;
    this.notice.title = text;
  }

  dispose(): void {
    if (this.flickerTimer !== undefined) clearInterval(this.flickerTimer);
    this.resizeWatch.disconnect();
    this.themeWatch.disconnect();
    this.root.remove();
  }

  private newRequests(): FrameRequests {
    return new FrameRequests(({ requestId, epoch }) => this.post?.({ type: 'frame', viewId: this.snapshot.viewId, requestId, epoch }));
  }

  private button(label: string, title: string, action: () => void, name?: IconName): VscodeButton {
    const button = element('vscode-button', { secondary: true, title, className: name ? 'iconic' : '' }, ...(name ? [icon(name)] : []), element('span', { className: name ? 'label iconic' : 'label' }, label)) as VscodeButton;
    button.setAttribute('aria-label', label);
    button.addEventListener('click', action);
    return button;
  }

  private setEpochs(epochs: number[], live: boolean): void {
    const wasNewest = this.shown === this.newest;
    this.epochs = epochs.length > 0 ? epochs : [this.snapshot.frame.epoch];
    this.live = live;
    this.cache.keepOnly(this.epochs);
    for (const epoch of [...this.failed.keys()]) if (!this.epochs.includes(epoch)) this.failed.delete(epoch);
    // The person's place stays where they put it, unless they were watching the newest epoch.
    if (wasNewest || !this.epochs.includes(this.shown)) this.shown = wasNewest ? this.newest : this.nearest(this.shown);
    if (this.compare !== undefined && !this.epochs.includes(this.compare)) this.compare = this.nearest(this.compare);
    this.refresh();
  }

  private nearest(epoch: number): number {
    let best = this.epochs[0];
    for (const known of this.epochs) if (known <= epoch) best = known;
    return best;
  }

  private showEpoch(epoch: number): void {
    if (epoch === this.shown) return;
    this.shown = epoch;
    this.refresh();
  }

  private step(by: number | 'first' | 'last'): void {
    const index = this.epochs.indexOf(this.shown);
    const next = by === 'first' ? 0 : by === 'last' ? this.epochs.length - 1 : Math.min(this.epochs.length - 1, Math.max(0, index + by));
    this.showEpoch(this.epochs[next]);
  }

  /** The mode on screen: the enlarged example's while one is enlarged, the grid's otherwise. */
  private get diff(): DiffMode {
    return this.enlarged === undefined ? this.gridDiff : this.enlargedDiff;
  }

  private setDiff(mode: DiffMode): void {
    if (this.enlarged === undefined) this.gridDiff = mode;
    else this.enlargedDiff = mode;
    this.refresh();
  }

  private setPanel(panel: Panel): void {
    if (panel === 'samples' && !this.hasSamples()) return;
    this.panel = panel;
    this.enlarged = undefined;
    this.refresh();
  }

  private setSort(sort: Sort): void {
    this.sort = sort;
    this.refresh();
  }

  private setEnlarged(index: number | undefined): void {
    this.enlarged = index;
    this.enlargedDiff = this.gridDiff;
    this.camera = { x: this.snapshot.width / 2, y: this.snapshot.height / 2, zoom: 1 };
    this.refresh();
  }

  private hasSamples(): boolean {
    return this.snapshot.frame.samples !== undefined || this.drawn.samples !== undefined;
  }

  private compareEpoch(): number | undefined {
    if (this.compareChosen && this.compare !== undefined) return this.compare;
    const index = this.epochs.indexOf(this.shown);
    if (this.epochs.length < 2) return undefined;
    return this.epochs[index > 0 ? index - 1 : 1];
  }

  /** State to screen: the controls, the frames to ask for, the data attributes, then the canvas. */
  private refresh(): void {
    const samplesOnly = ImageView.onlySamples(this.snapshot);
    const onSamples = this.panel === 'samples';
    this.compare = this.compareEpoch();
    const wanted = [this.shown, ...(this.diff === 'epochs' && !onSamples && this.compare !== undefined ? [this.compare] : [])];
    this.requests.want(this.post ? wanted.filter((epoch) => !this.cache.has(epoch) && !this.failed.has(epoch)) : []);

    const index = Math.max(0, this.epochs.indexOf(this.shown));
    this.slider.max = String(this.epochs.length - 1);
    this.slider.value = String(index);
    this.slider.setAttribute('aria-valuetext', `epoch ${this.shown}`);
    // One epoch (a final checkpoint's view, or the first epoch of a run) has nothing to scrub.
    const single = this.epochs.length < 2;
    this.slider.hidden = single;
    this.epochNote.hidden = single;
    const training = this.live ? ' · training' : '';
    this.epochLabel.textContent = single ? `epoch ${this.shown}${this.finalCheckpoint ? ', final checkpoint' : ''}${training}` : `${this.shown} (${index + 1} of ${this.epochs.length})${training}`;
    this.compareSlider.max = String(this.epochs.length - 1);
    this.compareSlider.value = String(Math.max(0, this.epochs.indexOf(this.compare ?? this.shown)));
    this.compareSlider.disabled = this.epochs.length < 2;
    this.compareLabel.textContent = this.compare === undefined ? 'no other epoch' : String(this.compare);
    this.compareField.hidden = this.diff !== 'epochs' || onSamples;
    this.onionField.hidden = this.diff !== 'onion' || onSamples;
    this.flickerField.hidden = this.diff !== 'flicker' || onSamples;
    this.panelGroup.hidden = samplesOnly || !this.hasSamples();
    this.diffGroup.hidden = onSamples;
    this.sortGroup.hidden = onSamples || this.enlarged !== undefined;
    this.closeButton.hidden = this.enlarged === undefined;
    for (const [mode, button] of this.diffButtons) this.select(button, mode === this.diff);
    this.diffButtons.get('epochs')!.disabled = single;
    this.diffButtons.get('epochs')!.hidden = this.finalCheckpoint;
    for (const [panel, button] of this.panelButtons) this.select(button, panel === this.panel);
    for (const [sort, button] of this.sortButtons) this.select(button, sort === this.sort);
    this.select(this.scaleButton, this.fullScale);
    this.scaleButton.hidden = onSamples || !paneKinds(this.diff, this.snapshot).some((kind) => kind === 'error' || kind === 'change');
    this.sortButtons.get('worst')!.disabled = !this.frameFor(this.shown)?.loss;

    const rate = this.diff === 'flicker' && !onSamples ? this.flickerRate : 0;
    if (rate !== this.flickerTimerRate) {
      if (this.flickerTimer !== undefined) clearInterval(this.flickerTimer);
      this.flickerTimer = undefined;
      this.flickerTimerRate = rate;
      if (rate > 0) {
        this.flickerTimer = setInterval(() => {
          this.flickerInput = !this.flickerInput;
          this.draw();
        }, 500 / rate);
      }
    }

    const data = this.root.dataset;
    data.viewId = this.snapshot.viewId;
    data.epoch = String(this.shown);
    data.epochs = String(this.epochs.length);
    data.diff = this.diff;
    data.panel = this.panel;
    data.sort = this.sort;
    const missing = wanted.filter((epoch) => !this.cache.has(epoch));
    data.state = missing.some((epoch) => this.failed.has(epoch)) ? 'error' : missing.length > 0 ? 'loading' : 'ready';
    if (this.enlarged === undefined) delete data.enlarged;
    else data.enlarged = String(this.enlarged);
    this.refreshStatus();
    this.draw();
  }

  /** Only what changed is set: each change re-renders the control, and a scrub must stay within a frame. */
  private select(button: VscodeButton, selected: boolean): void {
    if (button.getAttribute('aria-pressed') === String(selected)) return;
    button.secondary = !selected;
    button.setAttribute('aria-pressed', String(selected));
  }

  private frameFor(epoch: number | undefined): Frame | undefined {
    return epoch === undefined ? undefined : this.cache.get(epoch);
  }

  private refreshStatus(): void {
    const failure = this.failed.get(this.shown) ?? (this.diff === 'epochs' && this.compare !== undefined ? this.failed.get(this.compare) : undefined);
    let text: string;
    if (failure) text = `Cannot show epoch ${this.failed.has(this.shown) ? this.shown : this.compare}: ${failure}`;
    else if (this.root.dataset.state === 'loading') text = `Loading epoch ${this.shown}…`;
    else if (this.hover) text = this.hoverPixel ?? this.describe(this.hover);
    else if (!this.post) text = `Only epoch ${this.snapshot.frame.epoch} is stored in this output; other epochs come from the Latent Lab extension, which is not connected to this view.`;
    else if (this.enlarged !== undefined) text = 'Wheel zooms and drag pans every pane together · Escape closes';
    else if (this.panel === 'samples') text = this.finalCheckpoint ? "The final checkpoint's decoding of prior draws." : 'The same prior draws decoded at every epoch.';
    else text = `Click an image to enlarge it${this.epochs.length > 1 || this.live ? ' · ←/→ step epochs' : ''}${this.diff === 'swipe' ? ' · drag across an image to swipe' : ''}`;
    this.status.textContent = text;
    this.status.title = text;
  }

  private describe(cell: Cell): string {
    if (cell.kind === 'sample') return `sample ${cell.index + 1} at epoch ${this.shown}`;
    return describeExample(this.snapshot, this.frameFor(this.shown) ?? this.drawn, cell.index);
  }

  private order(frame: Frame): number[] {
    const order = Array.from({ length: this.snapshot.count }, (_, index) => index);
    const loss = frame.loss;
    if (this.sort === 'worst' && loss) order.sort((a, b) => loss[b] - loss[a] || a - b);
    return order;
  }

  /** A reconstruct or sample cell's view: the final checkpoint's images, one epoch that stays one. */
  private get finalCheckpoint(): boolean {
    return this.snapshot.mode !== 'history';
  }

  /**
   * The output's height, once: the controls' height (measured at the largest height) and the
   * canvas height the grid takes at this width. Later epochs, diff modes and widths draw in it.
   */
  private sizeToContent(scene: Scene): void {
    const width = this.plot.clientWidth;
    if (width === 0) return;
    this.root.style.height = `${VIEW_HEIGHT}px`;
    const available = this.plot.clientHeight;
    const wanted = this.drawing.contentHeight(scene, width, available);
    this.root.style.height = `${VIEW_HEIGHT - Math.max(0, available - wanted)}px`;
    this.sized = true;
  }

  private draw(): void {
    const frame = this.frameFor(this.shown) ?? this.drawn;
    this.drawn = frame;
    const scene: Scene = {
      snapshot: this.snapshot,
      frame,
      other: this.diff === 'epochs' ? this.frameFor(this.compare) : undefined,
      compare: this.compare,
      diff: this.diff,
      panel: this.panel,
      order: this.order(frame),
      enlarged: this.enlarged,
      camera: this.camera,
      swipe: this.swipe,
      onion: this.onion,
      showsInput: this.holding || (this.flickerRate > 0 && this.flickerInput),
      fullScale: this.fullScale,
    };
    if (!this.sized) this.sizeToContent(scene);
    this.drawing.draw(scene);
    this.canvas.setAttribute('aria-label', this.panel === 'samples' ? `samples at epoch ${frame.epoch}` : `${this.snapshot.count} examples at epoch ${frame.epoch}, ${DIFF_LABELS[this.diff][0].toLowerCase()}`);
  }

  private keyDown(event: KeyboardEvent): void {
    // The sliders step themselves; the rest of the view steps the epoch slider.
    const target = event.target as HTMLElement | null;
    if (target instanceof HTMLInputElement || target?.tagName === 'VSCODE-SINGLE-SELECT') return;
    const steps: Record<string, number | 'first' | 'last'> = { ArrowLeft: -1, ArrowRight: 1, Home: 'first', End: 'last' };
    if (event.key in steps) {
      event.preventDefault();
      this.step(steps[event.key]);
    } else if (event.key === 'Escape' && this.enlarged !== undefined) {
      event.preventDefault();
      this.setEnlarged(undefined);
    } else if (event.key === ' ' && this.diff === 'flicker') {
      event.preventDefault();
      if (!this.holding) {
        this.holding = true;
        this.draw();
      }
    }
  }

  private cellAt(event: PointerEvent | WheelEvent): Cell | undefined {
    const bounds = this.canvas.getBoundingClientRect();
    const x = event.clientX - bounds.left;
    const y = event.clientY - bounds.top;
    return this.drawing.cells.find((cell) => contains(cell, x, y));
  }

  private pointerDown(event: PointerEvent): void {
    if (event.button !== 0) return;
    const cell = this.cellAt(event);
    if (!cell) return;
    const swipe = this.diff === 'swipe' && cell.kind === 'composite';
    this.drag = { pointerId: event.pointerId, kind: swipe ? 'swipe' : 'pan', lastX: event.clientX, lastY: event.clientY, moved: false };
    this.canvas.setPointerCapture(event.pointerId);
    if (swipe) this.moveDivider(cell, event);
  }

  private pointerMove(event: PointerEvent): void {
    const drag = this.drag;
    if (!drag || drag.pointerId !== event.pointerId) {
      const cell = this.cellAt(event);
      const pixel = this.enlarged !== undefined && cell ? this.pixelAt(cell, event) : undefined;
      if (cell?.index !== this.hover?.index || cell?.kind !== this.hover?.kind || pixel !== this.hoverPixel) {
        this.hover = cell;
        this.hoverPixel = pixel;
        this.refreshStatus();
      }
      return;
    }
    const dx = event.clientX - drag.lastX;
    const dy = event.clientY - drag.lastY;
    if (Math.abs(dx) + Math.abs(dy) > 2) drag.moved = true;
    if (drag.kind === 'swipe') {
      const bounds = this.canvas.getBoundingClientRect();
      const x = event.clientX - bounds.left;
      const y = event.clientY - bounds.top;
      const cell = this.drawing.cells.find((candidate) => candidate.kind === 'composite' && x >= candidate.x - 40 && x <= candidate.x + candidate.width + 40 && y >= candidate.y && y < candidate.y + candidate.height) ?? this.drawing.cells.find((candidate) => candidate.kind === 'composite');
      if (cell) this.moveDivider(cell, event);
    } else if (this.enlarged !== undefined) {
      const pane = this.drawing.cells[0];
      const scale = Math.min(pane.width / this.snapshot.width, pane.height / this.snapshot.height) * this.camera.zoom;
      this.camera = { ...this.camera, x: this.camera.x - dx / scale, y: this.camera.y - dy / scale };
      this.draw();
    }
    drag.lastX = event.clientX;
    drag.lastY = event.clientY;
  }

  private pointerUp(event: PointerEvent): void {
    const drag = this.drag;
    if (!drag || drag.pointerId !== event.pointerId) return;
    this.drag = undefined;
    if (drag.kind === 'pan' && !drag.moved && this.enlarged === undefined) {
      const cell = this.cellAt(event);
      if (cell && cell.kind !== 'sample') this.setEnlarged(cell.index);
    }
  }

  /** The enlarged image's pixel under the pointer: the input's, the reconstruction's and their difference, in 0–1. */
  private pixelAt(pane: Cell, event: PointerEvent): string | undefined {
    const { width, height, channels, inputs } = this.snapshot;
    const bounds = this.canvas.getBoundingClientRect();
    const image = cameraBox(pane, this.snapshot, this.camera);
    const column = Math.floor(((event.clientX - bounds.left - image.x) / image.width) * width);
    const row = Math.floor(((event.clientY - bounds.top - image.y) / image.height) * height);
    if (column < 0 || row < 0 || column >= width || row >= height) return undefined;
    const at = ((pane.index * height + row) * width + column) * channels;
    const value = (pixels: Uint8Array | undefined) => (pixels ? Array.from(pixels.subarray(at, at + channels), (byte) => (byte / 255).toFixed(2)).join(' ') : '–');
    const reconstructions = (this.frameFor(this.shown) ?? this.drawn).reconstructions;
    let error = 0;
    if (inputs && reconstructions) for (let channel = 0; channel < channels; channel++) error += Math.abs(inputs[at + channel] - reconstructions[at + channel]) / 255 / channels;
    return `pixel (${column}, ${row}) · input ${value(inputs)} · reconstruction ${value(reconstructions)} · |x − x̂| ${inputs && reconstructions ? error.toFixed(2) : '–'}`;
  }

  /** The divider follows the pointer, as a fraction of the image's width: the same in every pane. */
  private moveDivider(cell: Cell, event: PointerEvent): void {
    const bounds = this.canvas.getBoundingClientRect();
    const image = this.enlarged === undefined ? cell : cameraBox(cell, this.snapshot, this.camera);
    this.swipe = Math.min(1, Math.max(0, (event.clientX - bounds.left - image.x) / image.width));
    this.root.dataset.swipe = this.swipe.toFixed(3);
    this.draw();
  }

  private wheel(event: WheelEvent): void {
    if (this.enlarged === undefined) return;
    const pane = this.cellAt(event);
    if (!pane) return;
    event.preventDefault();
    const bounds = this.canvas.getBoundingClientRect();
    const fit = Math.min(pane.width / this.snapshot.width, pane.height / this.snapshot.height);
    const before = fit * this.camera.zoom;
    const zoom = Math.min(ZOOM_LIMIT, Math.max(1, this.camera.zoom * Math.exp(-event.deltaY / 300)));
    const after = fit * zoom;
    // The image point under the pointer stays under it.
    const offsetX = event.clientX - bounds.left - (pane.x + pane.width / 2);
    const offsetY = event.clientY - bounds.top - (pane.y + pane.height / 2);
    const pointX = this.camera.x + offsetX / before;
    const pointY = this.camera.y + offsetY / before;
    this.camera = { zoom, x: pointX - offsetX / after, y: pointY - offsetY / after };
    this.root.dataset.zoom = zoom.toFixed(3);
    this.draw();
  }
}
