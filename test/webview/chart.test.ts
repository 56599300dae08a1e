/**
 * The training chart's renderer in a real browser (Debian's Chromium through playwright-core),
 * loading the built bundle (dist/webview/chart.js) as VS Code does, with a stand-in for the
 * renderer context that records what the renderer posts and delivers what the test sends.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { PNG } from 'pngjs';
import type { Download } from 'playwright-core';
import { compactSnapshot, SNAPSHOT_BYTE_LIMIT } from '../../extension/chart-snapshot';
import type { ChartSnapshot, EpochPoint, HostMessage, RendererMessage, StepPoint } from '../../extension/renderer-protocol';
import { RendererPage, rendererContextScript } from '../helpers/renderer-page';

const root = path.resolve(__dirname, '..', '..');
const bundle = path.join(root, 'dist', 'webview', 'chart.js');

/** What the page offers the test (see PAGE). */
interface Harness {
  render(snapshot: unknown): void;
  receive(message: unknown): void;
  sent: unknown[];
  root(): { dataset: Record<string, string | undefined> } | null;
  pixels(): string;
  canvases(): { clientWidth: number }[];
}
/** Only called inside browser.page.evaluate: the page's own global of that name answers there. */
const harness = () => (globalThis as unknown as { harness: () => Harness }).harness();

// VS Code sets the theme's variables on the root element of a webview.
const PAGE = `<!doctype html><html style="--vscode-foreground:#333; --vscode-charts-blue:#1a85ff; --vscode-charts-orange:#d186167e; --vscode-editor-background:#fdf6e3"><head><meta charset="utf-8"></head>
<body style="margin:0; width:800px">
<div id="output"></div>
<script type="module">
import { activate } from '/chart.js';
${rendererContextScript('application/vnd.latent-lab.chart+json')}
const renderer = await activate(context);
const element = document.getElementById('output');
let renders = 0;
const api = {
  render: (snapshot) => { renders++; renderer.renderOutputItem(outputItem(snapshot, 'output-1'), element, new AbortController().signal); },
  receive: deliver,
  sent,
  root: () => element.querySelector('.latent-lab-chart'),
  pixels: () => element.querySelector('canvas').toDataURL(),
  canvases: () => [...document.querySelectorAll('canvas')],
};
window.harness = () => api;
window.loaded = true;
</script></body></html>`;

const browser = new RendererPage({ bundle, html: PAGE, viewport: { width: 800, height: 500 } });

function step(at: number, loss = 100 - at / 10): StepPoint {
  return { step: at, epoch: Math.floor((at - 1) / 100) + 1, seconds: at / 50, loss, reconstruction: loss * 0.9, kl: loss * 0.1, lr: 1e-3 };
}

function epoch(number: number, loss: number): EpochPoint {
  return { epoch: number, step: number * 100, seconds: number * 2, train: { loss, reconstruction: loss * 0.9, kl: loss * 0.1 }, test: { loss: loss + 1, reconstruction: loss * 0.9, kl: loss * 0.1 + 1 } };
}

function snapshot(chartId: string, steps: StepPoint[], epochs: EpochPoint[] = [], live = true): ChartSnapshot {
  return { version: 1, chartId, units: 'nats', steps, epochs, resumes: [], live };
}

const dataset = () => browser.page.evaluate(() => ({ ...(harness().root()?.dataset ?? {}) }));

