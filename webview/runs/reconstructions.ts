/**
 * The selected runs' reconstructions of one epoch side by side: the shared test inputs on top when
 * the runs were tested on the same images, then one row per run; an epoch slider over the epochs
 * they all have.
 */
import type { HostMessage } from '../../extension/runs-panel-protocol';

type ViewsMessage = Extract<HostMessage, { type: 'views' }>;

/** On-screen size of one image: small images are enlarged, pixel for pixel. */
const IMAGE_PIXELS = 56;

function element<K extends keyof HTMLElementTagNameMap>(tag: K, properties: Partial<HTMLElementTagNameMap[K]> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const created = Object.assign(document.createElement(tag), properties);
  created.append(...children);
  return created;
}

function bytes(text: string): Uint8Array {
  const binary = atob(text);
  const result = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index++) result[index] = binary.charCodeAt(index);
  return result;
}

/** A strip of `count` images [h, w, c] (c = 1 or 3) drawn side by side. */
function strip(pixels: Uint8Array, count: number, [height, width, channels]: [number, number, number], label: string): HTMLCanvasElement {
  const canvas = element('canvas', { width: width * count, height });
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', label);
  const scale = Math.max(1, Math.floor(IMAGE_PIXELS / Math.max(height, width)));
  canvas.style.width = `${width * count * scale}px`;
  canvas.style.height = `${height * scale}px`;
  const image = new ImageData(width * count, height);
  for (let index = 0; index < count; index++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const from = ((index * height + y) * width + x) * channels;
        const to = (y * width * count + index * width + x) * 4;
        image.data[to] = pixels[from];
        image.data[to + 1] = pixels[from + (channels === 3 ? 1 : 0)];
        image.data[to + 2] = pixels[from + (channels === 3 ? 2 : 0)];
        image.data[to + 3] = 255;
      }
    }
  }
  canvas.getContext('2d')!.putImageData(image, 0, 0);
  return canvas;
}

export class Reconstructions {
  readonly root: HTMLDivElement;
  private readonly slider: HTMLInputElement;
  private readonly epochLabel: HTMLSpanElement;
  private readonly grid: HTMLDivElement;
  private readonly notes: HTMLDivElement;
  private epochs: number[] = [];
  private shown: ViewsMessage | undefined;

  constructor(private readonly labelOf: (run: string) => string, private readonly askEpoch: (epoch: number) => void) {
    this.slider = element('input', { type: 'range', min: '0', max: '0', step: '1', value: '0' });
    this.slider.setAttribute('aria-label', 'epoch of the reconstructions');
    this.slider.addEventListener('input', () => {
      const epoch = this.epochs[Number(this.slider.value)];
      if (epoch !== undefined) this.askEpoch(epoch);
    });
    this.epochLabel = element('span', { className: 'note' });
    this.grid = element('div', { className: 'views' });
    this.notes = element('div', { className: 'note' });
    this.root = element('div', {}, element('div', { className: 'toolbar' }, element('label', {}, 'epoch ', this.slider), this.epochLabel), this.grid, this.notes);
  }

  /** The runs' labels changed (another run selected): the rows are named again. */
  relabel(): void {
    if (this.shown) this.show(this.shown);
  }

  show(message: ViewsMessage): void {
    this.shown = message;
    this.epochs = message.epochs;
    const index = message.epoch === undefined ? -1 : message.epochs.indexOf(message.epoch);
    this.slider.max = String(Math.max(0, message.epochs.length - 1));
    this.slider.value = String(Math.max(0, index));
    this.slider.disabled = message.epochs.length < 2;
    this.epochLabel.textContent = message.epoch === undefined ? '' : `${message.epoch} (of ${message.epochs.length} in common)`;
    const cells: Node[] = [];
    if (message.sharedInputs && message.shape && message.runs.length > 0) {
      cells.push(element('span', { textContent: 'test inputs' }), strip(bytes(message.sharedInputs), message.runs[0].count, message.shape, 'the test inputs the runs share'));
    }
    for (const run of message.runs) {
      const label = this.labelOf(run.run);
      if (run.inputs) cells.push(element('span', { className: 'note', textContent: `${label}: its inputs` }), strip(bytes(run.inputs), run.count, run.shape, `${label}: test inputs`));
      const canvas = strip(bytes(run.reconstructions), run.count, run.shape, `${label}: reconstructions at epoch ${run.epoch}`);
      canvas.dataset.run = run.run;
      cells.push(element('span', { textContent: label }), canvas);
    }
    if (cells.length === 0) cells.push(element('span', { className: 'empty', textContent: 'Select runs to see their reconstructions.' }));
    this.grid.replaceChildren(...cells);
    this.notes.replaceChildren(...message.notes.map((note) => element('div', { textContent: note })));
    this.root.dataset.epoch = String(message.epoch ?? '');
    this.root.dataset.runs = String(message.runs.length);
    this.root.dataset.shared = String(Boolean(message.sharedInputs));
  }
}
