/**
 * The image-view renderer in a real browser (Debian's Chromium through playwright-core), loading
 * the built bundle (dist/webview/images.js) as VS Code does, with a stand-in for the renderer
 * context that records what the renderer posts and delivers what the test sends. The canvas is
 * read back pixel by pixel; where each pane lies comes from the canvas's data-cells.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { ImagesHostMessage, ImagesRendererMessage, ImageViewSnapshot, ViewFrame } from '../../extension/images-protocol';
import { FrameCache } from '../../webview/images/frames';
import { RendererPage, rendererContextScript } from '../helpers/renderer-page';

const root = path.resolve(__dirname, '..', '..');
const bundle = path.join(root, 'dist', 'webview', 'images.js');
const artifacts = path.join(root, 'artifacts', 'webview');

/** What the page offers the test (see PAGE). */
interface Harness {
  render(snapshot: unknown, target?: string): void;
  receive(message: unknown): void;
  sent: unknown[];
  root(target?: string): { dataset: Record<string, string | undefined> } | null;
  pixel(x: number, y: number, target?: string): number[];
  colours(box: Cell, target?: string): string[];
  scale(target?: string): string | undefined;
  cells(target?: string): Cell[];
  headers(target?: string): { text: string; x: number; width: number }[];
  theme(variables: string): void;
  heights(target?: string): Heights;
  widths(selector: string): number[];
  resize(width: number | undefined, target?: string): void;
  look(selector: string): Look;
}
/** The view's outer height, its canvas's, and the bottom of its lowest pane, in CSS pixels. */
interface Heights {
  root: number;
  canvas: number;
  panes: number;
}
/** A vscode-button as drawn: its pressed state and its shadow box's colours. */
interface Look {
  pressed: string | null;
  background: string;
  border: string;
}
interface Cell {
  index: number;
  kind: string;
  x: number;
  y: number;
  width: number;
  height: number;
}
/** Only called inside browser.page.evaluate: the page's own global of that name answers there. */
const harness = () => (globalThis as unknown as { harness: () => Harness }).harness();

const DARK = '--vscode-foreground:#cccccc; --vscode-descriptionForeground:#9d9d9d; --vscode-editor-background:#1f1f1f; --vscode-focusBorder:#0078d4; --vscode-button-background:#0078d4; --vscode-button-foreground:#ffffff; --vscode-button-secondaryBackground:#313131; --vscode-scrollbarSlider-background:#79797966; --vscode-button-secondaryForeground:#cccccc; --vscode-errorForeground:#f85149; --vscode-font-family:system-ui, sans-serif; --vscode-font-size:13px';
const LIGHT = '--vscode-foreground:#3b3b3b; --vscode-descriptionForeground:#717171; --vscode-editor-background:#ffffff; --vscode-focusBorder:#005fb8; --vscode-button-background:#005fb8; --vscode-button-foreground:#ffffff; --vscode-button-secondaryBackground:#e5e5e5; --vscode-scrollbarSlider-background:#64646466; --vscode-button-secondaryForeground:#3b3b3b; --vscode-errorForeground:#f85149; --vscode-font-family:system-ui, sans-serif; --vscode-font-size:13px';
// As VS Code's high-contrast theme: one button background, and no secondary one (its colour registry gives none).
const HIGH_CONTRAST = '--vscode-foreground:#ffffff; --vscode-descriptionForeground:#ffffff; --vscode-editor-background:#000000; --vscode-focusBorder:#f38518; --vscode-contrastBorder:#6fc3df; --vscode-contrastActiveBorder:#f38518; --vscode-scrollbarSlider-background:#6fc3df99; --vscode-button-background:#000000; --vscode-button-foreground:#ffffff; --vscode-button-border:#6fc3df; --vscode-button-secondaryForeground:#ffffff; --vscode-errorForeground:#f48771; --vscode-font-family:system-ui, sans-serif; --vscode-font-size:13px';

// VS Code sets the theme's variables on the root element of a webview. Two outputs: one whose
// context has messaging, one without (a notebook opened where the extension cannot answer).
const PAGE = `<!doctype html><html style="${DARK}"><head><meta charset="utf-8"></head>
<body style="margin:0; width:900px; background: var(--vscode-editor-background)">
<div id="output"></div><div id="offline"></div><div id="blank"></div>
<script type="module">
import { activate } from '/images.js';
${rendererContextScript('application/vnd.latent-lab.images+json')}
const renderers = { output: await activate(context), offline: await activate({ ...context, postMessage: undefined, onDidReceiveMessage: undefined }), blank: await activate(context) };
const canvas = (target) => document.querySelector('#' + target + ' canvas.image-grid');
const api = {
  render: (snapshot, target = 'output') => renderers[target].renderOutputItem(outputItem(snapshot, target + '-item'), document.getElementById(target), new AbortController().signal),
  receive: deliver,
  sent,
  root: (target = 'output') => document.querySelector('#' + target + ' .latent-lab-images'),
  pixel: (x, y, target = 'output') => [...canvas(target).getContext('2d').getImageData(Math.round(x * devicePixelRatio), Math.round(y * devicePixelRatio), 1, 1).data],
  cells: (target = 'output') => JSON.parse(canvas(target).dataset.cells || '[]'),
  scale: (target = 'output') => canvas(target).dataset.scale,
  headers: (target = 'output') => JSON.parse(canvas(target).dataset.headers || '[]'),
  // Every distinct RGB of a pane, one pixel in from each edge (the edge may blend with the background).
  colours: (box, target = 'output') => {
    const ratio = devicePixelRatio;
    const data = canvas(target).getContext('2d').getImageData(Math.ceil((box.x + 1) * ratio), Math.ceil((box.y + 1) * ratio), Math.floor((box.width - 2) * ratio), Math.floor((box.height - 2) * ratio)).data;
    const seen = new Set();
    for (let at = 0; at < data.length; at += 4) seen.add(data[at] + ',' + data[at + 1] + ',' + data[at + 2]);
    return [...seen];
  },
  theme: (variables) => { document.documentElement.setAttribute('style', variables); },
  heights: (target = 'output') => ({ root: api.root(target).getBoundingClientRect().height, canvas: canvas(target).getBoundingClientRect().height, panes: Math.max(...api.cells(target).map((cell) => cell.y + cell.height)) }),
  widths: (selector) => [...document.querySelectorAll(selector)].map((element) => element.getBoundingClientRect().width),
  resize: (width, target = 'output') => { document.getElementById(target).style.width = width === undefined ? '' : width + 'px'; },
  look: (selector) => {
    const button = document.querySelector(selector);
    const base = getComputedStyle(button.shadowRoot.querySelector('[part="base"]'));
    return { pressed: button.getAttribute('aria-pressed'), background: base.backgroundColor, border: base.borderTopColor };
  },
};
window.harness = () => api;
window.loaded = true;
</script></body></html>`;

