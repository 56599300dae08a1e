/**
 * T1: the training chart's update cost with 10 runs × 20k points, in Chromium (Debian's, through
 * playwright-core, software GL as in the tests). Ten chart renderers on one page, each a run whose
 * snapshot already holds most of its 20k logged steps; then rounds in which every chart gets one
 * `append` message (5 logged steps, an epoch every 100 steps), as the host sends them, until each
 * holds 20k points per series. Timed in the page around the renderer's synchronous handling of a
 * message (checking it, adding the points, thinning, chart.js's update and draw), with a frame
 * between rounds so that the page paints as it would.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import * as esbuild from 'esbuild';
import type { Page } from 'playwright-core';
import { chromium } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';

export interface ChartUpdateTimes {
  /** One message to one chart, in ms. */
  perMessage: number[];
  /** One round (each of the charts handles one message), in ms. */
  perRound: number[];
  /** Logged steps each chart holds at the end. */
  stepsPerChart: number;
}

export interface ChartUpdateOptions {
  charts: number;
  points: number;
  rounds: number;
  stepsPerMessage: number;
}

// The colours of VS Code's Dark Modern theme, as a webview gets them.
const PAGE = `<!doctype html><html style="--vscode-foreground:#cccccc; --vscode-descriptionForeground:#9d9d9d; --vscode-editor-background:#1f1f1f; --vscode-editorWidget-border:#313131; --vscode-charts-blue:#3794ff; --vscode-charts-orange:#d18616; --vscode-charts-green:#89d185; --vscode-charts-purple:#b180d7; --vscode-charts-red:#f14c4c; --vscode-charts-yellow:#cca700; --vscode-font-family:sans-serif">
<head><meta charset="utf-8"></head><body style="margin:0; width:800px; background:#1f1f1f"><div id="outputs"></div>
<script type="module">
import { activate } from '/chart.js';
const listeners = [];
const context = { postMessage() {}, onDidReceiveMessage: (listener) => { listeners.push(listener); return { dispose() {} }; }, setState() {}, getState() {}, workspace: { isTrusted: true }, settings: { lineLimit: 30 } };
const renderer = await activate(context);
const noise = (n) => { const x = Math.sin(n * 12.9898) * 43758.5453; return x - Math.floor(x); };
const STEPS_PER_EPOCH = 100;
const step = (run, at) => { const loss = 20 + 200 / Math.sqrt(at) + 4 * noise(at + run * 1e6); return { step: at, epoch: Math.floor((at - 1) / STEPS_PER_EPOCH) + 1, seconds: at * 0.02, loss, reconstruction: loss * 0.8, kl: loss * 0.2, lr: at < 10000 ? 1e-3 : 1e-4 }; };
const epoch = (at) => { const loss = 20 + 200 / Math.sqrt(at * STEPS_PER_EPOCH); return { epoch: at, step: at * STEPS_PER_EPOCH, seconds: at * 2, train: { loss, reconstruction: loss * 0.8, kl: loss * 0.2 }, test: { loss: loss + 1, reconstruction: loss * 0.8, kl: loss * 0.2 + 1 } }; };
const range = (from, to) => Array.from({ length: Math.max(0, to - from + 1) }, (_, index) => from + index);
window.measure = async ({ charts, points, rounds, stepsPerMessage }) => {
  const start = points - rounds * stepsPerMessage;
  const outputs = document.getElementById('outputs');
  for (let run = 0; run < charts; run++) {
    const element = document.createElement('div');
    outputs.append(element);
    const snapshot = { version: 1, chartId: 'run-' + run, units: 'nats', steps: range(1, start).map((at) => step(run, at)), epochs: range(1, Math.floor(start / STEPS_PER_EPOCH)).map(epoch), resumes: [], live: true };
    const json = snapshot;
    renderer.renderOutputItem({ id: 'output-' + run, mime: 'application/vnd.latent-lab.chart+json', metadata: {}, json: () => json, text: () => JSON.stringify(json), data: () => new Uint8Array(), blob: () => new Blob() }, element, new AbortController().signal);
  }
  const frame = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
  await frame();
  const perMessage = [];
  const perRound = [];
  for (let round = 0; round < rounds; round++) {
    const from = start + round * stepsPerMessage + 1;
    const to = from + stepsPerMessage - 1;
    const endsEpoch = range(from, to).filter((at) => at % STEPS_PER_EPOCH === 0).map((at) => epoch(at / STEPS_PER_EPOCH));
    // Built before the clock starts: the host builds messages, the renderer is what is timed.
    const messages = range(0, charts - 1).map((run) => ({ type: 'append', chartId: 'run-' + run, units: 'nats', steps: range(from, to).map((at) => step(run, at)), epochs: endsEpoch, resumes: [] }));
    let roundTime = 0;
    for (const message of messages) {
      const started = performance.now();
      for (const listener of listeners) listener(message);
      const took = performance.now() - started;
      perMessage.push(took);
      roundTime += took;
    }
    perRound.push(roundTime);
    await frame();
  }
  const held = [...document.querySelectorAll('.latent-lab-chart')].map((root) => Number(root.dataset.lastStep));
  return { perMessage, perRound, held };
};
window.ready = true;
</script></body></html>`;

