/**
 * The Latent Explorer's page in a real browser (Debian's Chromium through playwright-core),
 * loading the built bundle (dist/webview/explorer.js) with a stand-in for the webview API that
 * records what the page posts and keeps its state. Both drawing paths: WebGL (software, through
 * SwiftShader, --enable-unsafe-swiftshader) and the Canvas2D fallback (the same browser with
 * --disable-3d-apis, which has no WebGL). The scatter's pixels are
 * read back; the pointer moves as a person's does (page.mouse).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import type { ExplorerChoice, ExploreResult, HostMessage } from '../../extension/explorer-protocol';
import { FrameKeeper, frameFor, place } from '../../webview/explorer/frame-cache';
import { GridPicker } from '../../webview/explorer/picker';

const root = path.resolve(__dirname, '..', '..');
const bundle = path.join(root, 'dist', 'webview', 'explorer.js');
const artifacts = path.join(root, 'artifacts', 'webview');
const CHROMIUM = '/usr/bin/chromium';
const BASE_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

const DARK = '--vscode-foreground:#cccccc; --vscode-descriptionForeground:#9d9d9d; --vscode-editor-background:#1f1f1f; --vscode-focusBorder:#0078d4; --vscode-button-background:#0078d4; --vscode-button-foreground:#ffffff; --vscode-charts-blue:#3794ff; --vscode-charts-orange:#d18616; --vscode-charts-green:#89d185; --vscode-font-family:system-ui, sans-serif; --vscode-font-size:13px';

// The page as VS Code gives it: acquireVsCodeApi, the theme's variables on the root element.
// `?state=` starts it with a kept state, as a view shown again does.
const PAGE = `<!doctype html><html style="${DARK}"><head><meta charset="utf-8"></head>
<body style="margin:0; background: var(--vscode-editor-background)" data-nonce="n">
<div id="explorer-root"></div>
<script>
  const kept = new URLSearchParams(location.search).get('state');
  window.sent = [];
  window.kept = kept ? JSON.parse(kept) : undefined;
  window.acquireVsCodeApi = () => ({ postMessage: (message) => window.sent.push(message), getState: () => window.kept, setState: (state) => { window.kept = state; } });
  // What the test reads and does in the page (called by name: the test's own types have no DOM).
  window.harness = {
    data: (selector, key) => document.querySelector(selector)?.dataset[key],
    // The scatter's pixel at CSS (x, y): WebGL's buffer is kept (preserveDrawingBuffer), so drawing it into a 2-d canvas reads it.
    pixel: (x, y) => {
      const source = document.querySelector('canvas.scatter');
      const copy = document.createElement('canvas');
      copy.width = source.width;
      copy.height = source.height;
      const context = copy.getContext('2d');
      context.drawImage(source, 0, 0);
      const ratio = source.width / source.clientWidth;
      return [...context.getImageData(Math.round(x * ratio), Math.round(y * ratio), 1, 1).data];
    },
    box: () => { const rect = document.querySelector('canvas.scatter').getBoundingClientRect(); return { left: rect.left, top: rect.top }; },
    // The decoded canvas's grey level at the centre of each of the image's pixels.
    decoded: (side) => {
      const canvas = document.querySelector('canvas.decoded');
      const scale = canvas.width / side;
      const context = canvas.getContext('2d');
      return Array.from({ length: side * side }, (_, index) => context.getImageData((index % side) * scale + 1, Math.floor(index / side) * scale + 1, 1, 1).data[0]);
    },
    // The scatter's pixels kept by name and compared in the page (they are too many to send), with what the frame was (data-frame).
    snapshots: {},
    snapshot: (name) => {
      const source = document.querySelector('canvas.scatter');
      const copy = document.createElement('canvas');
      copy.width = source.width;
      copy.height = source.height;
      const context = copy.getContext('2d');
      context.drawImage(source, 0, 0);
      harness.snapshots[name] = context.getImageData(0, 0, copy.width, copy.height).data;
      return source.dataset.frame;
    },
    // How many pixels differ by more than \`tolerance\` in a channel.
    difference: (a, b, tolerance = 0) => {
      const [first, second] = [harness.snapshots[a], harness.snapshots[b]];
      let differ = 0;
      for (let at = 0; at < first.length; at += 4) {
        if ([0, 1, 2, 3].some((channel) => Math.abs(first[at + channel] - second[at + channel]) > tolerance)) differ++;
      }
      return differ;
    },
    // Where each colour's pixels lie (their centroid, canvas pixels) and how many there are: where a class's points are drawn.
    centroids: (name, colours) => {
      const data = harness.snapshots[name];
      const width = document.querySelector('canvas.scatter').width;
      return colours.map(([r, g, b]) => {
        let x = 0, y = 0, count = 0;
        for (let at = 0; at < data.length; at += 4) {
          if (data[at + 3] < 100 || Math.abs(data[at] - r) + Math.abs(data[at + 1] - g) + Math.abs(data[at + 2] - b) > 60) continue;
          x += (at / 4) % width;
          y += Math.floor(at / 4 / width);
          count++;
        }
        return [x / count, y / count, count];
      });
    },
    // A key pressed on the scatter, and a snapshot of the frame it drew, taken in that frame: the camera has not settled yet.
    keyFrame: (key, name) => new Promise((resolve) => {
      document.querySelector('canvas.scatter').dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true }));
      requestAnimationFrame(() => resolve(harness.snapshot(name)));
    }),
    slide: (dimension, value) => {
      const input = document.querySelector('input[data-dimension="' + dimension + '"]');
      input.value = String(value);
      input.dispatchEvent(new Event('input'));
    },
  };
</script>
<script type="module" src="/explorer.js"></script>
</body></html>`;

/** Three classes in three clusters of a 2-d code, and one point alone at the origin. */
const CENTRES = [[-2, -2], [2, -2], [0, 2]];
const PER_CLASS = 30;
const COUNT = 3 * PER_CLASS + 1;