const browser = new RendererPage({ bundle, html: PAGE, viewport: { width: 900, height: 1000 } });

const SIDE = 16;
const IMAGE = SIDE * SIDE;

/** `count` grey images, each filled by `value(index, pixel)`, as the protocol's base64. */
function images(count: number, value: (index: number, pixel: number) => number, channels = 1): string {
  const bytes = Buffer.alloc(count * IMAGE * channels);
  for (let index = 0; index < count; index++) for (let pixel = 0; pixel < IMAGE; pixel++) for (let channel = 0; channel < channels; channel++) bytes[(index * IMAGE + pixel) * channels + channel] = value(index, pixel);
  return bytes.toString('base64');
}

function frame(epoch: number, reconstructions: string, loss: number[]): ViewFrame {
  return { epoch, reconstructions, loss, reconstruction: loss.map((value) => value * 0.8), kl: loss.map((value) => value * 0.2) };
}

function view(viewId: string, options: Partial<ImageViewSnapshot> = {}): ImageViewSnapshot {
  const count = options.count ?? 4;
  return {
    version: 1,
    viewId,
    mode: 'history',
    modelKind: 'vae',
    units: 'nats',
    shape: [SIDE, SIDE, 1],
    count,
    inputs: images(count, () => 0),
    epochs: [1, 2, 3],
    frame: frame(3, images(count, () => 255), Array.from({ length: count }, (_, index) => 10 + index)),
    live: false,
    ...options,
  };
}

const dataset = (target = 'output') => browser.page.evaluate((at) => ({ ...(harness().root(at)?.dataset ?? {}) }), target);
const cells = (target = 'output') => browser.page.evaluate((at) => harness().cells(at), target);
const pixel = (x: number, y: number, target = 'output') => browser.page.evaluate(([px, py, at]) => harness().pixel(px, py, at).slice(0, 3), [x, y, target] as const);
const sent = () => browser.page.evaluate(() => harness().sent as ImagesRendererMessage[]);
const receive = (message: unknown) => browser.page.evaluate((value) => harness().receive(value), message);
const render = (snapshot: unknown, target = 'output') => browser.page.evaluate(([value, at]) => harness().render(value, at), [snapshot, target] as const);

/** Every pixel of a pane, as distinct RGB triples. */
async function colours(cell: Cell): Promise<Set<string>> {
  return new Set(await browser.page.evaluate((box) => harness().colours(box), cell));
}

function pane(all: Cell[], kind: string, index = 0): Cell {
  const found = all.find((cell) => cell.kind === kind && cell.index === index);
  assert.ok(found, `no ${kind} pane for example ${index} in ${JSON.stringify(all.slice(0, 8))}`);
  return found;
}

test('the view says it is ready with its newest epoch, and a newer snapshot patches the same element', async (context) => {
  if (browser.skip) return context.skip(browser.skip);
  await render(view('ready', { live: true }));
  assert.deepEqual((await sent()).at(-1), { type: 'ready', viewId: 'ready', epoch: 3 });
  await browser.page.evaluate(() => {
    harness().root()!.dataset.mark = 'first';
  });
  const first = await dataset();
  assert.equal(first.viewId, 'ready');
  assert.equal(first.epoch, '3');
  assert.equal(first.epochs, '3');
  assert.equal(first.state, 'ready');
  assert.equal(first.panel, 'reconstructions');
  assert.equal(first.diff, 'side-by-side');
  const before = (await sent()).length;
  await render(view('ready', { live: true, epochs: [1, 2, 3, 4], frame: frame(4, images(4, () => 128), [1, 2, 3, 4]) }));
  const patched = await dataset();
  assert.equal(patched.mark, 'first', 'the view element was built again');
  assert.equal(patched.epoch, '4', 'a person watching the newest epoch follows the newer one');
  assert.equal(patched.epochs, '4');
  assert.equal((await sent()).length, before, 'a patched view says ready once only');
  assert.deepEqual(await pixel(pane(await cells(), 'reconstruction').x + 2, pane(await cells(), 'reconstruction').y + 2), [128, 128, 128]);
});

