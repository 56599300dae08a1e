/**
 * Every sample validates and trains, shortened with --set overrides (one epoch on a few hundred
 * examples), from the CLI and from the IPC server, and writes the images its kind promises.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fork } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { PNG } from 'pngjs';
import { loadExperiment, cellConfig } from '../../runtime/format/validate';
import type { RunResult } from '../../runtime/protocol';
import { Client, SERVER } from '../helpers/runtime-client';
import { SHARED_DATA, sharedData, skipMessage } from '../helpers/shared';
import { temporaryDirectory } from '../helpers/temp';

const root = path.resolve(__dirname, '..', '..');
const samples = readdirSync(path.join(root, 'samples')).filter((name) => name.endsWith('.aexp')).sort();
const SHORT = ['train.epochs=1', 'data.train_limit=320', 'data.test_limit=64'];

function needs(sample: string): string | undefined {
  const data = cellConfig(loadExperiment(readFileSync(path.join(root, 'samples', sample), 'utf8'), sample), 'data')!;
  return data.dataset === 'sprites' ? undefined : data.dataset;
}

function checkImages(runDir: string, sample: string): void {
  const text = readFileSync(path.join(root, 'samples', sample), 'utf8');
  const images = path.join(runDir, 'images');
  const reconstructions = PNG.sync.read(readFileSync(path.join(images, 'reconstructions.png')));
  assert.ok(reconstructions.width > 100 && reconstructions.height > 50, `${sample}: reconstructions ${reconstructions.width}×${reconstructions.height}`);
  assert.equal(existsSync(path.join(images, 'samples.png')), /```sample/.test(text), `${sample}: samples.png exactly when there is a sample cell`);
  assert.ok(existsSync(path.join(runDir, 'model', 'decoder', 'model.json')), `${sample}: exported decoder`);
}

let client: Client;
let runsRoot: string;
before(async () => {
  client = new Client(fork(SERVER, [], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] }));
  runsRoot = temporaryDirectory();
  await client.request({ type: 'initialize', runsRoot });
});
after(() => client.child.kill());

for (const sample of samples) {
  const dataset = needs(sample);
  const skip = dataset && !sharedData(dataset) ? skipMessage(dataset) : false;

  test(`${sample} trains from the CLI`, { skip }, () => {
    const directory = temporaryDirectory();
    const result = spawnSync(process.execPath, [path.join(root, 'bin', 'aexp.js'), 'run', path.join('samples', sample), '--data-dir', SHARED_DATA, '--out', directory, ...SHORT.flatMap((item) => ['--set', item])], { cwd: root, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    const runDir = result.stdout.trim();
    assert.match(result.stderr, /\[summary\] completed after 1\/1 epochs/);
    checkImages(runDir, sample);
    assert.match(readFileSync(path.join(runDir, 'experiment.aexp'), 'utf8'), /train_limit: 320/, 'the snapshot holds the overrides');
  });

  test(`${sample} trains from the IPC server`, { skip }, async () => {
    const runId = `sample-${sample}`;
    const file = path.join(root, 'samples', sample);
    const response = await client.request({ type: 'run', runId, file, text: readFileSync(file, 'utf8'), outDir: path.join(runsRoot, sample), overrides: { dataDir: SHARED_DATA, set: SHORT } });
    assert.ok(response.ok, JSON.stringify(response));
    const ended = await client.runEnded(runId);
    assert.equal(ended.error, undefined, JSON.stringify(ended.error));
    const result = ended.result as RunResult;
    assert.equal(result.status, 'completed');
    checkImages(result.runDir, sample);
  });
}