function base64(array: Float32Array | Uint8Array): string {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength).toString('base64');
}

function cluster(): { points: Float32Array; labels: Uint8Array } {
  const points = new Float32Array(COUNT * 2);
  const labels = new Uint8Array(COUNT);
  for (let index = 0; index < 3 * PER_CLASS; index++) {
    const label = index % 3;
    const angle = (index / (3 * PER_CLASS)) * 2 * Math.PI * 7;
    const radius = 0.15 + 0.35 * ((index * 37) % 11) / 11;
    points[index * 2] = CENTRES[label][0] + radius * Math.cos(angle);
    points[index * 2 + 1] = CENTRES[label][1] + radius * Math.sin(angle);
    labels[index] = label;
  }
  // The lone point: label 1, at (0, 0), where a hover must find it.
  labels[COUNT - 1] = 1;
  return { points, labels };
}

const CHOICE: ExplorerChoice = { runDir: '/runs/vae/2026-01-01T00-00-00Z', checkpoint: 'last', split: 'test' };

function result(): ExploreResult {
  const { points, labels } = cluster();
  return {
    model: { checkpoint: 'last', epoch: 3, kind: 'vae', variational: true, latent: 2, shape: [4, 4, 1], classes: 0, units: 'nats', decodes: true },
    split: 'test',
    count: COUNT,
    means: base64(points),
    labels: base64(labels),
    losses: base64(Float32Array.from({ length: COUNT }, (_, index) => index)),
    projection: { method: 'identity', points: base64(points), mean: [0, 0], components: [], explained: [] },
    dimensions: [{ index: 1, kl: 2.5, active: true, low: -3, high: 3 }, { index: 0, kl: 0.001, active: false, low: -3, high: 3 }],
  };
}

interface PageCamera { x: number; y: number; scale: number; width: number; height: number }

async function deliver(page: Page, message: HostMessage): Promise<void> {
  await page.evaluate((data) => (globalThis as unknown as { postMessage(value: unknown, origin: string): void }).postMessage(data, '*'), message);
}

/** The page's harness (see PAGE): its functions run in the page, by name. */
function inPage<T>(page: Page, call: string): Promise<T> {
  return page.evaluate(`harness.${call}`) as Promise<T>;
}

function waitInPage(page: Page, condition: string): Promise<unknown> {
  return page.waitForFunction(`(() => { const { data } = harness; return ${condition}; })()`, undefined, { timeout: 30_000 });
}

async function sent(page: Page): Promise<{ type: string; [key: string]: unknown }[]> {
  return page.evaluate(() => (globalThis as unknown as { sent: { type: string }[] }).sent);
}

async function camera(page: Page): Promise<PageCamera> {
  await waitInPage(page, `data('canvas.scatter', 'camera') !== undefined`);
  return JSON.parse(await inPage<string>(page, `data('canvas.scatter', 'camera')`)) as PageCamera;
}

/** Where a data point is on the page (CSS pixels). */
async function screenOf(page: Page, x: number, y: number): Promise<[number, number]> {
  const view = await camera(page);
  const box = await inPage<{ left: number; top: number }>(page, 'box()');
  return [box.left + (x - view.x) * view.scale + view.width / 2, box.top + view.height / 2 - (y - view.y) * view.scale];
}

/** The scatter's pixel at a data point. */
async function pixelAt(page: Page, x: number, y: number): Promise<number[]> {
  const view = await camera(page);
  return inPage<number[]>(page, `pixel(${(x - view.x) * view.scale + view.width / 2}, ${view.height / 2 - (y - view.y) * view.scale})`);
}

async function openPage(browser: Browser, url: string, errors: string[], viewport = { width: 320, height: 900 }): Promise<Page> {
  const page = await browser.newPage({ viewport });
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(url);
  await page.waitForFunction(() => (globalThis as unknown as { sent: { type: string }[] }).sent.some((message) => message.type === 'ready'), undefined, { timeout: 30_000 });
  return page;
}