test('the slider scrubs: one request in flight, the latest wanted epoch next, and a cached epoch redraws without a message', async (context) => {
  if (browser.skip) return context.skip(browser.skip);
  const epochs = [1, 2, 3, 4, 5];
  await render(view('scrub', { epochs, frame: frame(5, images(4, () => 250), [1, 2, 3, 4]) }));
  const slider = browser.page.locator('#output input.epoch-slider');
  const start = (await sent()).length;
  await slider.fill('0');
  assert.equal((await dataset()).epoch, '1');
  assert.equal((await dataset()).state, 'loading');
  await slider.fill('1');
  await slider.fill('2');
  let requests = (await sent()).slice(start);
  assert.deepEqual(requests, [{ type: 'frame', viewId: 'scrub', requestId: (requests[0] as { requestId: number }).requestId, epoch: 1 }], 'one request in flight');
  const first = requests[0] as { requestId: number };
  await receive({ type: 'frame', viewId: 'scrub', requestId: first.requestId, frame: frame(1, images(4, () => 10), [9, 9, 9, 9]) } satisfies ImagesHostMessage);
  // Epoch 2 was passed over; epoch 3 is where the slider is now.
  requests = (await sent()).slice(start);
  assert.equal(requests.length, 2);
  const second = requests[1] as { type: string; requestId: number; epoch: number };
  assert.equal(second.epoch, 3);
  assert.notEqual(second.requestId, first.requestId);
  await receive({ type: 'frame', viewId: 'scrub', requestId: second.requestId, frame: frame(3, images(4, () => 30), [3, 3, 3, 3]) } satisfies ImagesHostMessage);
  assert.equal((await dataset()).state, 'ready');
  const reconstruction = pane(await cells(), 'reconstruction');
  assert.deepEqual(await pixel(reconstruction.x + 3, reconstruction.y + 3), [30, 30, 30]);

  // Keyboard steps: Home is epoch 1 (cached), End is epoch 5 (the snapshot's): no message for either.
  const known = (await sent()).length;
  // The view itself has the focus (the slider would step on its own).
  await browser.page.locator('#output .latent-lab-images').focus();
  await browser.page.keyboard.press('Home');
  assert.equal((await dataset()).epoch, '1');
  assert.deepEqual(await pixel(reconstruction.x + 3, reconstruction.y + 3), [10, 10, 10]);
  await browser.page.keyboard.press('End');
  assert.equal((await dataset()).epoch, '5');
  assert.deepEqual(await pixel(reconstruction.x + 3, reconstruction.y + 3), [250, 250, 250]);
  await browser.page.keyboard.press('ArrowLeft');
  assert.equal((await dataset()).epoch, '4');
  assert.equal((await sent()).length, known + 1, 'only the uncached epoch 4 is asked for');
  assert.equal(((await sent()).at(-1) as { epoch: number }).epoch, 4);
});

test('while live, a newer epoch keeps the place of a person who scrubbed back, and moves one who watched the newest', async (context) => {
  if (browser.skip) return context.skip(browser.skip);
  await render(view('live', { live: true, epochs: [1, 2, 3] }));
  await receive({ type: 'epochs', viewId: 'live', epochs: [1, 2, 3, 4], frame: frame(4, images(4, () => 40), [1, 1, 1, 1]), live: true } satisfies ImagesHostMessage);
  assert.equal((await dataset()).epoch, '4');
  await browser.page.locator('#output input.epoch-slider').fill('1');
  assert.equal((await dataset()).epoch, '2');
  await receive({ type: 'epochs', viewId: 'live', epochs: [1, 2, 3, 4, 5], frame: frame(5, images(4, () => 50), [1, 1, 1, 1]), live: true } satisfies ImagesHostMessage);
  assert.equal((await dataset()).epoch, '2');
  assert.equal((await dataset()).epochs, '5');
});

test('the swipe divider moves the boundary between input and reconstruction to where it is dragged', async (context) => {
  if (browser.skip) return context.skip(browser.skip);
  // Inputs black, reconstructions white: left of the divider is black, right of it white.
  await render(view('swipe'));
  await browser.page.locator('#output [data-diff-mode="swipe"]').click();
  assert.equal((await dataset()).diff, 'swipe');
  const composite = pane(await cells(), 'composite');
  const at = (fraction: number) => pixel(composite.x + composite.width * fraction, composite.y + composite.height / 2);
  assert.deepEqual(await at(0.3), [0, 0, 0]);
  assert.deepEqual(await at(0.7), [255, 255, 255]);
  const box = (await browser.page.locator('#output canvas.image-grid').boundingBox())!;
  await browser.page.mouse.move(box.x + composite.x + composite.width * 0.5, box.y + composite.y + composite.height / 2);
  await browser.page.mouse.down();
  await browser.page.mouse.move(box.x + composite.x + composite.width * 0.65, box.y + composite.y + composite.height / 2, { steps: 3 });
  await browser.page.mouse.move(box.x + composite.x + composite.width * 0.8, box.y + composite.y + composite.height / 2, { steps: 3 });
  await browser.page.mouse.up();
  assert.deepEqual(await at(0.7), [0, 0, 0], 'the input now reaches past 70%');
  assert.deepEqual(await at(0.9), [255, 255, 255]);
  // Every pair follows the same divider.
  const other = pane(await cells(), 'composite', 3);
  assert.deepEqual(await pixel(other.x + other.width * 0.7, other.y + other.height / 2), [0, 0, 0]);
  assert.deepEqual(await pixel(other.x + other.width * 0.9, other.y + other.height / 2), [255, 255, 255]);
  await browser.page.locator('#output [data-diff-mode="side-by-side"]').click();
});

