import assert from 'node:assert/strict';
import { fork, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { EngineEvent } from '../../runtime/protocol';
import { tinyExperiment } from '../helpers/experiments';
import { Client, SERVER as server } from '../helpers/runtime-client';
import { temporaryDirectory } from '../helpers/temp';

const root = path.resolve(__dirname, '..', '..');
let client: Client;
/** Where the experiments' files are: outside the runs folder, as a workspace's notebooks are. */
const workspace = temporaryDirectory();
/** The runs folder the "extension" chose; every run folder must land inside it. */
const runsRoot = path.join(workspace, 'project', 'notebooks', 'runs');
const outside = temporaryDirectory();

before(() => {
  assert.ok(existsSync(server), `${server} is missing: run "npm run build" first`);
  client = new Client(fork(server, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: { ...process.env, AEXP_PROGRESS_INTERVAL_MS: '100' } }));
  client.child.stderr?.resume();
});
after(() => client.child.kill());

/** A run request for a tiny experiment whose text travels with the request. */
function tinyRun(runId: string, options: { epochs: number; outDir?: string }) {
  const file = tinyExperiment(workspace, { epochs: options.epochs, name: runId });
  return { type: 'run' as const, runId, file, text: readFileSync(file, 'utf8'), outDir: options.outDir ?? path.join(runsRoot, runId) };
}

function runEvents(runId: string): EngineEvent[] {
  return client.notifications.flatMap((message) => (message.type === 'event' && message.runId === runId ? [message.event] : []));
}

test('the forked runtime initializes, runs a real experiment, streams its events and answers with the result', async () => {
  const initialized = await client.request({ type: 'initialize', backend: 'wasm', runsRoot });
  assert.ok(initialized.ok, JSON.stringify(initialized));
  assert.equal(initialized.result.backend, 'wasm');
  assert.equal(initialized.result.runsRoot, runsRoot);
  assert.equal(initialized.result.pid, client.child.pid);

  const started = Date.now();
  const response = await client.request(tinyRun('r1', { epochs: 2 }));
  const seconds = (Date.now() - started) / 1000;
  assert.ok(response.ok, JSON.stringify(response));
  const result = response.result;
  assert.equal(result.status, 'completed');
  assert.equal(path.dirname(path.dirname(result.runDir)), runsRoot);
  assert.ok(existsSync(path.join(result.runDir, 'summary.json')));
  const ended = await client.runEnded('r1');
  assert.deepEqual(ended.result, result, 'runEnded repeats the answer');

  const events = runEvents('r1');
  const folder = events.find((event) => event.type === 'runFolder');
  assert.deepEqual(folder, { type: 'runFolder', runDir: result.runDir }, 'the run folder is announced as an event, before training');
  assert.ok(events.indexOf(folder!) < events.findIndex((event) => event.type === 'progress'));
  const progress = events.filter((event) => event.type === 'progress').length;
  assert.ok(progress >= 2, 'progress arrives while training');
  // 75 steps ran; progress is throttled to about one message per 100 ms.
  assert.ok(progress <= seconds * 10 + 4, `${progress} progress messages in ${seconds.toFixed(1)} s`);
  assert.equal(events.filter((event) => event.type === 'metrics' && event.record.kind === 'epoch').length, 2);
  // Each training record (log_every: 5) is sent as it is logged: the notebook's chart draws it.
  assert.deepEqual(events.flatMap((event) => (event.type === 'metrics' && event.record.kind === 'train' ? [event.record.step] : [])), Array.from({ length: Math.floor(result.summary.steps / 5) }, (_, index) => (index + 1) * 5));
  assert.ok(events.some((event) => event.type === 'image'));
  assert.ok(events.some((event) => event.type === 'cellOutput'));
  const cells = events.flatMap((event) => (event.type === 'cell' ? [`${event.cell} ${event.state}`] : []));
  assert.deepEqual(cells, ['data started', 'data finished', 'model started', 'model finished', 'train started', 'train finished', 'evaluate started', 'evaluate finished', 'reconstruct started', 'reconstruct finished'], 'each cell says when its own work starts and ends');
  const history = events.filter((event) => event.type === 'image' && event.kind === 'history');
  assert.deepEqual(history.map((event) => event.type === 'image' && event.rows), [['test inputs', 'reconstructions after epoch 1'], ['test inputs', 'reconstructions after epoch 1', 'reconstructions after epoch 2']]);
});

test('cancel stops a run within a batch and the run answers where it stopped', async () => {
  const answer = client.request(tinyRun('r2', { epochs: 20 }));
  await client.firstProgress('r2');
  const cancelled = await client.request({ type: 'cancel', runId: 'r2' });
  assert.deepEqual(cancelled.ok && cancelled.result, { cancelled: true });
  const response = await answer;
  assert.ok(response.ok, JSON.stringify(response));
  assert.equal(response.result.status, 'stopped');
  assert.equal(response.result.summary.stoppedBy, 'cancelled');
  assert.equal(response.result.summary.stoppedAt?.epoch, 1);
  assert.ok(response.result.summary.stoppedAt!.batch >= 1);
  assert.doesNotMatch(response.result.summary.message ?? '', /aexp/, 'the notebook gets no CLI command to run');
  assert.ok(existsSync(path.join(response.result.runDir, 'checkpoints', 'last.ckpt')));
});

