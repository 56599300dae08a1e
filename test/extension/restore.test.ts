import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, ftruncateSync, mkdirSync, openSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { EngineEvent } from '../../runtime/protocol';
import { IMAGE_LIMIT_BYTES, newestRunFolder, parseEpochRecord, parseEpochRecords, parseOutputs, parseSummary, readFileInside, readImageInside, readRecordedRun, recordedImagePath, RESTORED_PER_CELL, restoredEvents, runFolderTime } from '../../extension/restore';
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

const epochRecord = (epoch: number) => ({ kind: 'epoch', epoch, step: epoch * 10, time: '', units: 'nats', train: { loss: 10 - epoch, reconstruction: 10 - epoch }, samplesPerSecond: 100, tensors: 5 });

test('a continued run reopens with every epoch of metrics.jsonl, though its outputs.json holds only the last session\'s', async () => {
  const { runDir } = runFolder();
  writeFileSync(path.join(runDir, 'config.json'), JSON.stringify({ train: { epochs: 3 } }));
  writeFileSync(path.join(runDir, 'metrics.jsonl'), [1, 2, 3].map((epoch) => JSON.stringify(epochRecord(epoch))).join('\n'));
  writeFileSync(path.join(runDir, 'outputs.json'), JSON.stringify({
    version: 1,
    events: [
      { type: 'cellOutput', cell: 'data', text: 'sprites' },
      { type: 'metrics', record: epochRecord(2) },
      { type: 'metrics', record: epochRecord(3) },
      { type: 'image', cell: 'train', kind: 'reconstructions', epoch: 3, path: 'images/epoch-001-reconstructions.png' },
    ],
  }));
  const recorded = await readRecordedRun(runDir);
  assert.deepEqual(recorded.problems, []);
  assert.deepEqual(recorded.events.map((event) => (event.type === 'metrics' ? `epoch ${event.record.epoch}` : event.type)), ['cellOutput', 'epoch 1', 'epoch 2', 'epoch 3', 'image']);
});

test('a stopped continuation whose outputs.json has no epoch yet still lists the earlier epochs, before the train cell\'s outputs', () => {
  const events = restoredEvents([
    { type: 'cellOutput', cell: 'data', text: 'sprites' },
    { type: 'cellOutput', cell: 'train', text: 'a warning' },
  ], [1, 2].map((epoch) => parseEpochRecord(epochRecord(epoch))!));
  assert.deepEqual(events.map((event) => (event.type === 'metrics' ? `epoch ${event.record.epoch}` : event.type === 'cellOutput' ? event.text : event.type)), ['sprites', 'epoch 1', 'epoch 2', 'a warning']);
});

test('restore shows at most 200 outputs of a cell and the last 200 epochs, saying how many it left out', () => {
  const chatter = Array.from({ length: 100_000 }, (_, index): EngineEvent => ({ type: 'cellOutput', cell: 'data', text: `line ${index}` }));
  const epochs = Array.from({ length: 250 }, (_, index) => parseEpochRecord(epochRecord(index + 1))!);
  const events = restoredEvents([...chatter, { type: 'metrics', record: epochs[0] }], epochs);
  const data = events.filter((event) => event.type === 'cellOutput' && event.cell === 'data');
  assert.equal(data.length, RESTORED_PER_CELL + 1);
  assert.equal((data.at(-1) as { text: string }).text, `${100_000 - RESTORED_PER_CELL} more outputs of this cell are not shown again (at most ${RESTORED_PER_CELL} are)`);
  const listed = events.flatMap((event) => (event.type === 'metrics' ? [event.record.epoch] : []));
  assert.deepEqual([listed[0], listed.at(-1), listed.length], [51, 250, RESTORED_PER_CELL]);
  assert.ok(events.some((event) => event.type === 'cellOutput' && event.cell === 'train' && event.text.startsWith('50 earlier epochs are not listed here')));
});

test('only folders named as runs are named, the newest by time then suffix; far-future and other names never win', async () => {
  const now = new Date(Date.UTC(2026, 10, 30, 12, 0, 0));
  assert.deepEqual(runFolderTime('20261130-120000', now), { time: now.getTime(), suffix: 1 });
  assert.equal(runFolderTime('20261130-120000-12', now)?.suffix, 12);
  assert.notEqual(runFolderTime('20261201-115959', now), undefined, 'a clock a few hours ahead is allowed');
  for (const name of ['zzz', '99999999-999999', '20990101-000000', '20261201-120001', '20261301-000000', '20260230-000000', '20261130-250000', '20261130-120000-', '20261130-120000-x', ' 20261130-120000']) assert.equal(runFolderTime(name, now), undefined, name);

  const parent = path.join(temporaryDirectory(), 'experiment');
  for (const name of ['zzz', '99999999-999999', '20990101-000000', '20261130-100000', '20261130-100000-2', '20261130-100000-10', '20261130-110000-notes']) {
    mkdirSync(path.join(parent, name), { recursive: true });
    writeFileSync(path.join(parent, name, 'config.json'), '{}');
  }
  assert.equal(await newestRunFolder(parent, now), path.join(parent, '20261130-100000-10'));
});