test('the heatmap of an image against itself is all the colour map’s zero colour, and an error shows', async (context) => {
  if (browser.skip) return context.skip(browser.skip);
  const noise = images(4, (index, at) => (index * 37 + at * 101) % 256);
  await render(view('same', { inputs: noise, frame: frame(3, noise, [0, 0, 0, 0]) }));
  const all = await cells();
  const zero = new Set<string>();
  for (let index = 0; index < 4; index++) for (const colour of await colours(pane(all, 'error', index))) zero.add(colour);
  assert.deepEqual([...zero], ['0,0,0']);
  assert.equal(await browser.page.evaluate(() => harness().scale()), '0');
  // One pixel off by a fifth of full intensity in example 2: its heatmap is no longer uniform.
  const bytes = Buffer.from(noise, 'base64');
  bytes[2 * IMAGE + 5] = (bytes[2 * IMAGE + 5] + 51) % 256;
  await render(view('same', { inputs: noise, frame: frame(3, bytes.toString('base64'), [0, 0, 1, 0]) }));
  const after = await cells();
  assert.equal((await colours(pane(after, 'error', 2))).size, 2);
  assert.deepEqual([...(await colours(pane(after, 'error', 1)))], ['0,0,0']);
  assert.equal(await browser.page.evaluate(() => harness().scale()), '0.2');
  // On the fixed scale the same error is a darker colour, the same at every epoch.
  const scaled = await colours(pane(after, 'error', 2));
  await browser.page.locator('#output [data-heat-scale="full"]').click();
  assert.equal(await browser.page.evaluate(() => harness().scale()), '1');
  const fixed = await colours(pane(after, 'error', 2));
  assert.equal(fixed.size, 2);
  assert.notDeepEqual([...fixed], [...scaled]);
  await browser.page.locator('#output [data-heat-scale="full"]').click();
  assert.equal(await browser.page.evaluate(() => harness().scale()), '0.2');
});

test('worst first orders the examples by their loss, largest first', async (context) => {
  if (browser.skip) return context.skip(browser.skip);
  await render(view('sort', { frame: frame(3, images(4, () => 255), [1, 5, 3, 2]) }));
  const order = async () => (await cells()).filter((cell) => cell.kind === 'input').map((cell) => cell.index);
  assert.deepEqual(await order(), [0, 1, 2, 3]);
  await browser.page.locator('#output [data-sort="worst"]').click();
  assert.deepEqual(await order(), [1, 2, 3, 0]);
  await browser.page.locator('#output [data-sort="index"]').click();
  assert.deepEqual(await order(), [0, 1, 2, 3]);
});

test('malformed messages and items are dropped with a notice, and the view goes on', async (context) => {
  if (browser.skip) return context.skip(browser.skip);
  await render(view('bad', { epochs: [1, 2, 3] }));
  const start = (await sent()).length;
  for (const garbage of [null, 42, 'text', [], { type: 'epochs' }, { type: 'nonsense', viewId: 'bad' }]) await receive(garbage);
  await receive({ type: 'epochs', viewId: 'bad', epochs: [3, 1], live: false });
  assert.match(await browser.page.locator('#output .notice').innerText(), /epochs\[1\] must be greater/);
  assert.equal((await dataset()).epochs, '3');
  await receive({ type: 'frame', viewId: 'bad', requestId: 'one', frame: {} });
  assert.match(await browser.page.locator('#output .notice').innerText(), /requestId/);
  // An answer nobody asked for changes nothing.
  await receive({ type: 'frame', viewId: 'bad', requestId: 999_999, frame: frame(1, images(4, () => 1), [1, 1, 1, 1]) });
  await browser.page.locator('#output input.epoch-slider').fill('0');
  const request = (await sent()).slice(start).at(-1) as { requestId: number; epoch: number };
  assert.equal(request.epoch, 1);
  // A frame with too few losses and short pixels: refused, named, and the epoch shows as failed.
  await receive({ type: 'frame', viewId: 'bad', requestId: request.requestId, frame: { epoch: 1, reconstructions: images(4, () => 1), loss: [1, 2] } });
  assert.match(await browser.page.locator('#output .notice').innerText(), /frame\.loss must be a list of 4 numbers/);
  assert.equal((await dataset()).state, 'error');
  assert.match(await browser.page.locator('#output .status').innerText(), /Cannot show epoch 1/);
  // A bad snapshot for the same element keeps what is on screen.
  await browser.page.evaluate(() => {
    harness().root()!.dataset.mark = 'kept';
  });
  await render({ ...view('bad'), shape: [SIDE, SIDE, 2] });
  assert.match(await browser.page.locator('#output .notice').innerText(), /shape must be/);
  await render({ ...view('bad'), inputs: images(3, () => 0) });
  assert.match(await browser.page.locator('#output .notice').innerText(), /inputs must hold 1024 bytes/);
  assert.equal((await dataset()).mark, 'kept');
  // The view still scrubs.
  await browser.page.locator('#output input.epoch-slider').fill('2');
  assert.equal((await dataset()).epoch, '3');
  assert.equal((await dataset()).state, 'ready');
  assert.deepEqual(browser.errors, []);
});

