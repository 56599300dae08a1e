import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, ftruncateSync, mkdirSync, openSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { IMAGE_LIMIT_BYTES, parseEpochRecords, parseOutputs, parseSummary, readFileInside, readImageInside, readRecordedRun, recordedImagePath } from '../../extension/restore';
import { temporaryDirectory } from '../helpers/temp';

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(32, 7)]);

/** A run folder with one real image, beside a secret file it must not reach. */
function runFolder(): { runDir: string; outside: string } {
  const root = temporaryDirectory();
  const runDir = path.join(root, 'runs', 'hostile', '20260101-000000');
  mkdirSync(path.join(runDir, 'images'), { recursive: true });
  writeFileSync(path.join(runDir, 'images', 'epoch-001-reconstructions.png'), PNG);
  const outside = path.join(root, 'secret.png');
  writeFileSync(outside, PNG);
  return { runDir, outside };
}

test('an image inside the run folder is read, by a path relative to it or absolute', async () => {
  const { runDir } = runFolder();
  assert.deepEqual(await readImageInside(runDir, 'images/epoch-001-reconstructions.png'), PNG);
  assert.deepEqual(await readImageInside(runDir, path.join(runDir, 'images', 'epoch-001-reconstructions.png')), PNG);
});

test('paths outside the run folder are refused, by name or through a symbolic link', async () => {
  const { runDir, outside } = runFolder();
  await assert.rejects(readImageInside(runDir, outside), /not inside the run folder/);
  await assert.rejects(readImageInside(runDir, '../../../secret.png'), /not inside the run folder/);
  await assert.rejects(readImageInside(runDir, '/etc/passwd'), /not inside the run folder/);
  symlinkSync(outside, path.join(runDir, 'images', 'link.png'));
  await assert.rejects(readImageInside(runDir, 'images/link.png'), /leads outside the run folder/);
  symlinkSync('/dev/zero', path.join(runDir, 'images', 'zero.png'));
  await assert.rejects(readImageInside(runDir, 'images/zero.png'), /leads outside the run folder/);
  // A run folder whose images/ folder is itself a link out.
  const { runDir: other } = runFolder();
  const linked = path.join(other, 'linked');
  symlinkSync(path.dirname(outside), linked);
  await assert.rejects(readImageInside(other, 'linked/secret.png'), /leads outside the run folder/);
});

test('devices and FIFOs are refused without reading them (no endless /dev/zero, no hang)', async (context) => {
  await assert.rejects(readImageInside('/dev', '/dev/zero'), /not a regular file/);
  const { runDir } = runFolder();
  try {
    execFileSync('mkfifo', [path.join(runDir, 'images', 'pipe.png')]);
  } catch {
    context.diagnostic('mkfifo is not available: the FIFO case is skipped');
    return;
  }
  await assert.rejects(readImageInside(runDir, 'images/pipe.png'), /not a regular file/);
});

test('a text file named .png is not an image', async () => {
  const { runDir } = runFolder();
  writeFileSync(path.join(runDir, 'images', 'notes.png'), 'root:x:0:0:root:/root:/bin/bash\n');
  await assert.rejects(readImageInside(runDir, 'images/notes.png'), /not a PNG image/);
});

test('a 20 MB file is refused by its size, before it is read', async () => {
  const { runDir } = runFolder();
  const file = path.join(runDir, 'images', 'huge.png');
  const descriptor = openSync(file, 'w');
  writeSync(descriptor, PNG);
  ftruncateSync(descriptor, 20 * 1024 * 1024);
  closeSync(descriptor);
  await assert.rejects(readImageInside(runDir, 'images/huge.png'), new RegExp(`${20 * 1024 * 1024} bytes, more than the ${IMAGE_LIMIT_BYTES} allowed`));
  await assert.rejects(readFileInside(runDir, 'images/huge.png', 1024), /more than the 1024 allowed/);
});

