/**
 * The Latent Explorer's requests to the runtime (built dist/runtime/server.js, forked as the
 * extension forks it): a tiny VAE trained by the same runtime, then encoded and projected, one
 * example shown, free points decoded and interpolated by the inference worker. Run folders outside
 * the runs folder and malformed vectors are refused before anything is read.
 */
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { EXPLORER_RUNTIME_ARGUMENTS, explorerInitialize, explorerRuntimeEnv } from '../../extension/explorer-runtime-start';
import type { ExploreResult } from '../../runtime/protocol';
import { tinyExperiment } from '../helpers/experiments';
import { Client, SERVER as server } from '../helpers/runtime-client';
import { temporaryDirectory } from '../helpers/temp';

let client: Client;
const workspace = temporaryDirectory();
const runsRoot = path.join(workspace, 'runs');
let runDir = '';
/** sprites with count 1200: the data cell's default test fraction. */
let testCount = 0;

before(async () => {
  assert.ok(existsSync(server), `${server} is missing: run "npm run build" first`);
  client = new Client(fork(server, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] }));
  client.child.stderr?.resume();
  assert.ok((await client.request({ type: 'initialize', backend: 'wasm', runsRoot })).ok);
  const file = tinyExperiment(workspace, { epochs: 1, count: 400, name: 'explore' });
  const ran = await client.request({ type: 'run', runId: 'explore', file, text: readFileSync(file, 'utf8'), outDir: path.join(runsRoot, 'explore') });
  assert.ok(ran.ok, JSON.stringify(ran));
  runDir = ran.result.runDir;
});
after(() => client.child.kill());

function floats(text: string): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

test('explore encodes the split and projects its means by PCA; the dimensions come ordered by KL', async () => {
  const answer = await client.request({ type: 'explore', runDir, checkpoint: 'last', split: 'test' });
  assert.ok(answer.ok, JSON.stringify(answer));
  const result: ExploreResult = answer.result;
  testCount = result.count;
  assert.ok(result.count > 0);
  assert.equal(result.model.latent, 4);
  assert.equal(result.model.variational, true);
  assert.equal(result.projection.method, 'pca');
  const means = floats(result.means);
  const points = floats(result.projection.points);
  assert.equal(means.length, result.count * 4);
  assert.equal(points.length, result.count * 2);
  assert.equal(Buffer.from(result.labels, 'base64').length, result.count);
  assert.equal(floats(result.losses).length, result.count);
  // The projection is (μ − mean)·components: checked on the first example by hand.
  const { mean, components } = result.projection;
  for (let axis = 0; axis < 2; axis++) {
    const expected = [0, 1, 2, 3].reduce((sum, column) => sum + (means[column] - mean[column]) * components[axis][column], 0);
    assert.ok(Math.abs(points[axis] - expected) < 1e-4, `axis ${axis}: ${points[axis]} vs ${expected}`);
  }
  assert.deepEqual(result.dimensions.map((dimension) => dimension.kl), [...result.dimensions.map((dimension) => dimension.kl)].sort((a, b) => b - a));
  assert.deepEqual(result.dimensions.map((dimension) => dimension.index).sort(), [0, 1, 2, 3]);

  const limited = await client.request({ type: 'explore', runDir, checkpoint: 'last', split: 'test', limit: 10 });
  assert.ok(limited.ok && limited.result.count === 10, 'limit caps the points');
});

test('UMAP is laid out off the runtime\'s thread with progress, and asked again it is not computed again', async () => {
  const answer = await client.request({ type: 'explore', runDir, checkpoint: 'last', split: 'test', projection: 'umap', token: 'umap-1' });
  assert.ok(answer.ok, JSON.stringify(answer));
  assert.equal(answer.result.projection.method, 'umap');
  assert.equal(answer.result.count, testCount, 'a split under the limit is laid out whole');
  assert.deepEqual(answer.result.indices, [...Array(testCount).keys()]);
  assert.equal(floats(answer.result.projection.points).length, testCount * 2);
  assert.ok(floats(answer.result.projection.points).every(Number.isFinite));
  const progress = client.notifications.filter((message) => message.type === 'exploreProgress' && message.token === 'umap-1');
  assert.ok(progress.length > 0, 'progress arrives');
  const again = await client.request({ type: 'explore', runDir, checkpoint: 'last', split: 'test', projection: 'umap', token: 'umap-2' });
  assert.ok(again.ok);
  assert.equal(again.result.projection.points, answer.result.projection.points, 'the same layout');
  assert.equal(client.notifications.filter((message) => message.type === 'exploreProgress' && message.token === 'umap-2').length, 0, 'kept, not computed again');
});