test('an epoch the host could not send is named, and asked for again when the host announces its epochs', async (context) => {
  if (browser.skip) return context.skip(browser.skip);
  await render(view('gone', { epochs: [1, 2, 3] }));
  const start = (await sent()).length;
  await browser.page.locator('#output input.epoch-slider').fill('1');
  const request = (await sent()).at(-1) as { requestId: number; epoch: number };
  assert.equal(request.epoch, 2);
  await receive({ type: 'frame-error', viewId: 'gone', requestId: request.requestId, error: { name: 'ViewsFileError', message: 'views/epoch-0002.bin is damaged' } } satisfies ImagesHostMessage);
  assert.equal((await dataset()).state, 'error');
  assert.match(await browser.page.locator('#output .status').innerText(), /Cannot show epoch 2: ViewsFileError: views\/epoch-0002\.bin is damaged/);
  // Scrubbing away and back does not ask again for what the host said it cannot send.
  await browser.page.keyboard.press('ArrowRight');
  await browser.page.keyboard.press('ArrowLeft');
  assert.equal((await sent()).length, start + 1);
  await receive({ type: 'epochs', viewId: 'gone', epochs: [1, 2, 3], live: false } satisfies ImagesHostMessage);
  assert.equal((await dataset()).state, 'loading');
  const again = (await sent()).at(-1) as { requestId: number; epoch: number };
  assert.equal(again.epoch, 2);
  assert.notEqual(again.requestId, request.requestId);
});

test('an output item that does not check out is not drawn, and the reason names the field', async (context) => {
  if (browser.skip) return context.skip(browser.skip);
  const good = view('refused');
  const cases: [string, unknown, RegExp][] = [
    ['not an object', 'text', /expected an image view of version 1/],
    ['another version', { ...good, version: 2 }, /version 1/],
    ['mode', { ...good, mode: 'train' }, /mode must be history, reconstruct or sample/],
    ['units', { ...good, units: 'bits' }, /units must be nats or loss/],
    ['count', { ...good, count: -1 }, /count must be a whole number/],
    ['inputs missing', { ...good, inputs: undefined }, /inputs are missing/],
    ['inputs not base64', { ...good, inputs: '!'.repeat(good.inputs!.length) }, /inputs is not valid base64/],
    ['corrupted short', { ...good, corrupted: images(3, () => 0) }, /corrupted must hold 1024 bytes/],
    ['epochs not ascending', { ...good, epochs: [1, 1, 3] }, /epochs\[1\] must be greater/],
    ['frame not among epochs', { ...good, epochs: [1, 2] }, /frame\.epoch 3 is not among epochs/],
    ['loss not numbers', { ...good, frame: { ...good.frame, loss: [1, 2, 'three', 4] } }, /frame\.loss\[2\] must be a finite number/],
    ['kl too short', { ...good, frame: { ...good.frame, kl: [1] } }, /frame\.kl must be a list of 4 numbers/],
    ['samples not whole images', { ...good, frame: { ...good.frame, samples: Buffer.alloc(IMAGE + 3).toString('base64') } }, /frame\.samples must hold a multiple of 256 bytes/],
    ['sample columns', { ...good, frame: { ...good.frame, sampleColumns: 0 } }, /frame\.sampleColumns must be a whole number ≥ 1/],
  ];
  for (const [name, item, reason] of cases) {
    await render(item, 'blank');
    const text = await browser.page.locator('#blank').innerText();
    assert.match(text, /^Latent Lab cannot draw this image view: /, name);
    assert.match(text, reason, name);
    assert.equal(await browser.page.locator('#blank .latent-lab-images').count(), 0, name);
  }
  await render(good, 'blank');
  assert.equal((await dataset('blank')).viewId, 'refused');
  assert.deepEqual(browser.errors, []);
});

test('epoch vs epoch compares two epochs’ reconstructions, not the input with one', async (context) => {
  if (browser.skip) return context.skip(browser.skip);
  // Epochs 2 and 3 reconstruct alike (grey 100), far from the black inputs.
  await render(view('epochs', { frame: frame(3, images(4, () => 100), [1, 1, 1, 1]) }));
  const error = await colours(pane(await cells(), 'error'));
  assert.ok(!error.has('0,0,0'), 'the input diff shows the error');
  const start = (await sent()).length;
  await browser.page.locator('#output [data-diff-mode="epochs"]').click();
  assert.equal((await dataset()).diff, 'epochs');
  assert.equal((await dataset()).state, 'loading');
  const request = (await sent()).slice(start).at(-1) as { requestId: number; epoch: number };
  assert.equal(request.epoch, 2, 'compared with the epoch before by default');
  await receive({ type: 'frame', viewId: 'epochs', requestId: request.requestId, frame: frame(2, images(4, () => 100), [2, 2, 2, 2]) } satisfies ImagesHostMessage);
  const all = await cells();
  assert.deepEqual(all.filter((cell) => cell.index === 0).map((cell) => cell.kind), ['compare', 'reconstruction', 'change']);
  assert.deepEqual([...(await colours(pane(all, 'change')))], ['0,0,0']);
  assert.deepEqual(await pixel(pane(all, 'compare').x + 2, pane(all, 'compare').y + 2), [100, 100, 100]);
  await browser.page.locator('#output [data-diff-mode="side-by-side"]').click();
});

test('denoising and masked views show clean, corrupted, reconstruction and error for each example', async (context) => {
  if (browser.skip) return context.skip(browser.skip);
  await render(view('denoise', { modelKind: 'denoising-ae', corrupted: images(4, (_index, at) => (at % 2) * 200) }));
  const all = await cells();
  assert.deepEqual(all.filter((cell) => cell.index === 0).map((cell) => cell.kind), ['input', 'corrupted', 'reconstruction', 'error']);
  // Odd pixels of the corrupted inputs are 200: the second pixel of the first row.
  const corrupted = pane(all, 'corrupted');
  assert.deepEqual(await pixel(corrupted.x + (corrupted.width / SIDE) * 1.5, corrupted.y + 1), [200, 200, 200]);
  assert.deepEqual(await pixel(corrupted.x + (corrupted.width / SIDE) * 0.5, corrupted.y + 1), [0, 0, 0]);
});