test('the chart says it is ready, draws N points after N updates, and a newer snapshot patches the same element', async (context) => {
  if (browser.skip) return context.skip(browser.skip);
  await browser.page.evaluate((value) => harness().render(value), snapshot('run-a', []));
  const sent = await browser.page.evaluate(() => harness().sent as RendererMessage[]);
  assert.deepEqual(sent.at(-1), { type: 'ready', chartId: 'run-a', step: 0, epoch: 0 });
  await browser.page.evaluate(() => {
    harness().root()!.dataset.mark = 'first';
  });
  const updates = 60;
  for (let at = 1; at <= updates; at++) {
    const message: HostMessage = { type: 'append', chartId: 'run-a', steps: [step(at)], epochs: [], resumes: [] };
    await browser.page.evaluate((value) => harness().receive(value), message);
  }
  // Another run's points, and a message that does not check out, are not drawn.
  await browser.page.evaluate((value) => harness().receive(value), { type: 'append', chartId: 'run-b', steps: [step(61)], epochs: [], resumes: [] });
  await browser.page.evaluate((value) => harness().receive(value), { type: 'append', chartId: 'run-a', steps: [{ ...step(61), loss: 'much' }], epochs: [], resumes: [] });
  assert.equal((await dataset()).drawnSteps, String(updates));
  assert.equal((await dataset()).steps, String(updates));

  await browser.page.evaluate((value) => harness().render(value), snapshot('run-a', Array.from({ length: 60 }, (_, index) => step(index + 1)), [epoch(1, 95)]));
  const patched = await dataset();
  assert.equal(patched.mark, 'first', 'the chart element was built again');
  assert.equal(patched.steps, String(updates));
  assert.equal(patched.epochs, '1');
  assert.equal(await browser.page.evaluate(() => harness().canvases().length), 1);
});

test('toggling a series from the legend changes the canvas, and toggling it back restores it', async (context) => {
  if (browser.skip) return context.skip(browser.skip);
  await browser.page.evaluate((value) => harness().render(value), snapshot('run-toggle', Array.from({ length: 200 }, (_, index) => step(index + 1)), [epoch(1, 90), epoch(2, 80)], false));
  // The theme's orange is translucent (VS Code borrows it from the overview ruler): the series is drawn opaque.
  assert.equal(await browser.page.locator('button[data-series="train-loss"] .swatch').evaluate((swatch) => (globalThis as unknown as { getComputedStyle(node: unknown): { backgroundColor: string } }).getComputedStyle(swatch).backgroundColor), 'rgb(209, 134, 22)');
  const before = await browser.page.evaluate(() => harness().pixels());
  const button = browser.page.locator('button[data-series="step-loss"]');
  assert.equal(await button.getAttribute('aria-pressed'), 'true');
  await button.click();
  assert.equal(await button.getAttribute('aria-pressed'), 'false');
  const hidden = await browser.page.evaluate(() => harness().pixels());
  assert.notEqual(hidden, before, 'hiding the per-step loss left the canvas as it was');
  await button.click();
  assert.equal(await browser.page.evaluate(() => harness().pixels()), before);
});

test('log scale is refused while a value is not positive, and taken back when one arrives', async (context) => {
  if (browser.skip) return context.skip(browser.skip);
  const checkbox = browser.page.locator('vscode-checkbox[aria-label="log scale"]');
  const state = () => checkbox.evaluate((element) => ({ disabled: (element as unknown as { disabled: boolean }).disabled, checked: (element as unknown as { checked: boolean }).checked }));
  // A Gaussian likelihood's loss in nats can be negative.
  await browser.page.evaluate((value) => harness().render(value), snapshot('run-negative', [step(1, 3), step(2, -2), step(3, -4)]));
  assert.equal((await state()).disabled, true);
  assert.match(await browser.page.locator('.latent-lab-chart .note').innerText(), /log scale off: some values are ≤ 0/);
  assert.equal((await dataset()).yScale, 'linear');

  await browser.page.evaluate((value) => harness().render(value), snapshot('run-positive', [step(1, 3), step(2, 2), step(3, 1)]));
  assert.equal((await state()).disabled, false);
  assert.equal(await browser.page.locator('.latent-lab-chart .note').innerText(), '');
  await checkbox.click();
  assert.equal((await dataset()).yScale, 'logarithmic');
  await browser.page.evaluate((value) => harness().receive(value), { type: 'append', chartId: 'run-positive', steps: [step(4, 0)], epochs: [], resumes: [] } satisfies HostMessage);
  assert.equal((await dataset()).yScale, 'linear');
  assert.deepEqual(await state(), { disabled: true, checked: false });
});