let server: ReturnType<typeof createServer> | undefined;
let address = '';
const skip = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is not installed (Debian's chromium package): the explorer's page tests need a browser`;

before(async () => {
  if (skip) return;
  assert.ok(existsSync(bundle), `${bundle} is missing: run node scripts/build.mjs first`);
  server = createServer((request, response) => {
    if (request.url === '/explorer.js') response.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(bundle));
    else response.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  address = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

after(() => {
  server?.close();
});

test('the grid picker finds the nearest point within the radius, as looking at every point does', () => {
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const count = 5000;
  const points = Float32Array.from({ length: count * 2 }, () => random() * 10 - 5);
  const picker = new GridPicker(points, count);
  const visible = (index: number) => index % 5 !== 0;
  for (let query = 0; query < 500; query++) {
    const x = random() * 12 - 6, y = random() * 12 - 6, radius = random() * 0.3;
    let expected = -1, best = radius * radius;
    for (let index = 0; index < count; index++) {
      const distance = (points[index * 2] - x) ** 2 + (points[index * 2 + 1] - y) ** 2;
      if (visible(index) && (distance < best || (distance === best && expected >= 0 && index < expected))) {
        expected = index;
        best = distance;
      }
    }
    assert.equal(picker.nearest(x, y, radius, visible), expected, `query ${query} at (${x}, ${y}) r ${radius}`);
  }
  const square: [number, number][] = [[-1, -1], [1, -1], [1, 1], [-1, 1]];
  const inside = picker.inside(square);
  assert.deepEqual(inside, [...Array(count).keys()].filter((index) => Math.abs(points[index * 2]) < 1 && Math.abs(points[index * 2 + 1]) < 1));
});

test('a kept frame stands for the canvas while it covers it, zoomed at most 2× either way, at the same size; still, every point is drawn again', () => {
  const camera = { x: 1, y: 2, scale: 100 };
  const frame = frameFor(camera, 300, 200, 2, 4096);
  assert.deepEqual([frame.marginX, frame.marginY], [150, 100]);
  assert.deepEqual(place(frame, { x: 1.5, y: 1.75, scale: 100 }, 300, 200, 2), { dx: -100, dy: -50, zoom: 1 }, 'the camera half a unit right and a quarter down (200 device pixels a unit): the frame 100 pixels left, 50 up');
  assert.equal(place(frame, { x: 1 + 0.76, y: 2, scale: 100 }, 300, 200, 2), undefined, 'moved past its margin');
  assert.equal(place(frame, camera, 300, 202, 2), undefined, 'another canvas size');
  assert.equal(place(frame, { ...camera, scale: 201 }, 300, 200, 2), undefined, 'zoomed in more than 2×');
  assert.deepEqual(place(frame, { ...camera, scale: 50 }, 300, 200, 2), { dx: 0, dy: 0, zoom: 0.5 }, 'zoomed out 2× about its centre, it just covers the canvas');
  assert.equal(place(frame, { x: 1.01, y: 2, scale: 50 }, 300, 200, 2), undefined, 'zoomed out 2× and moved, it does not');
  assert.equal(frameFor(camera, 3000, 200, 1, 4096).marginX, 548, 'the frame stays within the largest texture');

  const keeper = new FrameKeeper();
  const first = keeper.plan(camera, 300, 200, 2, 4, false, 4096);
  assert.ok(first?.render && first.kind === 'full', 'the first draw draws every point');
  assert.equal(keeper.plan(camera, 300, 200, 2, 4, false, 4096), undefined, 'the same draw again does nothing');
  const moving = keeper.plan({ ...camera, x: 1.2 }, 300, 200, 2, 4, true, 4096);
  assert.ok(moving && !moving.render && moving.kind === 'moved', 'moving, the frame is moved');
  const settled = keeper.plan({ ...camera, x: 1.2 }, 300, 200, 2, 4, false, 4096);
  assert.ok(settled?.render && settled.kind === 'full', 'still again, every point is drawn at the new camera');
  keeper.invalidate();
  assert.ok(keeper.plan({ ...camera, x: 1.2 }, 300, 200, 2, 4, true, 4096)?.render, 'new colours: every point is drawn, moving or not');
});

for (const path of [{ name: 'webgl', flags: ['--enable-unsafe-swiftshader'] }, { name: 'canvas2d', flags: ['--disable-3d-apis'] }] as const) {
  describe(`the scatter drawn with ${path.name}`, { skip }, () => {
    let browser: Browser;
    let page: Page;
    const errors: string[] = [];

    before(async () => {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: [...BASE_FLAGS, ...path.flags] });
      page = await openPage(browser, address, errors);
      await deliver(page, { type: 'runs', runs: [{ runDir: CHOICE.runDir, label: 'VAE · 2026-01-01 00:00', checkpoints: ['last', 'best', 'epoch-2', 'epoch-1'] }], choice: CHOICE, follow: true });
      await deliver(page, { type: 'points', choice: CHOICE, result: result() });
      await waitInPage(page, `data('canvas.scatter', 'drawn') !== undefined`);
    });

    after(async () => {
      await browser?.close();
    });

    test(`draws every point with ${path.name}, in its class's colour`, async () => {
      assert.equal(await inPage(page, `data('#explorer-root', 'renderer')`), path.name);
      assert.equal(await inPage(page, `data('canvas.scatter', 'drawn')`), String(COUNT));
      const lone = await pixelAt(page, 0, 0);
      // Class 1 is Tableau 10's orange (#f28e2b), drawn at alpha 220/255 over a transparent canvas.
      assert.ok(lone[3] > 150 && lone[0] > lone[2] + 60, `the lone point at the origin is orange: ${lone}`);
      const empty = await pixelAt(page, 1, 0.3);
      assert.equal(empty[3], 0, `empty space stays clear: ${empty}`);
      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: `${artifacts}/explorer-${path.name}.png` });
      assert.deepEqual(errors, []);
    });

    test('hovering a point asks for its example; empty space asks to decode the point under the pointer', async () => {
      const [x, y] = await screenOf(page, 0, 0);
      await page.mouse.move(x + 1, y);
      await page.waitForFunction(() => (globalThis as unknown as { sent: { type: string }[] }).sent.some((message) => message.type === 'example'));
      const example = (await sent(page)).filter((message) => message.type === 'example').at(-1)!;
      assert.equal(example.index, COUNT - 1, 'the lone point at the origin is picked');
      const [ex, ey] = await screenOf(page, 1, 0.5);
      await page.mouse.move(ex, ey);
      await page.waitForFunction(() => (globalThis as unknown as { sent: { type: string }[] }).sent.some((message) => message.type === 'decode'));
      const decode = (await sent(page)).filter((message) => message.type === 'decode').at(-1)! as unknown as { z: number[] };
      const view = await camera(page);
      assert.ok(Math.abs(decode.z[0] - 1) <= 1 / view.scale && Math.abs(decode.z[1] - 0.5) <= 1 / view.scale, `the decoded z is the point under the pointer: ${decode.z}`);
    });

    test('a decoded image is drawn pixel for pixel, and a traversal slider decodes with its dimension moved', async () => {
      const pixels = Uint8Array.from({ length: 16 }, (_, index) => index * 16);
      await deliver(page, { type: 'decoded', z: [1, 0.5], images: { count: 1, shape: [4, 4, 1], pixels: base64(pixels) } });
      await waitInPage(page, `data('canvas.decoded', 'z') !== undefined`);
      const drawn = await inPage<number[]>(page, 'decoded(4)');
      assert.deepEqual(drawn, [...pixels]);
      const labels = await page.$$eval('.slider label', (elements) => elements.map((element) => element.textContent));
      assert.deepEqual(labels.map((text) => text?.split(' ')[0]), ['z1', 'z0'], 'sliders are ordered by KL');
      assert.match(labels[1] ?? '', /inactive/);
      const before = (await sent(page)).length;
      await inPage(page, 'slide(1, 2)');
      const moved = (await sent(page)).slice(before).find((message) => message.type === 'decode') as unknown as { z: number[] } | undefined;
      assert.ok(moved, 'the slider decodes');
      assert.ok(Math.abs(moved.z[1] - 2) < 0.05 && Math.abs(moved.z[0] - 1) < 0.05, `z1 moved to 2, z0 kept: ${moved.z}`);
    });

    test('the legend hides a class: its points are not drawn and not picked', async () => {
      await page.click('.legend .class[data-label="1"]');
      await waitInPage(page, `data('canvas.scatter', 'drawn') === '${COUNT - PER_CLASS - 1}'`);
      const lone = await pixelAt(page, 0, 0);
      assert.equal(lone[3], 0, 'the hidden lone point is gone');
      const before = (await sent(page)).length;
      const [x, y] = await screenOf(page, 0, 0);
      await page.mouse.move(x + 3, y + 3);
      await page.mouse.move(x, y);
      await page.waitForFunction((count) => (globalThis as unknown as { sent: unknown[] }).sent.length > count, before);
      assert.ok(!(await sent(page)).slice(before).some((message) => message.type === 'example'), 'a hidden point is not hovered');
      await page.click('.legend .class[data-label="1"]');
    });

    test('an Alt-drag lasso asks for the examples inside it and shows their images', async () => {
      const corners = [[-2.8, -2.8], [-1.2, -2.8], [-1.2, -1.2], [-2.8, -1.2]];
      // Zoomed out from the keyboard, so that the whole square lies on the canvas.
      await page.focus('canvas.scatter');
      const before = (await camera(page)).scale;
      await page.keyboard.press('-');
      await page.keyboard.press('-');
      // The corners are placed with the camera the page drew last: wait until it drew both zoom steps.
      await waitInPage(page, `Math.abs(JSON.parse(data('canvas.scatter', 'camera')).scale - ${before / 1.5625}) < ${before * 1e-6}`);
      const screen = await Promise.all(corners.map(([x, y]) => screenOf(page, x, y)));
      await page.keyboard.down('Alt');
      await page.mouse.move(...screen[0]);
      await page.mouse.down();
      for (const point of [...screen.slice(1), screen[0]]) await page.mouse.move(...point, { steps: 3 });
      await page.mouse.up();
      await page.keyboard.up('Alt');
      await page.waitForFunction(`window.sent.some((message) => message.type === 'lasso')`);
      const lasso = (await sent(page)).find((message) => message.type === 'lasso') as unknown as { indices: number[] };
      const { labels } = cluster();
      assert.deepEqual(lasso.indices, [...Array(COUNT).keys()].filter((index) => labels[index] === 0 && index < 3 * PER_CLASS), 'exactly class 0\'s cluster');
      const images = Uint8Array.from({ length: lasso.indices.length * 16 }, (_, index) => index % 256);
      await deliver(page, { type: 'lasso', indices: lasso.indices, images: { count: lasso.indices.length, shape: [4, 4, 1], pixels: base64(images) } });
      await waitInPage(page, `data('canvas.lasso-images', 'count') === '${PER_CLASS}'`);
    });

    test('a pan shows the last frame moved, pixel for pixel what drawing every point at its camera shows; the release draws every point', async () => {
      await waitInPage(page, `data('canvas.scatter', 'frame') === 'full'`);
      const still = await camera(page);
      assert.equal(await inPage(page, `snapshot('still')`), 'full');
      const [x, y] = await screenOf(page, still.x, still.y);
      await page.keyboard.down('Shift');
      await page.mouse.move(x, y);
      await page.mouse.down();
      await page.mouse.move(x + 40, y + 25, { steps: 4 });
      const expected = { x: still.x - 40 / still.scale, y: still.y + 25 / still.scale };
      // A held drag keeps showing the moved frame: it draws every point again only when released.
      await waitInPage(page, `(() => { const view = JSON.parse(data('canvas.scatter', 'camera')); return Math.abs(view.x - ${expected.x}) < 1e-9 && Math.abs(view.y - ${expected.y}) < 1e-9; })()`);
      assert.equal(await inPage(page, `snapshot('moved')`), 'moved', 'the frame while panning is the last one moved');
      await page.mouse.up();
      await page.keyboard.up('Shift');
      await waitInPage(page, `data('canvas.scatter', 'frame') === 'full'`);
      assert.equal(await inPage(page, `snapshot('settled')`), 'full');
      assert.ok(await inPage<number>(page, `difference('still', 'moved')`) > 100, 'the pan moved the picture');
      // Canvas2D shades a square's edge pixels by its position's fraction of a pixel, which the two drawings' sums round apart by a unit or two.
      const tolerance = path.name === 'webgl' ? 0 : 2;
      assert.equal(await inPage<number>(page, `difference('moved', 'settled', ${tolerance})`), 0, 'the moved frame has every pixel where the full drawing puts it');
      assert.deepEqual(errors, []);
    });

    test('a zoom shows the last frame scaled about the same centre, each class where drawing every point puts it, until the camera settles', async () => {
      await waitInPage(page, `data('canvas.scatter', 'frame') === 'full'`);
      const colours = [[0x4e, 0x79, 0xa7], [0xf2, 0x8e, 0x2b], [0xe1, 0x57, 0x59]];
      const before = await camera(page);
      // A zoom's frame is taken in the frame the key drew; a machine too slow to draw it before the camera settles tries again.
      let kind = 'full';
      for (let attempt = 0; attempt < 5 && kind !== 'moved'; attempt++) {
        await page.focus('canvas.scatter');
        kind = await inPage<string>(page, `keyFrame('${attempt % 2 === 0 ? '+' : '-'}', 'zoomed')`);
        await waitInPage(page, `data('canvas.scatter', 'frame') === 'full'`);
      }
      assert.equal(kind, 'moved', 'a zoom\'s first frame is the last one scaled');
      const after = await camera(page);
      assert.notEqual(after.scale, before.scale);
      await inPage(page, `snapshot('settled')`);
      const scaled = await inPage<number[][]>(page, `centroids('zoomed', ${JSON.stringify(colours)})`);
      const full = await inPage<number[][]>(page, `centroids('settled', ${JSON.stringify(colours)})`);
      full.forEach(([x, y, count], at) => {
        assert.ok(count > 20 && scaled[at][2] > 20, `class ${at} is drawn in both frames: ${count}, ${scaled[at][2]} pixels`);
        assert.ok(Math.hypot(scaled[at][0] - x, scaled[at][1] - y) < 1, `class ${at} lies where drawing every point puts it: (${scaled[at][0]}, ${scaled[at][1]}) vs (${x}, ${y})`);
      });
      assert.deepEqual(errors, []);
    });

    test('state kept by the webview (camera, choice, hidden classes) draws the same picture again', async () => {
      await page.mouse.move(100, 100);
      await page.mouse.wheel(0, -200);
      await waitInPage(page, `data('canvas.scatter', 'camera') !== undefined`);
      const kept = await page.evaluate(() => (globalThis as unknown as { kept: { camera: { scale: number } } }).kept);
      const shown = await openPage(browser, `${address}?state=${encodeURIComponent(JSON.stringify(kept))}`, errors);
      const ready = (await sent(shown)).find((message) => message.type === 'ready') as unknown as { choice: ExplorerChoice };
      assert.deepEqual(ready.choice, CHOICE, 'the page asks for what it showed');
      await deliver(shown, { type: 'points', choice: CHOICE, result: result() });
      const again = await camera(shown);
      assert.equal(again.scale, kept.camera.scale, 'the zoom is kept');
      await shown.close();
    });
  });
}