test('samples share the epoch slider under a Reconstructions | Samples switch', async (context) => {
  if (browser.skip) return context.skip(browser.skip);
  const samples = (value: number): Partial<ViewFrame> => ({ samples: images(6, () => value), sampleColumns: 3 });
  await render(view('samples', { epochs: [1, 2], frame: { ...frame(2, images(4, () => 255), [1, 1, 1, 1]), ...samples(60) }, sampleCaption: 'six prior draws' }));
  await browser.page.locator('#output [data-panel-choice="samples"]').click();
  assert.equal((await dataset()).panel, 'samples');
  const all = await cells();
  assert.equal(all.length, 6);
  assert.equal(new Set(all.map((cell) => cell.y)).size, 2, 'three per row');
  assert.deepEqual(await pixel(all[0].x + 2, all[0].y + 2), [60, 60, 60]);
  const start = (await sent()).length;
  await browser.page.locator('#output input.epoch-slider').fill('0');
  const request = (await sent()).slice(start).at(-1) as { requestId: number; epoch: number };
  await receive({ type: 'frame', viewId: 'samples', requestId: request.requestId, frame: { ...frame(1, images(4, () => 255), [1, 1, 1, 1]), ...samples(20) } });
  assert.deepEqual(await pixel(all[0].x + 2, all[0].y + 2), [20, 20, 20]);
  await browser.page.locator('#output [data-panel-choice="reconstructions"]').click();
  assert.equal((await dataset()).panel, 'reconstructions');

  // A sample cell's view has only samples.
  await render({ ...view('sample-only', { mode: 'sample', count: 0, inputs: undefined, epochs: [7], frame: { epoch: 7, ...samples(90) } }) });
  assert.equal((await dataset()).panel, 'samples');
  assert.equal(await browser.page.locator('#output [data-panel-choice="samples"]').isVisible(), false);
});

test('clicking an image enlarges its panes side by side; the wheel zooms them together; Escape closes', async (context) => {
  if (browser.skip) return context.skip(browser.skip);
  await render(view('enlarge'));
  const input = pane(await cells(), 'input', 2);
  const box = (await browser.page.locator('#output canvas.image-grid').boundingBox())!;
  await browser.page.mouse.click(box.x + input.x + input.width / 2, box.y + input.y + input.height / 2);
  assert.equal((await dataset()).enlarged, '2');
  const panes = await cells();
  assert.deepEqual(panes.map((cell) => cell.kind), ['input', 'reconstruction', 'error']);
  const reconstruction = pane(panes, 'reconstruction', 2);
  // The image sits in the middle of its pane, framed by the page's background.
  const corner = await pixel(reconstruction.x + 1, reconstruction.y + 1);
  await browser.page.mouse.move(box.x + reconstruction.x + reconstruction.width / 2, box.y + reconstruction.y + reconstruction.height / 2);
  // The pixel under the pointer, with its values: the input is black, the reconstruction white.
  assert.match(await browser.page.locator('#output .status').innerText(), /^pixel \(8, 8\) · input 0\.00 · reconstruction 1\.00 · \|x − x̂\| 1\.00$/);
  await browser.page.mouse.wheel(0, -600);
  assert.ok(Number((await dataset()).zoom) > 1);
  assert.deepEqual(await pixel(reconstruction.x + 1, reconstruction.y + 1), [255, 255, 255], 'zoomed in, the image fills the pane');
  const inputPane = pane(panes, 'input', 2);
  assert.deepEqual(await pixel(inputPane.x + 1, inputPane.y + 1), [0, 0, 0], 'the other panes zoom with it');
  assert.notDeepEqual(corner, [255, 255, 255]);
  // The enlarged example has its own diff mode; the grid keeps its own.
  await browser.page.locator('#output [data-diff-mode="swipe"]').click();
  assert.equal((await dataset()).diff, 'swipe');
  assert.deepEqual((await cells()).map((cell) => cell.kind), ['composite', 'error']);
  await browser.page.keyboard.press('Escape');
  assert.equal((await dataset()).enlarged, undefined);
  assert.equal((await dataset()).diff, 'side-by-side');
  assert.equal((await cells()).length, 12);
});

test('flicker shows the input while Space is held and the reconstruction when it is let go', async (context) => {
  if (browser.skip) return context.skip(browser.skip);
  await render(view('flicker'));
  await browser.page.locator('#output [data-diff-mode="flicker"]').click();
  await browser.page.locator('#output vscode-single-select[aria-label="flicker rate"]').click();
  await browser.page.getByRole('option', { name: 'hold Space', exact: true }).click();
  const composite = pane(await cells(), 'composite');
  const middle = () => pixel(composite.x + composite.width / 2, composite.y + composite.height / 2);
  assert.deepEqual(await middle(), [255, 255, 255]);
  await browser.page.locator('#output .latent-lab-images').focus();
  await browser.page.keyboard.down(' ');
  assert.deepEqual(await middle(), [0, 0, 0]);
  await browser.page.keyboard.up(' ');
  assert.deepEqual(await middle(), [255, 255, 255]);
});

test('the frame cache is bounded in bytes and lets the least recently used frame go first', () => {
  const cache = new FrameCache(300);
  const frame = (epoch: number, bytes = 100) => ({ epoch, sampleCount: 0, bytes });
  for (const epoch of [1, 2, 3]) cache.put(frame(epoch));
  assert.ok(cache.get(1), 'epoch 1 is kept');
  cache.put(frame(4));
  assert.deepEqual([1, 2, 3, 4].filter((epoch) => cache.has(epoch)), [1, 3, 4], 'epoch 2 was used least recently');
  // A frame larger than the bound is kept alone: the one on screen is never dropped.
  cache.put(frame(5, 1000));
  assert.deepEqual([1, 3, 4, 5].filter((epoch) => cache.has(epoch)), [5]);
  cache.keepOnly([1, 2]);
  assert.equal(cache.size, 0);
});

