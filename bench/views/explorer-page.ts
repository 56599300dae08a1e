/**
 * The Latent Explorer's page in Chromium (Debian's, through playwright-core), with 70k points in
 * ten clusters of a 2-d projection, as MNIST's train and test splits give:
 *   T7  a pan frame and a zoom frame while the camera moves (the last full frame shown moved and
 *       scaled, or every point drawn again where it no longer covers the canvas), the settle frame
 *       once the camera stops (every point drawn), each finished with a pixel read; and a hover pick
 *       (the grid picker); on WebGL (whatever GL this Chromium has, named) and on Canvas2D;
 *   T11 a page shown again with its kept state: the host's points message → the first frame drawn
 *       (its pixels read) and presented, with where the time goes; no request to compute anything
 *       (the channel's own copy of the message is not in it);
 *   T12 the page's JavaScript heap with the points.
 *
 *   node --import tsx bench/views/explorer-page.ts [--points 70000] [--frames 120]
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import type { Page } from 'playwright-core';
import type { ExplorerChoice, ExploreResult } from '../../extension/explorer-protocol';
import type { Result } from './stats';
import { report, result } from './stats';

const CHROMIUM = '/usr/bin/chromium';
const root = path.resolve(__dirname, '..', '..');
const bundle = path.join(root, 'dist', 'webview', 'explorer.js');
const { values } = parseArgs({ options: { points: { type: 'string', default: '70000' }, frames: { type: 'string', default: '120' } } });
const COUNT = Number(values.points);
const FRAMES = Number(values.frames);
const LATENT = 20;

const PAGE = `<!doctype html><html style="--vscode-foreground:#cccccc; --vscode-editor-background:#1f1f1f; --vscode-charts-blue:#3794ff; --vscode-charts-orange:#d18616; --vscode-charts-green:#89d185; --vscode-charts-red:#f14c4c; --vscode-charts-purple:#b180d7; --vscode-charts-yellow:#cca700; --vscode-font-family:sans-serif"><head><meta charset="utf-8"></head>
<body style="margin:0; width:400px; background:#1f1f1f" data-nonce="n"><div id="explorer-root"></div>
<script>
  const kept = new URLSearchParams(location.search).get('state');
  window.sent = [];
  window.kept = kept ? JSON.parse(kept) : undefined;
  window.acquireVsCodeApi = () => ({ postMessage: (message) => window.sent.push({ ...message, at: performance.now() }), getState: () => window.kept, setState: (state) => { window.kept = state; } });
</script>
<script type="module" src="/explorer.js"></script></body></html>`;

function base64(array: Float32Array | Uint8Array): string {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength).toString('base64');
}

/** Ten Gaussian clusters (a deterministic generator), as a trained VAE's PCA of MNIST looks. */
function points(): ExploreResult {
  let seed = 1;
  const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const gaussian = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  const projected = new Float32Array(COUNT * 2);
  const labels = new Uint8Array(COUNT);
  const means = new Float32Array(COUNT * LATENT);
  for (let index = 0; index < COUNT; index++) {
    const label = index % 10;
    labels[index] = label;
    projected[index * 2] = 3 * Math.cos(label) + gaussian() * 0.8;
    projected[index * 2 + 1] = 3 * Math.sin(label) + gaussian() * 0.8;
    for (let column = 0; column < LATENT; column++) means[index * LATENT + column] = column < 2 ? projected[index * 2 + column] : gaussian() * 0.1;
  }
  const identity = (row: number) => Array.from({ length: LATENT }, (_, column) => (column === row ? 1 : 0));
  return {
    model: { checkpoint: 'last', epoch: 10, kind: 'vae', variational: true, latent: LATENT, shape: [28, 28, 1], classes: 0, units: 'nats', decodes: true },
    split: 'all',
    count: COUNT,
    means: base64(means),
    labels: base64(labels),
    losses: base64(Float32Array.from({ length: COUNT }, (_, index) => 80 + (index % 50))),
    projection: { method: 'pca', points: base64(projected), mean: new Array<number>(LATENT).fill(0), components: [identity(0), identity(1)], explained: [0.3, 0.2] },
    dimensions: Array.from({ length: LATENT }, (_, index) => ({ index, kl: LATENT - index, active: index < 10, low: -3, high: 3 })),
  };
}

const CHOICE: ExplorerChoice = { runDir: '/runs/mnist/2026-01-01T00-00-00Z', checkpoint: 'last', split: 'all' };

async function open(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.waitForFunction('window.sent.some((message) => message.type === "ready")');
}

