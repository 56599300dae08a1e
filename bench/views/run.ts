/**
 * The views benchmark: p50/p95 of targets T1, T2, T4, T5, T6 and T10 (during a run, and while the
 * Latent Explorer and the Runs panel work),
 * each said met or not. T1 runs in Chromium against the built renderer; the others need the real
 * editor and run inside code-server (vscode/views.bench.ts, through scripts/test-vscode.mjs).
 *
 *   npm run bench:views -- [--only chromium|vscode] [--rounds 100]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';
import { measureChartUpdates, measureTenRunsChart } from './chart-update';
import type { Result } from './stats';
import { report, result } from './stats';
import type { ViewsMeasurements } from './vscode/views.bench';

const root = path.resolve(__dirname, '..', '..');
const { values } = parseArgs({ options: { only: { type: 'string' }, rounds: { type: 'string', default: '100' } } });
const CHARTS = 10;
const POINTS = 20_000;

async function chromiumTargets(): Promise<Result[]> {
  const rounds = Number(values.rounds);
  const options = { charts: CHARTS, points: POINTS, rounds, stepsPerMessage: 5 };
  process.stderr.write(`T1: ${CHARTS} runs of ${POINTS} logged steps on one chart in Chromium, ${rounds} rounds of one append to each run…\n`);
  const oneChart = await measureTenRunsChart(options);
  process.stderr.write(`T1, informative: ${CHARTS} separate chart renderers of ${POINTS} logged steps, ${rounds} rounds…\n`);
  const times = await measureChartUpdates(path.join(root, 'dist', 'webview', 'chart.js'), options);
  return [
    result('T1', `chart update, ${CHARTS} runs × ${POINTS / 1000}k points on one chart (an append to each run, decimated on arrival, one draw)`, oneChart.perRound, 'ms', 16, { note: `${oneChart.drawn} points drawn` }),
    result('T1', `${CHARTS} separate notebook charts, one message to each (their sum)`, times.perRound, 'ms', 16, { informative: true }),
    result('T1', 'one notebook chart\'s update among them (one message)', times.perMessage, 'ms', 16, { informative: true }),
  ];
}

async function vscodeTargets(): Promise<Result[]> {
  const out = path.join(root, 'dist', 'bench', 'views');
  await esbuild.build({ absWorkingDir: root, bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'warning', entryPoints: { index: 'bench/views/vscode/index.ts', 'views.bench': 'bench/views/vscode/views.bench.ts' }, outdir: out, sourcemap: true, external: ['vscode', 'mocha'] });
  const scratch = path.join(root, '.test-tmp', `bench-views-${process.pid}`);
  mkdirSync(scratch, { recursive: true });
  const results = path.join(scratch, 'results.json');
  process.stderr.write('T2, T4, T5, T6, T10: a 60-epoch run in a notebook in code-server, then the notebook reopened…\n');
  const run = spawnSync(process.execPath, [path.join(root, 'scripts', 'test-vscode.mjs')], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, LATENT_LAB_VSCODE_SUITES: out, LATENT_LAB_VSCODE_ARTIFACTS: path.join(scratch, 'artifacts'), LATENT_LAB_BENCH_RESULTS: results },
  });
  if (run.status !== 0 || !existsSync(results)) throw new Error(`the code-server part failed (exit ${run.status}); its output is above`);
  const measured = JSON.parse(readFileSync(results, 'utf8')) as ViewsMeasurements;
  rmSync(scratch, { recursive: true, force: true });
  const kb = (bytes: number[]) => bytes.map((value) => value / 1024);
  const loop = measured.eventLoopDelayMs;
  const panels = measured.panelsLoopDelayMs;
  // Where a reopen's time goes: printed beside T6, from the open command on.
  for (const [index, phases] of measured.reopenPhases.entries()) process.stdout.write(`T6 reopen ${index + 1}, ms after the open command: ${Object.entries(phases).map(([phase, ms]) => `${phase} ${ms}`).join(', ')}\n`);
  const late = measured.lateObservers > 0 ? `${measured.lateObservers} reopen(s) observed late: upper bounds` : '';
  return [
    result('T2', `logged step → painted (${measured.loggedSteps} records, chart messages every ${measured.updateIntervalMs} ms, ${measured.backend?.split(' ')[0] ?? 'backend unknown'})`, measured.paintLatencyMs, 'ms', 300),
    result('T2', 'logged step → the host sent its message (runtime, IPC, the host, the 50 ms coalescing)', measured.sentLatencyMs, 'ms', 300, { informative: true }),
    result('T2', 'logged step → drawn by the renderer (the paint is the next frame)', measured.drawLatencyMs, 'ms', 300, { informative: true }),
    result('T4', 'largest append message (every message of the run)', kb(measured.appendBytes), 'KB', 64, { note: `largest ${(Math.max(...measured.appendBytes) / 1024).toFixed(1)} KB` }),
    result('T4', `output item (snapshot), one per epoch, ${measured.epochs} epochs`, kb(measured.snapshotBytes), 'KB', 64, { note: `largest ${(Math.max(...measured.snapshotBytes) / 1024).toFixed(1)} KB` }),
    result('T5', `scrub to an epoch not seen (${measured.epochs}-epoch history)`, measured.scrubUncachedMs, 'ms', 100),
    result('T5', 'scrub to an epoch seen before (cached; drawn within the input event)', measured.scrubCachedMs, 'ms', 16),
    result('T6', `reopened (${measured.epochs} epochs of history) → image view painted`, measured.reopenImagesMs, 'ms', 1000, { note: late }),
    result('T6', 'reopened → chart painted', measured.reopenChartMs, 'ms', 1000, { note: late }),
    { target: 'T10', what: 'extension-host event-loop delay during the run', p50: loop.p50, p95: loop.p95, unit: 'ms', limit: 50, samples: 1, note: `max ${loop.max.toFixed(0)} ms` },
    { target: 'T10', what: `… while the explorer encodes, decodes on a drag (${measured.explorerDecodes} decodes) and the Runs panel lists 50 runs and overlays 10`, p50: panels.p50, p95: panels.p95, unit: 'ms', limit: 50, samples: 1, note: `max ${panels.max.toFixed(0)} ms` },
  ];
}

async function main(): Promise<void> {
  const results: Result[] = [];
  if (values.only !== 'vscode') results.push(...(await chromiumTargets()));
  if (values.only !== 'chromium') results.push(...(await vscodeTargets()));
  // These machines are shared: the load says how far the numbers are from an idle machine's.
  process.stdout.write(`\n${report(results)}\n\n${os.cpus().length} cores, load average ${os.loadavg().map((load) => load.toFixed(1)).join(' / ')} (1/5/15 min) at the end\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