test('outputs.json and summary.json are checked field by field; wrong shapes are dropped with a reason', () => {
  assert.equal(parseOutputs({ events: [] }), 'expected {"version": 1, "events": [...]}');
  assert.deepEqual(parseOutputs({
    version: 1,
    events: [
      { type: 'cellOutput', cell: 'data', text: 'sprites' },
      { type: 'cellOutput', cell: 'nope', text: 'x' },
      { type: 'cellOutput', cell: 'model', text: { toString: 1 } },
      { type: 'image', cell: 'train', kind: 'reconstructions', epoch: 1, path: 'images/a.png' },
      { type: 'image', cell: 'train', kind: 'reconstructions', epoch: -1, path: 'images/a.png' },
      { type: 'image', cell: 'train', kind: 'history', epoch: 2, path: 'images/h.png', rows: ['test inputs', 'epoch 1', 'epoch 2'] },
      { type: 'image', cell: 'train', kind: 'history', epoch: 2, path: 'images/h.png', rows: [{ html: '<script>' }] },
      { type: 'image', cell: 'train', kind: 'portrait', epoch: 2, path: 'images/h.png' },
      { type: 'metrics', record: { kind: 'epoch', epoch: 2, units: 'loss', train: { loss: 2, reconstruction: 2 }, samplesPerSecond: 1, tensors: 3 } },
      { type: 'metrics', record: { kind: 'epoch', epoch: 1, units: 'nats', train: { loss: 'lots' }, samplesPerSecond: 1 } },
      { type: 'log', level: 'error', message: 'not an output' },
    ],
  }), [
    { type: 'cellOutput', cell: 'data', text: 'sprites' },
    { type: 'image', cell: 'train', kind: 'reconstructions', epoch: 1, path: 'images/a.png' },
    { type: 'image', cell: 'train', kind: 'history', epoch: 2, path: 'images/h.png', rows: ['test inputs', 'epoch 1', 'epoch 2'] },
    { type: 'metrics', record: { kind: 'epoch', epoch: 2, step: 0, time: '', units: 'loss', train: { loss: 2, reconstruction: 2 }, samplesPerSecond: 1, tensors: 3 } },
  ]);
  const summary = { status: 'stopped', backend: 'wasm', device: 'cpu', epochs: 2, targetEpochs: 10, steps: 40, units: 'nats', durationSeconds: 3, stoppedAt: { epoch: 3, batch: 7 } };
  assert.equal(typeof parseSummary(summary), 'object');
  assert.equal(parseSummary({ ...summary, epochs: '2' }), 'epochs must be a whole number');
  assert.equal(parseSummary({ ...summary, status: 'hacked' }), 'status must be one of completed, stopped, early-stopped, diverged, analysis');
  assert.equal(parseSummary({ ...summary, test: { loss: 1, reconstruction: 1, kl: { valueOf: 3 } } }), 'test must map metric names to numbers');
  assert.equal(parseSummary({ ...summary, stoppedAt: { epoch: 'x' } }), 'stoppedAt must be {epoch, batch}');
});

test('metrics.jsonl: each epoch once (the last record of a repeated epoch counts), torn lines skipped', () => {
  const epoch = (number: number, loss: number) => JSON.stringify({ kind: 'epoch', epoch: number, step: number * 10, time: '', units: 'nats', train: { loss, reconstruction: loss, kl: 0 }, samplesPerSecond: 100, tensors: 5 });
  const records = parseEpochRecords([epoch(1, 9), epoch(2, 8), JSON.stringify({ kind: 'train', epoch: 3, step: 25 }), epoch(2, 7), '{"kind":"epoch","epo'].join('\n'));
  assert.deepEqual(records.map((record) => [record.epoch, record.train.loss]), [[1, 9], [2, 7]]);
});

test('a hostile run folder reads back without its links, devices or wrong shapes, and says what it refused', async () => {
  const { runDir } = runFolder();
  writeFileSync(path.join(runDir, 'config.json'), JSON.stringify({ train: { epochs: 4 }, model: { kind: 'denoising-ae' } }));
  symlinkSync('/dev/zero', path.join(runDir, 'outputs.json'));
  writeFileSync(path.join(runDir, 'summary.json'), JSON.stringify({ status: 'completed', epochs: 'all' }));
  writeFileSync(path.join(runDir, 'metrics.jsonl'), `${JSON.stringify({ kind: 'epoch', epoch: 1, step: 10, time: '', units: 'nats', train: { loss: 1, reconstruction: 1, kl: 0 }, samplesPerSecond: 100, tensors: 5 })}\n`);
  const recorded = await readRecordedRun(runDir);
  assert.equal(recorded.summary, undefined);
  assert.equal(recorded.configEpochs, 4);
  assert.equal(recorded.modelKind, 'denoising-ae');
  assert.deepEqual(recorded.epochs.map((record) => record.epoch), [1]);
  // Without outputs.json: the epoch records and that epoch's grids, named inside the run folder.
  assert.deepEqual(recorded.events.map((event) => event.type), ['metrics', 'image']);
  assert.equal(recorded.problems.length, 2, recorded.problems.join('\n'));
  assert.match(recorded.problems.join('\n'), /outputs\.json: leads outside the run folder/);
  assert.match(recorded.problems.join('\n'), /summary\.json: status must be one of|summary\.json: epochs must be a whole number/);
});

test('a run folder that moved still finds its images by name, and a recorded path never leads out', async () => {
  const { runDir } = runFolder();
  const moved = path.join('/somewhere/else/runs/hostile/20260101-000000', 'images', 'epoch-001-reconstructions.png');
  assert.equal(recordedImagePath(runDir, moved), path.join('images', 'epoch-001-reconstructions.png'));
  assert.deepEqual(await readImageInside(runDir, recordedImagePath(runDir, moved)), PNG);
  assert.equal(recordedImagePath(runDir, path.join(runDir, 'images', 'a.png')), path.join('images', 'a.png'));
  assert.equal(recordedImagePath(runDir, '/etc/passwd'), path.join('images', 'passwd'));
  assert.equal(recordedImagePath(runDir, '../../../../etc/passwd'), path.join('images', 'passwd'));
  await assert.rejects(readImageInside(runDir, recordedImagePath(runDir, '/etc/passwd')), /no such file/);
});