test('without messaging the slider offers only the snapshot’s epoch and says why', async (context) => {
  if (browser.skip) return context.skip(browser.skip);
  await render(view('offline', { epochs: [1, 2, 3] }), 'offline');
  assert.equal((await dataset('offline')).epochs, '1');
  assert.equal(await browser.page.locator('#offline input.epoch-slider').isVisible(), false);
  assert.equal(await browser.page.locator('#offline .epoch-label').innerText(), 'epoch 3');
  assert.match(await browser.page.locator('#offline .status').innerText(), /Only epoch 3 is stored in this output/);
});

const heights = (target = 'output') => browser.page.evaluate((at) => harness().heights(at), target);

test('the view is as tall as its grid, with no empty band under it, and keeps that height as epochs come and modes change', async (context) => {
  if (browser.skip) return context.skip(browser.skip);
  // Twelve examples at 900 px: three rows, their scale set by the width, far less than the most height.
  const count = 12;
  const losses = Array.from({ length: count }, (_, index) => index + 1);
  await render(view('height', { count, inputs: images(count, () => 0), epochs: [1], live: true, frame: frame(1, images(count, () => 200), losses) }));
  const first = await heights();
  const CAPTION = 15;
  assert.ok(first.canvas - (first.panes + CAPTION) <= 4, `the canvas is ${first.canvas} px tall but its lowest caption ends at ${first.panes + CAPTION} px (${JSON.stringify(first)})`);
  assert.ok(first.root < 460, `the view takes ${first.root} px`);
  await receive({ type: 'epochs', viewId: 'height', epochs: [1, 2], frame: frame(2, images(count, () => 100), losses), live: true } satisfies ImagesHostMessage);
  await render(view('height', { count, inputs: images(count, () => 0), epochs: [1, 2, 3], live: false, frame: frame(3, images(count, () => 50), losses) }));
  assert.equal((await dataset()).epoch, '3');
  assert.equal((await heights()).root, first.root, 'the height is set once: a slider appearing and later epochs do not move the notebook');
  await browser.page.locator('#output [data-diff-mode="swipe"]').click();
  assert.equal((await heights()).root, first.root, 'nor does another diff mode');
  await browser.page.locator('#output [data-diff-mode="side-by-side"]').click();
});

test('a final checkpoint’s view (reconstruct and sample cells) has no epoch slider and says which epoch it shows', async (context) => {
  if (browser.skip) return context.skip(browser.skip);
  await render(view('final', { mode: 'reconstruct', epochs: [3] }));
  assert.equal(await browser.page.locator('#output input.epoch-slider').isVisible(), false);
  assert.equal(await browser.page.locator('#output .epoch-label').innerText(), 'epoch 3, final checkpoint');
  assert.equal(await browser.page.locator('#output [data-diff-mode="epochs"]').isVisible(), false, 'no other epoch to compare with');
  assert.doesNotMatch(await browser.page.locator('#output .status').innerText(), /step epochs/);
  const before = (await sent()).length;
  await browser.page.locator('#output .latent-lab-images').focus();
  await browser.page.keyboard.press('ArrowLeft');
  assert.equal((await dataset()).epoch, '3');
  assert.equal((await sent()).length, before);
  await render(view('final-samples', { mode: 'sample', count: 0, inputs: undefined, epochs: [7], frame: { epoch: 7, samples: images(6, () => 90), sampleColumns: 3 } }));
  assert.equal(await browser.page.locator('#output input.epoch-slider').isVisible(), false);
  assert.equal(await browser.page.locator('#output .epoch-label').innerText(), 'epoch 7, final checkpoint');
  // A training view's first epoch: no slider yet, and it says more are coming.
  await render(view('first-epoch', { epochs: [1], live: true, frame: frame(1, images(4, () => 9), [1, 1, 1, 1]) }));
  assert.equal(await browser.page.locator('#output input.epoch-slider').isVisible(), false);
  assert.equal(await browser.page.locator('#output .epoch-label').innerText(), 'epoch 1 · training');
  assert.notEqual(await browser.page.locator('#output [data-diff-mode="epochs"]').getAttribute('disabled'), null, 'nothing to compare with yet');
  await receive({ type: 'epochs', viewId: 'first-epoch', epochs: [1, 2], frame: frame(2, images(4, () => 19), [1, 1, 1, 1]), live: true } satisfies ImagesHostMessage);
  assert.equal(await browser.page.locator('#output input.epoch-slider').isVisible(), true);
});