test('an example has its input, reconstruction, label and loss; decode and interpolate answer images of the model\'s shape', async () => {
  const example = await client.request({ type: 'exploreExample', runDir, checkpoint: 'last', split: 'test', index: testCount - 1 });
  assert.ok(example.ok, JSON.stringify(example));
  assert.deepEqual(example.result.shape, [16, 16, 1]);
  assert.equal(Buffer.from(example.result.input, 'base64').length, 256);
  assert.equal(Buffer.from(example.result.reconstruction, 'base64').length, 256);
  assert.equal(example.result.mean.length, 4);
  const decoded = await client.request({ type: 'exploreDecode', runDir, checkpoint: 'last', view: 'test', z: [[0, 0, 0, 0], [2, -2, 1, 0]] });
  assert.ok(decoded.ok, JSON.stringify(decoded));
  assert.equal(decoded.result.count, 2);
  const pixels = Buffer.from(decoded.result.pixels, 'base64');
  assert.equal(pixels.length, 2 * 256);
  assert.notDeepEqual(pixels.subarray(0, 256), pixels.subarray(256), 'two points decode to two images');
  const strip = await client.request({ type: 'exploreInterpolate', runDir, checkpoint: 'last', from: [0, 0, 0, 0], to: [2, -2, 1, 0], steps: 5, method: 'slerp' });
  assert.ok(strip.ok, JSON.stringify(strip));
  assert.equal(strip.result.count, 5);
  // The strip's ends are the two points decoded above.
  assert.deepEqual(Buffer.from(strip.result.pixels, 'base64').subarray(0, 256), pixels.subarray(0, 256));
});

test('decodes of one view sent together: the newest replaces a waiting one, the others answer', async () => {
  const answers = await Promise.all(Array.from({ length: 6 }, (_, index) => client.request({ type: 'exploreDecode', runDir, checkpoint: 'last', view: 'drag', z: [[index / 3, 0, 0, 0]] })));
  assert.ok(answers.at(-1)!.ok, 'the newest decode answers');
  for (const answer of answers) assert.ok(answer.ok || answer.error.name === 'CancelledError', JSON.stringify(answer));
});

test('a run folder outside the runs folder, an unknown checkpoint and malformed vectors are refused', async () => {
  const outside = await client.request({ type: 'explore', runDir: temporaryDirectory(), checkpoint: 'last', split: 'test' });
  assert.ok(!outside.ok);
  assert.equal(outside.error.name, 'ContainmentError');
  assert.match(outside.error.message, /outside the runs folder .*; the explorer opens only run folders inside it/);
  const checkpoint = await client.send({ type: 'explore', runDir, checkpoint: '../../etc', split: 'test' });
  assert.ok(!checkpoint.ok && /checkpoint must be last, best or epoch-N/.test(checkpoint.error.message), JSON.stringify(checkpoint));
  const missing = await client.request({ type: 'explore', runDir, checkpoint: 'epoch-99', split: 'test' });
  assert.ok(!missing.ok && /no epoch-99 checkpoint/.test(missing.error.message), JSON.stringify(missing));
  const infinite = await client.send({ type: 'exploreDecode', runDir, checkpoint: 'last', view: 'v', z: [[0, null, 0, 0]] });
  assert.ok(!infinite.ok && /finite numbers/.test(infinite.error.message), JSON.stringify(infinite));
  const ragged = await client.send({ type: 'exploreDecode', runDir, checkpoint: 'last', view: 'v', z: [[0, 0], [0]] });
  assert.ok(!ragged.ok && /all of one length/.test(ragged.error.message), JSON.stringify(ragged));
  const wrongSize = await client.request({ type: 'exploreDecode', runDir, checkpoint: 'last', view: 'v', z: [[0, 0, 0]] });
  assert.ok(!wrongSize.ok && /this model's code has 4/.test(wrongSize.error.message), JSON.stringify(wrongSize));
});

test('an explorer\'s runtime given several runs folders (exploreRoots) opens run folders in each, on the cpu main thread, and no folder outside them', async () => {
  const other = new Client(fork(server, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] }));
  other.child.stderr?.resume();
  try {
    const elsewhere = path.join(temporaryDirectory(), 'runs');
    const initialized = await other.request({ type: 'initialize', backend: 'cpu', runsRoot: elsewhere, exploreRoots: [elsewhere, runsRoot] });
    assert.ok(initialized.ok, JSON.stringify(initialized));
    const decoded = await other.request({ type: 'exploreDecode', runDir, checkpoint: 'last', view: 'roots', z: [[0, 0, 0, 0]] });
    assert.ok(decoded.ok, JSON.stringify(decoded));
    assert.equal(Buffer.from(decoded.result.pixels, 'base64').length, 256);
    const outside = await other.request({ type: 'explore', runDir: temporaryDirectory(), checkpoint: 'last', split: 'test' });
    assert.ok(!outside.ok && outside.error.name === 'ContainmentError', JSON.stringify(outside));
    assert.match(outside.error.message, /outside the runs folders .*; the explorer opens only run folders inside them/);
    const relative = await other.send({ type: 'initialize', exploreRoots: ['runs'] });
    assert.ok(!relative.ok && /exploreRoots\[0\] must be an absolute folder/.test(relative.error.message), JSON.stringify(relative));
  } finally {
    other.child.kill();
  }
});

