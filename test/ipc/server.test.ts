import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { tinyExperiment } from '../helpers/experiments';
import { Client, SERVER as server } from '../helpers/runtime-client';
import { temporaryDirectory } from '../helpers/temp';


let client: Client;
before(() => {
  assert.ok(existsSync(server), `${server} is missing: run "npm run build" first`);
  client = new Client(fork(server, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: { ...process.env, AEXP_PROGRESS_INTERVAL_MS: '100' } }));
  client.child.stderr?.resume();
});
after(() => client.child.kill());

test('the forked runtime initializes, runs a real experiment and streams its events', async () => {
  const initialized = await client.request({ type: 'initialize', backend: 'wasm' });
  assert.ok(initialized.type === 'response' && initialized.ok, JSON.stringify(initialized));
  assert.match(JSON.stringify(initialized), /"backend":"wasm"/);

  const directory = temporaryDirectory();
  const started = Date.now();
  const response = await client.request({ type: 'run', runId: 'r1', file: tinyExperiment(directory, { epochs: 2 }), outDir: path.join(directory, 'runs') });
  assert.ok(response.type === 'response' && response.ok);
  const ended = await client.runEnded('r1');
  const seconds = (Date.now() - started) / 1000;
  assert.equal(ended.error, undefined, JSON.stringify(ended.error));
  assert.equal(ended.result!.status, 'completed');
  assert.ok(existsSync(path.join(ended.result!.runDir, 'summary.json')));
  const events = client.notifications.filter((message) => message.type === 'event' && message.runId === 'r1').map((message) => (message as { event: { type: string } }).event);
  const progress = events.filter((event) => event.type === 'progress').length;
  assert.ok(progress >= 2, 'progress arrives while training');
  // 75 steps ran; progress is throttled to about one message per 100 ms.
  assert.ok(progress <= seconds * 10 + 4, `${progress} progress messages in ${seconds.toFixed(1)} s`);
  assert.equal(events.filter((event) => event.type === 'metrics').length, 2);
  assert.ok(events.some((event) => event.type === 'image'));
  assert.ok(events.some((event) => event.type === 'cellOutput'));
});

test('cancel stops a run within a batch and the run reports it', async () => {
  const directory = temporaryDirectory();
  await client.request({ type: 'run', runId: 'r2', file: tinyExperiment(directory, { epochs: 20 }), outDir: path.join(directory, 'runs') });
  await client.firstProgress('r2');
  const cancelled = await client.request({ type: 'cancel', runId: 'r2' });
  assert.deepEqual(cancelled.type === 'response' && cancelled.ok && cancelled.result, { cancelled: true });
  const ended = await client.runEnded('r2');
  assert.equal(ended.result!.status, 'stopped');
  assert.ok(existsSync(path.join(ended.result!.runDir, 'checkpoints', 'last.ckpt')));
});

test('malformed requests and failing runs come back as errors, not crashes', async () => {
  const bad = await client.raw({ type: 'run', id: 'x' });
  assert.ok(bad.type === 'response' && !bad.ok && bad.error.name === 'ProtocolError');
  const unknown = await client.request({ type: 'explode' });
  assert.ok(unknown.type === 'response' && !unknown.ok && /unknown request type/.test(unknown.error.message));
  const epochs = await client.request({ type: 'run', runId: 'r3', file: 'x.aexp', overrides: { epochs: -1 } });
  assert.ok(epochs.type === 'response' && !epochs.ok && /overrides.epochs/.test(epochs.error.message));
  const directory = temporaryDirectory();
  await client.request({ type: 'run', runId: 'r4', file: path.join(directory, 'inline.aexp'), text: '```data\ndataset: mnst\n```\n' });
  const ended = await client.runEnded('r4');
  assert.equal(ended.error?.name, 'ExperimentError');
  assert.match(ended.error!.message, /inline\.aexp:2:10: error: `mnst` is not a valid `dataset`; did you mean `mnist`\?/);
});

test('shutdown during a run: the run checkpoints and reports why before the process exits', async () => {
  const directory = temporaryDirectory();
  await client.request({ type: 'run', runId: 'r5', file: tinyExperiment(directory, { epochs: 20 }), outDir: path.join(directory, 'runs') });
  await client.firstProgress('r5');
  const exited = new Promise((resolve) => client.child.once('exit', resolve));
  const shutdown = await client.request({ type: 'shutdown' });
  assert.deepEqual(shutdown.type === 'response' && shutdown.ok && shutdown.result, { runs: 1 });
  const ended = await client.runEnded('r5');
  assert.equal(ended.result!.status, 'stopped');
  assert.equal(ended.result!.summary.stoppedBy, 'shutdown');
  assert.ok(existsSync(path.join(ended.result!.runDir, 'checkpoints', 'last.ckpt')));
  assert.equal(await exited, 0);
});