describe('what each kind of model gets', { skip }, () => {
  let browser: Browser;
  const errors: string[] = [];

  before(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: [...BASE_FLAGS, '--disable-3d-apis'] });
  });

  after(async () => {
    await browser?.close();
  });

  async function shown(model: Partial<ExploreResult['model']>): Promise<Page> {
    const page = await openPage(browser, address, errors);
    const data = result();
    await deliver(page, { type: 'points', choice: CHOICE, result: { ...data, model: { ...data.model, ...model } } });
    await waitInPage(page, `data('canvas.scatter', 'drawn') !== undefined`);
    return page;
  }

  test('a CVAE decodes with the class picked, and every class of the same z at once', async () => {
    const page = await shown({ kind: 'cvae', classes: 3 });
    assert.equal(await page.isVisible('section.conditional'), true);
    await page.evaluate(`(() => { const picker = document.querySelector('section.conditional vscode-single-select'); picker.value = '2'; picker.dispatchEvent(new Event('change')); })()`);
    const [x, y] = await screenOf(page, 1, 0.5);
    await page.mouse.move(x, y);
    await page.waitForFunction(`window.sent.some((message) => message.type === 'decode')`);
    const decode = (await sent(page)).filter((message) => message.type === 'decode').at(-1)!;
    assert.equal(decode.label, 2, 'the decode carries the picked class');
    await page.click('section.conditional vscode-button');
    const every = (await sent(page)).find((message) => message.type === 'decodeClasses') as unknown as { z: number[] } | undefined;
    assert.deepEqual(every?.z, decode.z, 'every class is asked for the current z');
    await page.close();
  });

  test('a U-Net says why it cannot decode a free point, and asks for no decode', async () => {
    const page = await shown({ kind: 'unet', variational: false, decodes: false, reason: 'U-Net skips: its decoder needs the encoder\'s features.' });
    assert.match(await page.textContent('.status') ?? '', /U-Net skips: its decoder needs the encoder's features\. Hover a point/);
    assert.equal(await page.$$eval('.slider', (sliders) => sliders.length), 0, 'no traversal sliders');
    const [x, y] = await screenOf(page, 1, 0.5);
    await page.mouse.move(x, y);
    await page.mouse.move(x + 5, y + 5);
    assert.ok(!(await sent(page)).some((message) => message.type === 'decode'));
    await page.close();
  });

  test('UMAP: a hovered point names its example in the split, and empty space decodes the nearest example\'s code', async () => {
    const page = await openPage(browser, address, errors);
    const data = result();
    const indices = Array.from({ length: COUNT }, (_, row) => 2 * row + 1);
    await deliver(page, { type: 'points', choice: { ...CHOICE, projection: 'umap' }, result: { ...data, indices, projection: { ...data.projection, method: 'umap' } } });
    await waitInPage(page, `data('canvas.scatter', 'drawn') !== undefined`);
    assert.match(await page.textContent('.status') ?? '', /UMAP has no inverse/);
    const [x, y] = await screenOf(page, 0, 0);
    await page.mouse.move(x + 1, y);
    await page.waitForFunction(`window.sent.some((message) => message.type === 'example')`);
    assert.equal((await sent(page)).find((message) => message.type === 'example')!.index, indices[COUNT - 1], 'the lone point\'s example in the split');
    const [ex, ey] = await screenOf(page, 1, 0.5);
    await page.mouse.move(ex, ey);
    await page.waitForFunction(`window.sent.some((message) => message.type === 'decode')`);
    const decode = (await sent(page)).filter((message) => message.type === 'decode').at(-1) as unknown as { z: number[] };
    const { points } = cluster();
    const nearest = [...Array(COUNT).keys()].reduce((best, row) => (Math.hypot(points[row * 2] - 1, points[row * 2 + 1] - 0.5) < Math.hypot(points[best * 2] - 1, points[best * 2 + 1] - 0.5) ? row : best), 0);
    assert.deepEqual(decode.z, [points[nearest * 2], points[nearest * 2 + 1]], 'the nearest example\'s code is decoded');
    await page.close();
  });

  test('a plain autoencoder says it has no prior', async () => {
    const page = await shown({ kind: 'ae', variational: false });
    assert.match(await page.textContent('.status') ?? '', /plain autoencoder has no prior/);
    await page.close();
    assert.deepEqual(errors, []);
  });
});