test('malformed requests and failing runs come back as errors, not crashes', async () => {
  const bad = await client.raw({ type: 'run', id: 'x' });
  assert.ok(bad.type === 'response' && !bad.ok && bad.error.name === 'ProtocolError');
  const unknown = await client.send({ type: 'explode' });
  assert.ok(!unknown.ok && /unknown request type/.test(unknown.error.message));
  const epochs = await client.send({ type: 'run', runId: 'r3', file: 'x.aexp', text: '', overrides: { epochs: -1 } });
  assert.ok(!epochs.ok && /overrides.epochs/.test(epochs.error.message));
  const failing = await client.request({ type: 'run', runId: 'r4', file: path.join(workspace, 'inline.aexp'), text: '```data\ndataset: mnst\n```\n', outDir: path.join(runsRoot, 'inline') });
  assert.ok(!failing.ok);
  assert.equal(failing.error.name, 'ExperimentError');
  assert.match(failing.error.message, /inline\.aexp:2:10: error: `mnst` is not a valid `dataset`; did you mean `mnist`\?/);
  const ended = await client.runEnded('r4');
  assert.deepEqual(ended.error, failing.error, 'runEnded repeats the error');
});

test('run folders stay inside the runs folder: outDir and resume outside it, or through a link out of it, are refused', async () => {
  const escapes: Record<string, unknown>[] = [
    tinyRun('escape-dots', { epochs: 1, outDir: path.join(runsRoot, '..', '..', '..', 'escaped') }),
    tinyRun('escape-absolute', { epochs: 1, outDir: outside }),
    tinyRun('escape-relative', { epochs: 1, outDir: '../elsewhere' }),
  ];
  mkdirSync(runsRoot, { recursive: true });
  symlinkSync(outside, path.join(runsRoot, 'link'));
  escapes.push(tinyRun('escape-link', { epochs: 1, outDir: path.join(runsRoot, 'link', 'runs') }));
  escapes.push({ ...tinyRun('escape-resume', { epochs: 1 }), resume: path.join(outside, 'some-run') });
  for (const request of escapes) {
    const response = await client.send(request);
    assert.ok(!response.ok, `${request.runId} was refused`);
    assert.equal(response.error.name, 'ContainmentError', JSON.stringify(response.error));
    assert.match(response.error.message, /is outside the runs folder/);
  }
  assert.deepEqual(readdirSync(outside), [], 'nothing was written outside');
  assert.ok(!existsSync(path.join(workspace, 'escaped')));
  assert.ok(!client.notifications.some((message) => (message.type === 'event' || message.type === 'runEnded') && message.runId.startsWith('escape-')), 'a refused run never starts');

  const withoutText = await client.send({ type: 'run', runId: 'no-text', file: path.join(workspace, 'no-text.aexp'), outDir: path.join(runsRoot, 'no-text') });
  assert.ok(!withoutText.ok && /needs the experiment's text/.test(withoutText.error.message), 'the file is a name, not something the runtime reads');
});

test('errors repeat at most a bounded part of what a request sent', async () => {
  const huge = 'a'.repeat(10_000_000);
  const longId = await client.send({ ...tinyRun('long-id', { epochs: 1 }), runId: huge });
  assert.ok(!longId.ok);
  assert.ok(longId.error.message.length < 1000, `${longId.error.message.length} characters`);
  const longPath = await client.send({ ...tinyRun('long-path', { epochs: 1 }), outDir: `/${huge}` });
  assert.ok(!longPath.ok && longPath.error.name === 'ContainmentError');
  assert.ok(longPath.error.message.length < 1000, `${longPath.error.message.length} characters`);
  const longType = await client.send({ type: huge });
  assert.ok(!longType.ok && longType.error.message.length < 1000, `${longType.ok ? '' : longType.error.message.length} characters`);
});

test('a run folder another process trains into is refused, naming the holder', async () => {
  const out = path.join(runsRoot, 'held');
  const trainer = spawn(process.execPath, [path.join(root, 'bin', 'aexp.js'), 'run', tinyExperiment(workspace, { epochs: 30, name: 'held' }), '--out', out], { stdio: 'ignore' });
  try {
    const runDir = () => (existsSync(out) ? readdirSync(out).map((name) => path.join(out, name))[0] : undefined);
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        const metrics = runDir() && path.join(runDir()!, 'metrics.jsonl');
        if (metrics && existsSync(metrics) && readFileSync(metrics, 'utf8').includes('"kind":"epoch"')) resolve();
        else if (trainer.exitCode !== null) reject(new Error('the trainer exited'));
        else return;
        clearInterval(timer);
      }, 50);
    });
    const refused = await client.request({ type: 'run', runId: 'held', file: path.join(workspace, 'held.aexp'), resume: runDir() });
    assert.ok(!refused.ok);
    assert.equal(refused.error.name, 'RunLockedError');
    assert.match(refused.error.message, new RegExp(`is in use by pid ${trainer.pid} on host \\S+ since \\S+ \\(heartbeat \\d+ s ago\\)$`));
    assert.ok(!client.notifications.some((message) => message.type === 'event' && message.runId === 'held' && message.event.type === 'runFolder'), 'the refused run never took the folder');
  } finally {
    trainer.kill('SIGKILL');
  }
});

test('shutdown during a run: the run checkpoints and reports why before the process exits', async () => {
  const answer = client.request(tinyRun('r5', { epochs: 20 }));
  await client.firstProgress('r5');
  const exited = new Promise((resolve) => client.child.once('exit', resolve));
  const shutdown = await client.request({ type: 'shutdown' });
  assert.deepEqual(shutdown.ok && shutdown.result, { runs: 1 });
  const response = await answer;
  assert.ok(response.ok, JSON.stringify(response));
  assert.equal(response.result.status, 'stopped');
  assert.equal(response.result.summary.stoppedBy, 'shutdown');
  assert.ok(existsSync(path.join(response.result.runDir, 'checkpoints', 'last.ckpt')));
  const ended = await client.runEnded('r5');
  assert.equal(ended.result!.summary.stoppedBy, 'shutdown');
  assert.equal(await exited, 0);
});