test('20k points per series are kept in full and drawn thinned to about the canvas width; a resumed run replaces what it undid', async (context) => {
  if (browser.skip) return context.skip(browser.skip);
  const count = 20_000;
  await browser.page.evaluate((value) => harness().render(value), snapshot('run-long', Array.from({ length: count }, (_, index) => step(index + 1, 10 + Math.sin(index)))));
  const long = await dataset();
  assert.equal(long.steps, String(count));
  const width = await browser.page.evaluate(() => harness().canvases()[0].clientWidth);
  assert.ok(Number(long.drawnSteps) <= width * 4, `${long.drawnSteps} points drawn on a canvas ${width} pixels wide`);
  assert.ok(Number(long.drawnSteps) >= width, `${long.drawnSteps} points drawn on a canvas ${width} pixels wide`);
  // Resumed from the checkpoint at step 15000: what was logged after it is gone.
  await browser.page.evaluate((value) => harness().receive(value), { type: 'append', chartId: 'run-long', steps: [step(15_001)], epochs: [], resumes: [15_000] } satisfies HostMessage);
  assert.equal((await dataset()).steps, '15001');
});

test('the x axis puts the logged steps at their step, their place in the epoch, or their wall time', async (context) => {
  if (browser.skip) return context.skip(browser.skip);
  // Epochs of 100 steps; the step of epoch 3 that is logged last is halfway through it.
  await browser.page.evaluate((value) => harness().render(value), snapshot('run-axes', Array.from({ length: 250 }, (_, index) => step(index + 1)), [epoch(1, 90), epoch(2, 80)], false));
  const choose = async (label: string) => {
    await browser.page.locator('vscode-single-select[aria-label="x axis"]').click();
    await browser.page.getByRole('option', { name: label, exact: true }).click();
  };
  assert.equal((await dataset()).xLast, '250');
  await choose('epoch');
  assert.equal((await dataset()).xLast, '2.5');
  await choose('wall time (s)');
  assert.equal((await dataset()).xLast, '5');
  await choose('step');
  assert.equal((await dataset()).xLast, '250');
});

test('resumes and learning-rate drops are marked on the chart', async (context) => {
  if (browser.skip) return context.skip(browser.skip);
  const steps = Array.from({ length: 300 }, (_, index) => ({ ...step(index + 1), lr: index < 150 ? 1e-3 : index < 250 ? 1e-4 : 1e-5 }));
  await browser.page.evaluate((value) => harness().render(value), { ...snapshot('run-marks', steps, [], false), resumes: [120] });
  const marked = await dataset();
  assert.equal(marked.resumeMarks, '1');
  assert.equal(marked.rateDrops, '2');
  const withMarks = await browser.page.evaluate(() => harness().pixels());
  await browser.page.evaluate((value) => harness().render(value), snapshot('run-unmarked', steps.map((point) => ({ ...point, lr: 1e-3 })), [], false));
  assert.equal((await dataset()).rateDrops, '0');
  assert.notEqual(await browser.page.evaluate(() => harness().pixels()), withMarks, 'the markers are drawn');
});

/** Clicks a toolbar button and answers the file it downloads. */
async function exported(action: string): Promise<{ name: string; bytes: Buffer }> {
  const [download] = await Promise.all([browser.page.waitForEvent('download'), browser.page.locator(`[data-action="${action}"]`).click()]) as [Download, void];
  const file = await download.path();
  return { name: download.suggestedFilename(), bytes: readFileSync(file) };
}

test('the toolbar\'s buttons show codicons from the bundle, each named for assistive technology and with a tooltip', async (context) => {
  if (browser.skip) return context.skip(browser.skip);
  await browser.page.evaluate((value) => harness().render(value), snapshot('run-icons', [step(1), step(2)]));
  const buttons = await browser.page.locator('.latent-lab-chart vscode-toolbar-button').evaluateAll((found) => found.map((button) => {
    const svg = button.querySelector('svg');
    const box = svg?.getBoundingClientRect();
    const element = button as unknown as { dataset: Record<string, string>; label?: string };
    return { action: element.dataset.action, label: element.label, title: button.getAttribute('title'), path: svg?.querySelector('path')?.getAttribute('d')?.length ?? 0, width: box?.width ?? 0, height: box?.height ?? 0, hidden: svg?.getAttribute('aria-hidden') };
  }));
  assert.deepEqual(buttons.map((button) => button.action), ['reset-zoom', 'export-png', 'export-csv']);
  for (const button of buttons) {
    assert.ok(button.label && button.title, `${button.action} has no label or tooltip`);
    assert.ok(button.path > 20 && button.width === 16 && button.height === 16, `${button.action} shows no 16-pixel icon: ${JSON.stringify(button)}`);
    assert.equal(button.hidden, 'true', 'the icon is named by its button, not read out');
  }
  // The name reaches the real button inside the element, where a screen reader looks.
  assert.equal(await browser.page.getByRole('button', { name: 'Export PNG' }).count(), 1);
});