test('the explorer\'s own runtime (inference: thread) decodes on its own thread, says where its memory is, and refuses to train', async () => {
  // Started as the extension starts it (its allocator threshold, --expose-gc: it collects after each explore answer).
  const other = new Client(fork(server, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv: [...EXPLORER_RUNTIME_ARGUMENTS], env: { ...process.env, ...explorerRuntimeEnv() } }));
  other.child.stderr?.resume();
  try {
    const unknown = await other.send({ type: 'initialize', inference: 'gpu' });
    assert.ok(!unknown.ok && /inference must be worker or thread, not "gpu"/.test(unknown.error.message), JSON.stringify(unknown));
    // As the extension initializes it.
    assert.ok((await other.request(explorerInitialize([runsRoot]))).ok);
    const explored = await other.request({ type: 'explore', runDir, checkpoint: 'last', split: 'test' });
    assert.ok(explored.ok, JSON.stringify(explored));
    assert.equal(explored.result.count, testCount);
    const memory = await other.request({ type: 'exploreMemory' });
    assert.ok(memory.ok, JSON.stringify(memory));
    assert.equal(memory.result.sessions.length, 1);
    const [session] = memory.result.sessions;
    assert.equal(session.thread, 'main', 'no inference worker started: the session runs on the runtime\'s thread');
    assert.equal(session.runDir, runDir);
    assert.equal(session.datasetBytes, testCount * (16 * 16 + 1), 'the test split\'s images and labels only');
    assert.ok(session.wasmBytes >= 16 * 1024 * 1024 && session.tensors > 0 && memory.result.rss > session.wasmBytes, JSON.stringify(memory.result));
    const file = tinyExperiment(workspace, { epochs: 1, count: 100, name: 'refused' });
    const ran = await other.request({ type: 'run', runId: 'refused', file, text: readFileSync(file, 'utf8'), outDir: path.join(runsRoot, 'refused') });
    assert.ok(!ran.ok && /answers the Latent Explorer on its own thread .* and does not train/.test(ran.error.message), JSON.stringify(ran));
  } finally {
    other.child.kill();
  }
});

test('a shutdown closes the explorer\'s workers: a request still in flight is answered as cancelled before the runtime exits', async () => {
  const other = new Client(fork(server, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] }));
  other.child.stderr?.resume();
  try {
    assert.ok((await other.request({ type: 'initialize', backend: 'cpu', runsRoot })).ok);
    const exited = new Promise<'exited'>((resolve) => other.child.once('exit', () => resolve('exited')));
    // The worker cannot have started, let alone encoded, when the shutdown right behind it arrives.
    const explored = other.request({ type: 'explore', runDir, checkpoint: 'last', split: 'test' });
    const shutdown = await other.request({ type: 'shutdown' });
    assert.ok(shutdown.ok, JSON.stringify(shutdown));
    const answer = await Promise.race([explored, exited]);
    assert.notEqual(answer, 'exited', 'the runtime exited without answering the explore request');
    assert.ok(answer !== 'exited' && !answer.ok && answer.error.name === 'CancelledError', JSON.stringify(answer));
    await exited;
  } finally {
    other.child.kill();
  }
});