/** CIE L*a*b* (D65) of an sRGB colour: where ΔE76, the distance between two, is how different they look. */
function lab([red, green, blue]: number[]): [number, number, number] {
  const [r, g, b] = [red, green, blue].map((channel) => channel / 255).map((value) => (value <= 0.04045 ? value / 12.92 : ((value + 0.055) / 1.055) ** 2.4));
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116);
  const x = f((0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047), y = f(0.2126 * r + 0.7152 * g + 0.0722 * b), z = f((0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883);
  return [116 * y - 16, 500 * (x - y), 200 * (y - z)];
}

/** A seeded cloud of `count` 2-d points with a normal's long tails, as a PCA of latent means is. */
function gaussianCloud(count: number): Float32Array {
  let seed = 11;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) + 1) / (2 ** 31 + 1);
  return Float32Array.from({ length: count * 2 }, (_, at) => Math.sqrt(-2 * Math.log(random())) * Math.cos(2 * Math.PI * random()) * (at % 2 === 0 ? 3 : 1.5));
}

describe('the page as a person sees it in a narrow side bar', { skip }, () => {
  let browser: Browser;
  const errors: string[] = [];
  const IMAGE: [number, number, number] = [28, 28, 1];
  const image = (shade: number) => base64(Uint8Array.from({ length: 28 * 28 }, (_, index) => (index * shade) % 256));

  before(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: [...BASE_FLAGS, '--disable-3d-apis'] });
  });

  after(async () => {
    await browser?.close();
  });

  /** A page of `width` × `height` showing `data`, with the run picker above it as the host sends it. */
  async function shown(data: ExploreResult, viewport = { width: 320, height: 900 }): Promise<Page> {
    const page = await openPage(browser, address, errors, viewport);
    await deliver(page, { type: 'runs', runs: [{ runDir: CHOICE.runDir, label: 'VAE on MNIST (the PyTorch example) · 2026-01-01 00:00', checkpoints: ['last', 'best', 'epoch-1'] }], choice: CHOICE, follow: true });
    await deliver(page, { type: 'points', choice: CHOICE, result: data });
    await waitInPage(page, `data('canvas.scatter', 'drawn') !== undefined`);
    return page;
  }

  /** The MNIST VAE as the new user saw it: a PCA of 20-d means, 28 × 28 images, the loss in its own units. */
  function mnist(units: 'loss' | 'nats'): ExploreResult {
    const data = result();
    return { ...data, model: { ...data.model, shape: IMAGE, units, latent: 2 }, projection: { method: 'pca', points: data.projection.points, mean: [0, 0], components: [[1, 0], [0, 1]], explained: [0.21, 0.14] } };
  }

  // 700 px: the view alone in the side bar; 480 px: sharing it with the runs view, as it opens.
  for (const height of [700, 480]) {
    test(`in a 300 × ${height} view, the hovered example's images and the decoded image are in sight with the scatter, and the pointer on it`, async () => {
      const page = await shown(mnist('loss'), { width: 300, height });
      const [x, y] = await screenOf(page, 0, 0);
      await page.mouse.move(x + 1, y);
      await page.waitForFunction(`window.sent.some((message) => message.type === 'example')`);
      await deliver(page, { type: 'example', result: { index: COUNT - 1, label: 1, loss: 92.3164, shape: IMAGE, input: image(3), reconstruction: image(5), mean: [0, 0] } });
      const [ex, ey] = await screenOf(page, 1, 0.5);
      await page.mouse.move(ex, ey);
      await page.waitForFunction(`window.sent.some((message) => message.type === 'decode')`);
      await deliver(page, { type: 'decoded', z: [1, 0.5], images: { count: 1, shape: IMAGE, pixels: image(7) } });
      await waitInPage(page, `data('canvas.decoded', 'z') !== undefined && data('figure.hover', 'index') !== undefined`);
      const boxes = await page.evaluate(`Object.fromEntries(['canvas.scatter', 'figure.hover', 'figure.decoded-figure'].map((selector) => { const box = document.querySelector(selector).getBoundingClientRect(); return [selector, { left: box.left, top: box.top, right: box.right, bottom: box.bottom }]; }))`) as Record<string, { left: number; top: number; right: number; bottom: number }>;
      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: `${artifacts}/explorer-300x${height}.png` });
      for (const [selector, box] of Object.entries(boxes)) assert.ok(box.left >= 0 && box.top >= 0 && box.right <= 300 && box.bottom <= height, `${selector} lies inside the 300 × ${height} view: ${JSON.stringify(box)}`);
      const scatter = boxes['canvas.scatter'];
      assert.ok(ex >= scatter.left && ex <= scatter.right && ey >= scatter.top && ey <= scatter.bottom, 'the pointer is on the scatter');
      await page.close();
      assert.deepEqual(errors, []);
    });
  }

  // The chart colours VS Code's default dark, light and high-contrast themes give (its colour registry's defaults), and their side bars' backgrounds.
  const THEMES = {
    dark: { blue: '#59a4f9', orange: '#d18616', green: '#89d185', red: '#f14c4c', purple: '#b180d7', yellow: '#cca700', background: '#181818' },
    light: { blue: '#0063d3', orange: '#d18616', green: '#388a34', red: '#e51400', purple: '#652d90', yellow: '#bf8803', background: '#f8f8f8' },
    'high-contrast': { blue: '#59a4f9', orange: '#ab5a00', green: '#89d185', red: '#f48771', purple: '#b180d7', yellow: '#ffd370', background: '#000000' },
  };

  for (const [theme, colours] of Object.entries(THEMES)) {
    test(`the ten classes' colours in the ${theme} theme are far apart to the eye and from the background: CIE76 ΔE over 20`, async () => {
      const page = await openPage(browser, address, errors);
      await page.evaluate(`(() => { const style = document.documentElement.style; ${Object.entries(colours).map(([name, value]) => `style.setProperty('--vscode-${name === 'background' ? 'sideBar-background' : `charts-${name}`}', '${value}');`).join(' ')} document.body.style.background = '${colours.background}'; })()`);
      const data = result();
      await deliver(page, { type: 'points', choice: CHOICE, result: { ...data, labels: base64(Uint8Array.from({ length: COUNT }, (_, index) => index % 10)) } });
      await waitInPage(page, `data('canvas.scatter', 'drawn') !== undefined`);
      const swatches = await page.evaluate(`[...document.querySelectorAll('.legend .class .swatch')].map((element) => getComputedStyle(element).backgroundColor)`) as string[];
      assert.equal(swatches.length, 10);
      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: `${artifacts}/explorer-classes-${theme}.png` });
      const labs = swatches.map((text) => lab((/rgb\((\d+), (\d+), (\d+)\)/.exec(text) ?? []).slice(1).map(Number)));
      const background = lab([1, 3, 5].map((at) => parseInt(colours.background.slice(at, at + 2), 16)));
      const distance = (a: number[], b: number[]) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
      for (let first = 0; first < 10; first++) {
        assert.ok(distance(labs[first], background) > 20, `class ${first} (${swatches[first]}) is ΔE ${distance(labs[first], background).toFixed(1)} from the background ${colours.background}`);
        for (let second = first + 1; second < 10; second++) {
          assert.ok(distance(labs[first], labs[second]) > 20, `classes ${first} (${swatches[first]}) and ${second} (${swatches[second]}) are ΔE ${distance(labs[first], labs[second]).toFixed(1)} apart`);
        }
      }
      await page.close();
    });
  }

  for (const method of ['pca', 'umap'] as const) {
    test(`the first camera (${method}) frames the whole cloud: at least 99% of a long-tailed cloud's points lie inside the canvas, and it fills it`, async () => {
      const count = 3000;
      const cloud = gaussianCloud(count);
      const data = result();
      const page = await shown({ ...data, count, means: base64(cloud), labels: base64(new Uint8Array(count)), losses: base64(new Float32Array(count)), ...(method === 'umap' ? { indices: [...Array(count).keys()] } : {}), projection: { method, points: base64(cloud), mean: [0, 0], components: [[1, 0], [0, 1]], explained: [0.5, 0.2] } });
      const view = await camera(page);
      const screen = (at: number) => [(cloud[at * 2] - view.x) * view.scale + view.width / 2, view.height / 2 - (cloud[at * 2 + 1] - view.y) * view.scale];
      // A point is drawn 4 px wide: inside when all of it is.
      const inside = [...Array(count).keys()].filter((at) => { const [x, y] = screen(at); return x >= 2 && x <= view.width - 2 && y >= 2 && y <= view.height - 2; }).length;
      assert.ok(inside >= 0.99 * count, `${inside} of ${count} points inside a ${view.width} × ${view.height} canvas`);
      const xs = [...Array(count).keys()].map((at) => screen(at)[0]).sort((a, b) => a - b);
      assert.ok(xs[Math.floor(0.99 * count)] - xs[Math.floor(0.01 * count)] > 0.6 * view.width, 'the cloud fills the canvas, not a corner of it');
      await page.close();
    });
  }

  test('captions: a loss in its own units is not named twice, nats are named; examples are numbered from 1 as the notebook\'s image view numbers them', async () => {
    for (const units of ['loss', 'nats'] as const) {
      const page = await shown(mnist(units));
      await deliver(page, { type: 'example', result: { index: 6, label: 4, loss: 92.3164, shape: IMAGE, input: image(3), reconstruction: image(5), mean: [0, 0] } });
      await waitInPage(page, `data('figure.hover', 'index') === '6'`);
      assert.equal(await page.textContent('figure.hover figcaption'), `#7 · label 4 · loss 92.32${units === 'nats' ? ' nats' : ''} (input, reconstruction)`);
      assert.equal(await page.textContent('.sliders h3'), units === 'nats' ? 'Traverse (ordered by KL (nats))' : 'Traverse (ordered by KL)');
      if (units === 'loss') {
        // Two picks: the lone point (the split's last example, #COUNT) and another; the interpolation names both from 1.
        for (const [dataX, dataY] of [[0, 0], [CENTRES[2][0] + 0.15, CENTRES[2][1]]]) {
          const [x, y] = await screenOf(page, dataX, dataY);
          await page.mouse.move(x, y);
          await page.mouse.down();
          await page.mouse.up();
        }
        const picked = await page.evaluate(() => (globalThis as unknown as { kept: { picked: number[] } }).kept.picked);
        assert.equal(picked[0], COUNT - 1);
        assert.equal(await page.textContent('section.strip .caption'), `#${COUNT} → #${picked[1] + 1}, slerp of their means`);
      }
      await page.close();
    }
    assert.deepEqual(errors, []);
  });
});