/**
 * T1 as the target states it: ten runs on one chart (ten-runs-page.ts), each run's history of
 * `points` − rounds × stepsPerMessage logged steps loaded first; then rounds in which every run
 * gets one `append` message (built before the clock starts), handled and drawn in one update. The
 * same logged steps as the ten separate charts above.
 */
const TEN_RUNS_PAGE = `<!doctype html><html><head><meta charset="utf-8"></head><body style="margin:0; width:800px; background:#1f1f1f">
<div style="height:360px"><canvas id="chart"></canvas></div>
<script type="module">
import '/ten-runs.js';
const noise = (n) => { const x = Math.sin(n * 12.9898) * 43758.5453; return x - Math.floor(x); };
const STEPS_PER_EPOCH = 100;
const step = (run, at) => { const loss = 20 + 200 / Math.sqrt(at) + 4 * noise(at + run * 1e6); return { step: at, epoch: Math.floor((at - 1) / STEPS_PER_EPOCH) + 1, seconds: at * 0.02, loss, reconstruction: loss * 0.8, kl: loss * 0.2, lr: at < 10000 ? 1e-3 : 1e-4 }; };
const range = (from, to) => Array.from({ length: Math.max(0, to - from + 1) }, (_, index) => from + index);
window.measure = async ({ charts, points, rounds, stepsPerMessage }) => {
  const chart = window.tenRunsChart(document.getElementById('chart'));
  const start = points - rounds * stepsPerMessage;
  chart.load(range(0, charts - 1).map((run) => ({ type: 'append', chartId: 'run-' + run, units: 'nats', steps: range(1, start).map((at) => step(run, at)), epochs: [], resumes: [] })));
  const frame = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
  await frame();
  const perRound = [];
  for (let round = 0; round < rounds; round++) {
    const from = start + round * stepsPerMessage + 1;
    const messages = range(0, charts - 1).map((run) => ({ type: 'append', chartId: 'run-' + run, units: 'nats', steps: range(from, from + stepsPerMessage - 1).map((at) => step(run, at)), epochs: [], resumes: [] }));
    perRound.push(chart.update(messages));
    await frame();
  }
  return { perRound, ...chart.held() };
};
window.ready = true;
</script></body></html>`;

export async function measureTenRunsChart(options: ChartUpdateOptions): Promise<{ perRound: number[]; drawn: number }> {
  const built = await esbuild.build({ entryPoints: [path.join(__dirname, 'ten-runs-page.ts')], bundle: true, platform: 'browser', target: 'es2022', format: 'esm', minify: true, write: false, logLevel: 'warning' });
  const script = built.outputFiles[0].contents;
  return inChromium({ '/ten-runs.js': () => script }, TEN_RUNS_PAGE, async (page) => {
    type Measure = (options: ChartUpdateOptions) => Promise<{ perRound: number[]; steps: number[]; drawn: number }>;
    const measured = await page.evaluate((given) => (globalThis as unknown as { measure: Measure }).measure(given), options);
    if (measured.steps.length !== options.charts || measured.steps.some((steps) => steps !== options.points)) throw new Error(`the runs hold ${measured.steps.join(', ')} steps, not ${options.points} each`);
    return { perRound: measured.perRound, drawn: measured.drawn };
  });
}

/** Serves the page and its scripts on a local port, opens it in Chromium, and runs `use` once the page says it is ready. */
async function inChromium<T>(scripts: Record<string, () => Uint8Array>, html: string, use: (page: Page) => Promise<T>): Promise<T> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is not installed (Debian's chromium package): T1 needs a browser`);
  const server = createServer((request, response) => {
    const script = scripts[request.url ?? ''];
    if (script) response.writeHead(200, { 'content-type': 'text/javascript' }).end(script());
    else response.writeHead(200, { 'content-type': 'text/html' }).end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
  try {
    const page = await browser.newPage({ viewport: { width: 800, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await page.waitForFunction(() => (globalThis as unknown as { ready?: boolean }).ready === true, undefined, { timeout: 60_000 }).catch(() => {
      throw new Error(`the page did not load its script: ${errors.join('; ')}`);
    });
    const answer = await use(page);
    if (errors.length > 0) throw new Error(`the chart page failed: ${errors.join('; ')}`);
    return answer;
  } finally {
    await browser.close();
    server.close();
  }
}

/** `profile`: a file to write a CPU profile of the rounds to (open it in Chromium's DevTools). */
export async function measureChartUpdates(bundle: string, options: ChartUpdateOptions, profile?: string): Promise<ChartUpdateTimes> {
  return inChromium({ '/chart.js': () => readFileSync(bundle) }, PAGE, async (page) => {
    const session = profile ? await page.context().newCDPSession(page) : undefined;
    if (session) {
      await session.send('Profiler.enable');
      await session.send('Profiler.start');
    }
    type Measure = (options: ChartUpdateOptions) => Promise<{ perMessage: number[]; perRound: number[]; held: number[] }>;
    const measured = await page.evaluate((given) => (globalThis as unknown as { measure: Measure }).measure(given), options);
    if (session && profile) writeFileSync(profile, JSON.stringify((await session.send('Profiler.stop')).profile));
    if (measured.held.length !== options.charts || measured.held.some((steps) => steps !== options.points)) throw new Error(`the charts drew ${measured.held.join(', ')} steps, not ${options.points} each`);
    return { perMessage: measured.perMessage, perRound: measured.perRound, stepsPerChart: options.points };
  });
}