test('the selected diff mode and sort order stand out from the others in dark, light and high-contrast themes', async (context) => {
  if (browser.skip) return context.skip(browser.skip);
  await render(view('selected'));
  await browser.page.locator('#output [data-diff-mode="swipe"]').click();
  await browser.page.locator('#output vscode-button[data-sort="worst"]').click();
  // Neither focus nor hover may be what tells them apart.
  await browser.page.locator('#output .latent-lab-images').focus();
  await browser.page.mouse.move(0, 999);
  const look = (selector: string) => browser.page.evaluate((at) => harness().look(at), selector);
  for (const [name, variables] of [['dark', DARK], ['light', LIGHT], ['high-contrast', HIGH_CONTRAST]] as const) {
    await browser.page.evaluate((value) => harness().theme(value), variables);
    for (const [selected, other] of [['vscode-button[data-diff-mode="swipe"]', 'vscode-button[data-diff-mode="onion"]'], ['vscode-button[data-sort="worst"]', 'vscode-button[data-sort="index"]']]) {
      const chosen = await look(`#output ${selected}`);
      const unchosen = await look(`#output ${other}`);
      assert.equal(chosen.pressed, 'true', `${name}: ${selected}`);
      assert.equal(unchosen.pressed, 'false', `${name}: ${other}`);
      if (name === 'high-contrast') {
        // The theme's one button colour is on both: its active border is the mark.
        assert.equal(chosen.border, 'rgb(243, 133, 24)', `${name}: ${selected} wears the contrast active border`);
        assert.equal(unchosen.border, 'rgb(111, 195, 223)', `${name}: ${other} keeps the contrast border`);
        // The theme gives secondary buttons no background: the editor's black shows, not the library's grey.
        assert.equal(unchosen.background, 'rgba(0, 0, 0, 0)', `${name}: ${other}'s background`);
      } else assert.notEqual(chosen.background, unchosen.background, `${name}: ${selected} has the primary button's background`);
    }
  }
  await browser.page.evaluate((value) => harness().theme(value), DARK);
  await browser.page.locator('#output [data-diff-mode="side-by-side"]').click();
  await browser.page.locator('#output vscode-button[data-sort="index"]').click();
});

test('the column titles keep clear of each other in every diff mode, however small the panes', async (context) => {
  if (browser.skip) return context.skip(browser.skip);
  // Twelve examples at 900 px: 64 px panes, narrower than "input | recon." at 11 px.
  const count = 12;
  await render(view('titles', { count, inputs: images(count, () => 0), frame: frame(3, images(count, () => 200), Array.from({ length: count }, () => 1)) }));
  for (const mode of ['side-by-side', 'swipe', 'onion', 'flicker']) {
    await browser.page.locator(`#output [data-diff-mode="${mode}"]`).click();
    const titles = await browser.page.evaluate(() => harness().headers());
    assert.ok(titles.length >= 2, mode);
    for (let index = 1; index < titles.length; index++) {
      const [left, right] = [titles[index - 1], titles[index]];
      assert.ok(left.x + left.width + 6 <= right.x, `${mode}: "${left.text}" ends ${right.x - left.x - left.width} px before "${right.text}"`);
    }
  }
  await browser.page.locator('#output [data-diff-mode="side-by-side"]').click();
});

test('in a narrow output the buttons show only their icons, as compact as VS Code’s icon buttons', async (context) => {
  if (browser.skip) return context.skip(browser.skip);
  await render(view('narrow'));
  const widths = () => browser.page.evaluate(() => harness().widths('#output vscode-button.iconic:not([hidden])'));
  assert.ok((await widths()).every((width) => width > 40), 'wide: icon and label');
  await browser.page.evaluate(() => harness().resize(600));
  try {
    const narrow = await widths();
    assert.ok(narrow.length >= 7);
    assert.ok(narrow.every((width) => width <= 28), `icon-only buttons are ${narrow.join(', ')} px wide`);
  } finally {
    await browser.page.evaluate(() => harness().resize(undefined));
  }
});

test('screenshots in dark, light and high-contrast themes', async (context) => {
  if (browser.skip) return context.skip(browser.skip);
  mkdirSync(artifacts, { recursive: true });
  // Rings of different radii, reconstructed blurred and a little off: something to look at.
  const ring = (index: number, at: number, blur: number) => {
    const x = (at % SIDE) - 7.5;
    const y = Math.floor(at / SIDE) - 7.5;
    const distance = Math.abs(Math.hypot(x, y) - (3 + (index % 4)));
    return Math.max(0, Math.min(255, Math.round(255 * (1 - distance / (1 + blur)))));
  };
  const count = 12;
  await render(view('themes', { count, inputs: images(count, (index, at) => ring(index, at, 0)), epochs: [1, 2, 3], frame: { ...frame(3, images(count, (index, at) => ring(index, at, 0.6 + (index % 3) * 0.5)), Array.from({ length: count }, (_, index) => 80 + index * 3.7)), samples: images(8, (index, at) => ring(index, at, 1)), sampleColumns: 4 } }));
  const output = browser.page.locator('#output');
  for (const [name, variables] of [['dark', DARK], ['light', LIGHT], ['high-contrast', HIGH_CONTRAST]] as const) {
    await browser.page.evaluate((value) => harness().theme(value), variables);
    await browser.page.locator('#output [data-diff-mode="side-by-side"]').click();
    await output.screenshot({ path: path.join(artifacts, `images-${name}.png`) });
    await browser.page.locator('#output [data-diff-mode="swipe"]').click();
    await output.screenshot({ path: path.join(artifacts, `images-swipe-${name}.png`) });
  }
  await browser.page.evaluate((value) => harness().theme(value), DARK);
  await browser.page.locator('#output [data-diff-mode="side-by-side"]').click();
  await browser.page.locator('#output [data-panel-choice="samples"]').click();
  await output.screenshot({ path: path.join(artifacts, 'images-samples-dark.png') });
  await browser.page.locator('#output [data-panel-choice="reconstructions"]').click();
  const input = pane(await cells(), 'input', 5);
  const box = (await browser.page.locator('#output canvas.image-grid').boundingBox())!;
  await browser.page.mouse.click(box.x + input.x + input.width / 2, box.y + input.y + input.height / 2);
  await browser.page.mouse.move(box.x + input.x + input.width / 2, box.y + input.y + input.height / 2);
  await browser.page.mouse.wheel(0, -300);
  await output.screenshot({ path: path.join(artifacts, 'images-enlarged-dark.png') });
  await browser.page.keyboard.press('Escape');
});