async function deliverPoints(page: Page, data: ExploreResult): Promise<void> {
  await page.evaluate((message) => (globalThis as unknown as { postMessage(value: unknown, origin: string): void }).postMessage(message, '*'), { type: 'points', choice: CHOICE, result: data });
  await page.waitForFunction('document.querySelector("canvas.scatter")?.dataset.drawn !== undefined', undefined, { timeout: 120_000 });
}

type Gesture = 'pan' | 'zoom' | 'settle';

/**
 * Frames of a gesture, as a person's pointer makes them: a frame callback of ours is queued before
 * each event, so the page's drawing callback runs right after it in the same frame; a task after
 * the frame's callbacks reads one pixel of the scatter back, which waits for the GL to finish.
 * pan: a Shift-drag, 3 px a frame, back and forth; zoom: the wheel, 30 frames in (2.5×), 30 out,
 * about the pointer; settle: a drag's release after one move, which draws every point at the new camera.
 * Each frame's data-frame says whether it showed the last frame moved or drew every point.
 */
async function frameTimes(page: Page, gesture: Gesture): Promise<{ times: number[]; full: number }> {
  return page.evaluate(`(async () => {
    const gesture = '${gesture}';
    const canvas = document.querySelector('canvas.scatter');
    const box = canvas.getBoundingClientRect();
    const reader = document.createElement('canvas');
    reader.width = 1; reader.height = 1;
    const context = reader.getContext('2d', { willReadFrequently: true });
    const pointer = (type, x, y, extra = {}) => canvas.dispatchEvent(new PointerEvent(type, { clientX: x, clientY: y, shiftKey: true, buttons: 1, pointerId: 1, bubbles: true, ...extra }));
    const timed = (act) => {
      const done = new Promise((resolve) => requestAnimationFrame(() => {
        const start = performance.now();
        setTimeout(() => {
          context.drawImage(canvas, 0, 0, 1, 1, 0, 0, 1, 1);
          context.getImageData(0, 0, 1, 1);
          resolve([performance.now() - start, canvas.dataset.frame]);
        }, 0);
      }));
      act();
      return done;
    };
    const times = [];
    let full = 0;
    let x = box.left + 100;
    const y = box.top + 100;
    if (gesture === 'pan') pointer('pointerdown', x, y);
    for (let frame = 0; frame < ${FRAMES}; frame++) {
      let act;
      if (gesture === 'pan') {
        x += frame % 40 < 20 ? 3 : -3;
        act = () => pointer('pointermove', x, y);
      } else if (gesture === 'zoom') {
        act = () => canvas.dispatchEvent(new WheelEvent('wheel', { clientX: box.left + 150, clientY: box.top + 120, deltaY: frame % 60 < 30 ? -20 : 20, bubbles: true, cancelable: true }));
      } else {
        pointer('pointerdown', x, y);
        x += frame % 40 < 20 ? 5 : -5;
        await timed(() => pointer('pointermove', x, y));
        act = () => pointer('pointerup', x, y, { buttons: 0 });
      }
      const [time, kind] = await timed(act);
      times.push(time);
      if (kind === 'full') full++;
    }
    if (gesture === 'pan') pointer('pointerup', x, y, { buttons: 0 });
    // The wheel's frames settle after the page's quiet time: wait for it, so the next gesture starts still.
    await new Promise((resolve) => setTimeout(resolve, 400));
    return { times, full };
  })()`);
}

/** Hover picks: the picker's query for pointer positions over the points, timed in the page. */
async function pickTimes(page: Page): Promise<number[]> {
  return page.evaluate(`(() => {
    const canvas = document.querySelector('canvas.scatter');
    const box = canvas.getBoundingClientRect();
    const times = [];
    for (let move = 0; move < 500; move++) {
      const x = box.left + (move * 37) % box.width, y = box.top + (move * 53) % box.height;
      const start = performance.now();
      canvas.dispatchEvent(new PointerEvent('pointermove', { clientX: x, clientY: y, pointerId: 1, bubbles: true }));
      times.push(performance.now() - start);
    }
    return times;
  })()`);
}