test('PNG export: the file decodes, has the canvas\'s size, and the theme\'s background behind the chart', async (context) => {
  if (browser.skip) return context.skip(browser.skip);
  await browser.page.evaluate((value) => harness().render(value), snapshot('run-png', Array.from({ length: 100 }, (_, index) => step(index + 1)), [epoch(1, 90)], false));
  const { name, bytes } = await exported('export-png');
  assert.equal(name, 'training-chart.png');
  const image = PNG.sync.read(bytes);
  const canvas = await browser.page.evaluate(() => {
    const found = (globalThis as unknown as { document: { querySelector(selector: string): { width: number; height: number } } }).document.querySelector('.latent-lab-chart canvas');
    return { width: found.width, height: found.height };
  });
  assert.deepEqual({ width: image.width, height: image.height }, canvas);
  // --vscode-editor-background is #fdf6e3 on this page: an exported chart is readable outside the editor.
  assert.deepEqual([...image.data.subarray(0, 4)], [0xfd, 0xf6, 0xe3, 255]);
  const colours = new Set<number>();
  for (let offset = 0; offset < image.data.length; offset += 4) colours.add(image.data.readUInt32BE(offset));
  assert.ok(colours.size > 10, `the image holds ${colours.size} colours: the chart is not in it`);
});

test('CSV export: the header, then one row per point the chart holds, each value exactly as received', async (context) => {
  if (browser.skip) return context.skip(browser.skip);
  // Values without a short decimal form, a tiny one, and a run resumed at step 3 (steps 4 and 5 are gone).
  const steps = [1, 2, 3, 4, 5].map((at) => ({ ...step(at, 0.1 + 0.2 * at), reconstruction: 1 / (3 * at), kl: at * 1e-9 / 7, lr: 1e-3 / 3 }));
  const epochs = [epoch(1, 2 / 3)];
  await browser.page.evaluate((value) => harness().render(value), snapshot('run-csv', steps, epochs));
  const resumed = { ...step(4, Math.PI), kl: undefined, lr: 2.5e-4 };
  await browser.page.evaluate((value) => harness().receive(value), { type: 'append', chartId: 'run-csv', steps: [resumed], epochs: [], resumes: [3] } satisfies HostMessage);
  const { name, bytes } = await exported('export-csv');
  assert.equal(name, 'training-metrics.csv');
  const [header, ...rows] = bytes.toString('utf8').trimEnd().split('\n').map((line) => line.split(','));
  assert.deepEqual(header, ['record', 'epoch', 'step', 'seconds', 'loss', 'reconstruction', 'kl', 'lr', 'test_loss', 'test_reconstruction', 'test_kl']);
  const held = [...steps.slice(0, 3), resumed];
  const value = (cell: string) => (cell === '' ? undefined : Number(cell));
  assert.deepEqual(rows.map((row) => [row[0], ...row.slice(1).map(value)]), [
    ...held.map((point) => ['step', point.epoch, point.step, point.seconds, point.loss, point.reconstruction, point.kl, point.lr, undefined, undefined, undefined]),
    ...epochs.map((point) => ['epoch', point.epoch, point.step, point.seconds, point.train.loss, point.train.reconstruction, point.train.kl, undefined, point.test!.loss, point.test!.reconstruction, point.test!.kl]),
  ]);
});