async function main(): Promise<void> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: the explorer benchmark needs Debian's chromium`);
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run node scripts/build.mjs`);
  const server = createServer((request, response) => {
    if (request.url === '/explorer.js') response.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(bundle));
    else response.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const data = points();
  const results: Result[] = [];
  try {
    for (const path of [{ name: 'webgl', flags: ['--enable-unsafe-swiftshader', '--enable-precise-memory-info'] }, { name: 'canvas2d', flags: ['--disable-3d-apis', '--enable-precise-memory-info'] }]) {
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--no-first-run', '--disable-background-networking', ...path.flags] });
      try {
        const page = await browser.newPage({ viewport: { width: 400, height: 900 } });
        await open(page, address);
        await deliverPoints(page, data);
        const gl = await page.evaluate(`(() => { const gl = document.createElement('canvas').getContext('webgl2'); if (!gl) return 'no WebGL'; const info = gl.getExtension('WEBGL_debug_renderer_info'); return info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER); })()`);
        const renderer = await page.evaluate('document.getElementById("explorer-root").dataset.renderer');
        const note = `${renderer}; GL: ${String(gl)}`;
        const pan = await frameTimes(page, 'pan');
        results.push(result('T7', `${COUNT} points, pan frame (${renderer})`, pan.times, 'ms', 16.7, { note: `${note}; ${pan.full} of ${FRAMES} frames drew every point` }));
        const zoom = await frameTimes(page, 'zoom');
        results.push(result('T7', `${COUNT} points, zoom frame (${renderer})`, zoom.times, 'ms', 16.7, { note: `${zoom.full} of ${FRAMES} frames drew every point (the zoom changed 2× since the last, or the frame ran out)` }));
        const settle = await frameTimes(page, 'settle');
        results.push(result('T7', `${COUNT} points, settle frame: every point drawn (${renderer})`, settle.times, 'ms', 16.7, { informative: true, note: 'once a pan or zoom stops; also what a page shown again draws first' }));
        results.push(result('T7', `hover pick (${renderer}, grid picker + event)`, await pickTimes(page), 'ms', 1));
        if (path.name === 'webgl') {
          const kept = await page.evaluate('window.kept');
          const again = await browser.newPage({ viewport: { width: 400, height: 900 } });
          const times: number[] = [];
          const parts: number[][] = [[], [], [], []];
          for (let round = 0; round < 5; round++) {
            await again.goto(`${address}?state=${encodeURIComponent(JSON.stringify(kept))}`);
            await again.waitForFunction('window.sent.some((message) => message.type === "ready")');
            // The host's message is put in the page untimed (the harness's transfer is not VS Code's), then posted as VS Code delivers it.
            await again.evaluate((message) => ((globalThis as unknown as { pending: unknown }).pending = message), { type: 'points', choice: CHOICE, result: data });
            // The page marks its handler's start and its first frame's submission; a pixel read waits for the GL to finish it, then a frame presents it.
            const [total, ...split] = await again.evaluate(`(async () => {
              const start = performance.now();
              window.postMessage(window.pending, '*');
              const canvas = () => document.querySelector('canvas.scatter');
              await new Promise((resolve) => { const check = () => (canvas()?.dataset.drawn ? resolve() : setTimeout(check, 1)); check(); });
              const reader = document.createElement('canvas').getContext('2d', { willReadFrequently: true });
              reader.drawImage(canvas(), 0, 0, 1, 1, 0, 0, 1, 1);
              reader.getImageData(0, 0, 1, 1);
              const finished = performance.now();
              await new Promise(requestAnimationFrame);
              const end = performance.now();
              const mark = (name) => performance.getEntriesByName(name).at(-1).startTime;
              return [end - start, mark('explorer-points') - start, mark('explorer-first-frame') - mark('explorer-points'), finished - mark('explorer-first-frame'), end - finished];
            })()`) as number[];
            times.push(total);
            split.forEach((value, part) => parts[part].push(value));
            const computeAsked = await again.evaluate('window.sent.filter((message) => message.type === "choose").length') as number;
            if (computeAsked > 0) throw new Error('the page shown again asked for its points to be computed');
          }
          results.push(result('T11', 'explorer shown again: the host\'s points message → first frame', times, 'ms', 300, { note: 'page side; no compute asked, the host resends what it has; the renderer is made while the host answers ready' }));
          const names = ['message delivered (the structured clone)', 'points decoded, colours, controls, first frame submitted', 'GL finishes the first frame (pixel read)', 'presented (next animation frame)'];
          names.forEach((name, part) => results.push(result('T11', `  of which: ${name}`, parts[part], 'ms', 300, { informative: true })));
          const heap = await page.evaluate('performance.memory.usedJSHeapSize') as number;
          results.push(result('T12', `explorer page JS heap with ${COUNT} points`, [heap / 1024], 'KB', 150 * 1024, { note: 'the page\'s JavaScript heap (performance.memory); GPU buffers are not in it' }));
        }
      } finally {
        await browser.close();
      }
    }
  } finally {
    server.close();
  }
  process.stdout.write(`${report(results)}\n`);
}

void main().catch((error: Error) => {
  process.stderr.write(`${error.stack ?? error.message}\n`);
  process.exit(1);
});