test('zoom and pan change the x axis\'s range, and Reset zoom brings back the whole history', async (context) => {
  if (browser.skip) return context.skip(browser.skip);
  await browser.page.evaluate((value) => harness().render(value), snapshot('run-zoom', Array.from({ length: 400 }, (_, index) => step(index + 1)), [], false));
  const range = async () => {
    const { xMin, xMax } = await dataset();
    return [Number(xMin), Number(xMax)];
  };
  const whole = await range();
  assert.ok(whole[0] <= 1 && whole[1] >= 400, `the whole history is not shown: ${whole}`);
  const box = (await browser.page.locator('.latent-lab-chart canvas').boundingBox())!;
  const centre = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  await browser.page.mouse.move(centre.x, centre.y);
  await browser.page.keyboard.down('Control');
  await browser.page.mouse.wheel(0, -400);
  await browser.page.keyboard.up('Control');
  const zoomed = await range();
  assert.ok(zoomed[0] > whole[0] && zoomed[1] < whole[1], `Ctrl+wheel did not zoom in: ${whole} → ${zoomed}`);
  // A drag to the right pans towards earlier steps.
  await browser.page.mouse.down();
  for (let moved = 1; moved <= 10; moved++) await browser.page.mouse.move(centre.x + moved * 15, centre.y);
  await browser.page.mouse.up();
  const panned = await range();
  assert.ok(panned[0] < zoomed[0] && panned[1] < zoomed[1], `dragging did not pan: ${zoomed} → ${panned}`);
  assert.ok(Math.abs((panned[1] - panned[0]) - (zoomed[1] - zoomed[0])) < 1e-6 * whole[1], 'panning changed the zoom');
  await browser.page.locator('[data-action="reset-zoom"]').click();
  assert.deepEqual(await range(), whole);
});

/** Waits until chart.js has fitted the canvas to its box (it resizes on the frame after the legend's height changes). */
async function settled(): Promise<void> {
  await browser.page.waitForFunction(() => {
    const found = (globalThis as unknown as { document: { querySelector(selector: string): { height: number; parentElement: { clientHeight: number } } } }).document.querySelector('.latent-lab-chart canvas');
    return found.height === Math.round(found.parentElement.clientHeight * (globalThis as unknown as { devicePixelRatio: number }).devicePixelRatio);
  });
}

test('a line grown by messages draws exactly as the same points drawn at once, through a resume and on every x axis', async (context) => {
  if (browser.skip) return context.skip(browser.skip);
  // The first epoch is half as long as the others: where an epoch has not ended yet, its steps are placed by an estimate that the epoch's record corrects.
  const epochOfStep = (at: number) => (at <= 50 ? 1 : Math.floor((at - 51) / 100) + 2);
  const noisy = (at: number) => ({ ...step(at, 50 + 30 / Math.sqrt(at) + Math.sin(at * 1.7) * 3), epoch: epochOfStep(at) });
  const all = Array.from({ length: 3000 }, (_, index) => noisy(index + 1));
  // Resumed at step 2000 after 2200 were logged: steps 2001… come again with other values, and the line goes on growing.
  const redone = all.slice(2000).map((point) => ({ ...point, loss: point.loss + 1 }));
  const held = [...all.slice(0, 2000), ...redone];
  const epochs = Array.from({ length: 30 }, (_, index) => ({ ...epoch(index + 1, 50 + 30 / Math.sqrt((index + 1) * 100)), step: 50 + index * 100 }));
  const chunks = [all.slice(1000, 1400), all.slice(1400, 1800), all.slice(1800, 2200), redone.slice(0, 400), redone.slice(400, 800), redone.slice(800), []];
  const choose = async (label: string) => {
    await browser.page.locator('vscode-single-select[aria-label="x axis"]').click();
    await browser.page.getByRole('option', { name: label, exact: true }).click();
  };
  for (const axis of ['step', 'epoch', 'wall time (s)']) {
    await choose(axis);
    await browser.page.evaluate((value) => harness().render(value), snapshot(`at-once-${axis}`, held, epochs, false));
    await settled();
    const atOnce = await browser.page.evaluate(() => harness().pixels());
    await browser.page.evaluate((value) => harness().render(value), snapshot(`grown-${axis}`, all.slice(0, 1000), epochs.filter((point) => point.step <= 900)));
    // Each message brings the epochs that ended among the steps of the one before it, as the runtime logs them (an epoch's record after its steps).
    let logged = 1000;
    let ended = 900;
    for (const chunk of chunks) {
      const message: HostMessage = { type: 'append', chartId: `grown-${axis}`, steps: chunk, epochs: epochs.filter((point) => point.step > ended && point.step <= logged), resumes: [] };
      ended = Math.max(ended, logged);
      logged = chunk.at(-1)?.step ?? 3000;
      await browser.page.evaluate((value) => harness().receive(value), message);
    }
    assert.equal((await dataset()).steps, '3000');
    await settled();
    assert.equal(await browser.page.evaluate(() => harness().pixels()), atOnce, `on the ${axis} axis, the grown line differs from the line drawn at once`);
  }
  await choose('step');
});

/** A VAE's run as the views benchmark trains it: 60 epochs of 56 steps, a step logged every 4, values at full precision. */
function sixtyEpochRun(chartId: string): ChartSnapshot {
  const noise = (at: number) => Math.sin(at * 12.9898) * 43758.5453 % 1;
  const steps = Array.from({ length: 60 * 14 }, (_, index) => {
    const at = (index + 1) * 4;
    const loss = 180 + 400 / Math.sqrt(at) + 7 * noise(at);
    return { step: at, epoch: Math.floor((at - 1) / 56) + 1, seconds: at * 0.0734512, loss, reconstruction: loss * 0.8123, kl: loss * 0.1877, lr: at < 2000 ? 1e-3 : 3e-4 };
  });
  const epochs = Array.from({ length: 60 }, (_, index) => {
    const loss = 180 + 400 / Math.sqrt((index + 1) * 56) + noise(index) / 3;
    return { epoch: index + 1, step: (index + 1) * 56, seconds: (index + 1) * 4.1132, train: { loss, reconstruction: loss * 0.8123, kl: loss * 0.1877 }, test: { loss: loss + 1.2345678, reconstruction: loss * 0.81, kl: loss * 0.19 } };
  });
  return { version: 1, chartId, units: 'nats', steps, epochs, resumes: [2000], live: false };
}

test('the output item of a 60-epoch run is compact (version 2, under 64 KB) and draws as the whole history does', async (context) => {
  if (browser.skip) return context.skip(browser.skip);
  const full = sixtyEpochRun('run-sixty');
  const compact = compactSnapshot(full);
  const bytes = Buffer.byteLength(JSON.stringify(compact));
  assert.ok(bytes <= SNAPSHOT_BYTE_LIMIT, `the output item is ${bytes} bytes`);
  assert.ok(bytes <= Buffer.byteLength(JSON.stringify(full)) / 3, `the output item is ${bytes} bytes, the points as objects ${Buffer.byteLength(JSON.stringify(full))}`);
  await browser.page.evaluate((value) => harness().render(value), full);
  await settled();
  const whole = { pixels: await browser.page.evaluate(() => harness().pixels()), dataset: await dataset() };
  await browser.page.evaluate((value) => harness().render(value), compact);
  await settled();
  const drawn = await dataset();
  for (const key of ['steps', 'epochs', 'lastStep', 'drawnSteps', 'xLast', 'resumeMarks', 'rateDrops'] as const) assert.equal(drawn[key], whole.dataset[key], key);
  assert.equal(await browser.page.evaluate(() => harness().pixels()), whole.pixels, 'the compact item draws another curve');
});

test('a chart saved by an earlier version (a version-1 item) is still drawn, and a damaged version-2 item says which column is wrong', async (context) => {
  if (browser.skip) return context.skip(browser.skip);
  await browser.page.evaluate((value) => harness().render(value), sixtyEpochRun('run-saved-before'));
  assert.equal((await dataset()).steps, String(60 * 14));
  const compact = compactSnapshot(sixtyEpochRun('run-damaged'));
  await browser.page.evaluate((value) => harness().render(value), { ...compact, steps: { ...compact.steps, loss: compact.steps.loss.slice(1) } });
  assert.match(await browser.page.locator('#output').innerText(), /cannot draw this chart: steps must be columns step, epoch, centiseconds, loss, reconstruction, kl\? and lr of one length/);
});
