/**
 * The image views' host side on real run folders: snapshots and frames read from views/, a
 * history view taking each new epoch, and the channel's answers to the renderer's messages. The
 * renderer messaging itself exists only inside VS Code (test/vscode/images.test.ts drives it
 * there); here a recorder stands in for it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { symlinkSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import type * as vscode from 'vscode';
import { ImageChannel, ImageView, parseImagesRendererMessage } from '../../extension/image-output';
import type { ImagesMessaging } from '../../extension/image-output';
import type { ImagesHostMessage } from '../../extension/images-protocol';
import type { ViewEpoch, ViewInputs } from '../../runtime/views-data';
import { viewEpochFile, viewInputsFile, writeReconstructView, writeSampleView, writeViewEpoch, writeViewInputs } from '../../runtime/views-data';
import { temporaryDirectory } from '../helpers/temp';

const shape: [number, number, number] = [4, 4, 1];
const pixels = 16;
const count = 3;

function inputsOf(): ViewInputs {
  return { modelKind: 'vae', units: 'nats', examples: [0, 1, 2], shape, inputs: Uint8Array.from({ length: count * pixels }, (_, index) => index), corrupted: new Uint8Array(count * pixels).fill(7) };
}

/** Epoch e: every reconstruction pixel e, losses e + image / 10, and 2 prior draws of e * 10. */
function epochOf(epoch: number): ViewEpoch {
  const loss = Float32Array.from({ length: count }, (_, image) => epoch + image / 10);
  return { epoch, reconstructions: new Uint8Array(count * pixels).fill(epoch), loss, reconstruction: loss.map((value) => value - 0.5), kl: new Float32Array(count).fill(0.5), samples: new Uint8Array(2 * pixels).fill(epoch * 10), sampleColumns: 2 };
}

function historyFolder(epochs: number[]): string {
  const runDir = temporaryDirectory();
  writeViewInputs(runDir, inputsOf());
  for (const epoch of epochs) writeViewEpoch(runDir, shape, epochOf(epoch));
  return runDir;
}

const bytes = (base64: string | undefined) => [...Buffer.from(base64 ?? '', 'base64')];

test('a history view\'s snapshot holds the fixed inputs once and the newest epoch\'s frame, whatever the number of epochs', async () => {
  const runDir = historyFolder([1, 2]);
  const view = (await ImageView.load({ runDir, mode: 'history', live: true }))!;
  const snapshot = view.snapshot();
  assert.deepEqual({ ...snapshot, inputs: undefined, corrupted: undefined, frame: undefined }, { version: 1, viewId: view.id, mode: 'history', modelKind: 'vae', units: 'nats', shape, count, inputs: undefined, corrupted: undefined, epochs: [1, 2], frame: undefined, sampleCaption: 'z ~ N(0, I), decoded, the same draws every epoch', live: true });
  assert.deepEqual(bytes(snapshot.inputs), [...inputsOf().inputs]);
  assert.deepEqual(bytes(snapshot.corrupted), new Array(count * pixels).fill(7));
  assert.equal(snapshot.frame.epoch, 2);
  assert.deepEqual(bytes(snapshot.frame.reconstructions), new Array(count * pixels).fill(2));
  assert.deepEqual(bytes(snapshot.frame.samples), new Array(2 * pixels).fill(20));
  assert.deepEqual(snapshot.frame.loss!.map((value) => Math.round(value * 10) / 10), [2, 2.1, 2.2]);
  assert.deepEqual(snapshot.frame.kl, [0.5, 0.5, 0.5]);
  assert.equal(snapshot.frame.sampleColumns, 2);

  // Eight more epochs add their numbers to the list, and nothing else.
  for (let epoch = 3; epoch <= 10; epoch++) writeViewEpoch(runDir, shape, epochOf(epoch));
  assert.equal(await view.refresh(), true);
  const later = view.snapshot();
  assert.equal(later.frame.epoch, 10);
  assert.deepEqual(later.epochs, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.ok(JSON.stringify(later).length - JSON.stringify(snapshot).length < 40, 'the item does not grow with the history');
});

test('a history view takes a new epoch once, and answers any epoch\'s frame from its file', async () => {
  const runDir = historyFolder([1]);
  const view = (await ImageView.load({ runDir, mode: 'history', live: true }))!;
  assert.equal(await view.refresh(), false, 'nothing new yet');
  writeViewEpoch(runDir, shape, epochOf(2));
  assert.equal(await view.refresh(), true);
  assert.equal(await view.refresh(), false, 'epoch 2 is taken once');
  assert.equal(view.newest, 2);
  const first = await view.frame(1);
  assert.equal(first.epoch, 1);
  assert.deepEqual(bytes(first.reconstructions), new Array(count * pixels).fill(1));
  await assert.rejects(view.frame(5), { name: 'NoSuchEpoch', message: 'this view has no epoch 5 (it has 1, 2)' });
});

test('the reconstruct and sample cells\' views show the final checkpoint alone', async () => {
  const runDir = temporaryDirectory();
  const { samples: _samples, sampleColumns: _columns, ...reconstruction } = epochOf(4);
  writeReconstructView(runDir, { inputs: inputsOf(), view: reconstruction });
  writeSampleView(runDir, { modelKind: 'cvae', units: 'nats', shape, epoch: 4, samples: new Uint8Array(6 * pixels).fill(9), sampleColumns: 3 });
  const reconstruct = (await ImageView.load({ runDir, mode: 'reconstruct', live: false }))!.snapshot();
  assert.deepEqual({ mode: reconstruct.mode, epochs: reconstruct.epochs, count: reconstruct.count, epoch: reconstruct.frame.epoch, samples: reconstruct.frame.samples, live: reconstruct.live }, { mode: 'reconstruct', epochs: [4], count, epoch: 4, samples: undefined, live: false });
  assert.deepEqual(bytes(reconstruct.frame.reconstructions), new Array(count * pixels).fill(4));
  const sample = (await ImageView.load({ runDir, mode: 'sample', live: false, sampleCaption: 'z ~ N(0, 0.5² I), one row per class' }))!.snapshot();
  assert.deepEqual({ ...sample, viewId: undefined, frame: { ...sample.frame, samples: undefined } }, { version: 1, viewId: undefined, mode: 'sample', modelKind: 'cvae', units: 'nats', shape, count: 0, epochs: [4], frame: { epoch: 4, samples: undefined, sampleColumns: 3 }, sampleCaption: 'z ~ N(0, 0.5² I), one row per class', live: false });
  assert.deepEqual(bytes(sample.frame.samples), new Array(6 * pixels).fill(9));
});

test('a run folder written before views existed has no view (its PNG grids are shown)', async () => {
  const runDir = temporaryDirectory();
  for (const mode of ['history', 'reconstruct', 'sample'] as const) assert.equal(await ImageView.load({ runDir, mode, live: false }), undefined, mode);
});

test('a hostile run folder\'s views are refused with one message naming the entry, and none blocks', async () => {
  const link = historyFolder([1]);
  const elsewhere = historyFolder([1]);
  const epochFile = viewEpochFile(link, 1);
  unlinkSync(epochFile);
  symlinkSync(viewEpochFile(elsewhere, 1), epochFile);
  await assert.rejects(ImageView.load({ runDir: link, mode: 'history', live: false }), { message: `${epochFile}: cannot be read (ELOOP)` });

  const fifo = historyFolder([]);
  const fifoFile = viewEpochFile(fifo, 1);
  assert.equal(spawnSync('mkfifo', [fifoFile]).status, 0);
  await assert.rejects(ImageView.load({ runDir: fifo, mode: 'history', live: false }), { message: `${fifoFile}: not a plain file` });

  const oversized = historyFolder([1]);
  truncateSync(viewInputsFile(oversized), 65 * 1024 * 1024);
  await assert.rejects(ImageView.load({ runDir: oversized, mode: 'history', live: false }), { message: `${viewInputsFile(oversized)}: ${65 * 1024 * 1024} bytes, more than a views file may hold (${64 * 1024 * 1024})` });

  const badHeader = historyFolder([1]);
  writeFileSync(viewEpochFile(badHeader, 1), Buffer.concat([Buffer.from('AEXPVIEW'), Buffer.from([4, 0, 0, 0]), Buffer.from('[1] ')]));
  await assert.rejects(ImageView.load({ runDir: badHeader, mode: 'history', live: false }), { message: `${viewEpochFile(badHeader, 1)}: its header is not an object` });
});

test('renderer messages are taken only with every field of the right type', () => {
  assert.deepEqual(parseImagesRendererMessage({ type: 'ready', viewId: 'v', epoch: 3 }), { type: 'ready', viewId: 'v', epoch: 3 });
  assert.deepEqual(parseImagesRendererMessage({ type: 'frame', viewId: 'v', requestId: 7, epoch: 1, extra: true }), { type: 'frame', viewId: 'v', requestId: 7, epoch: 1 });
  assert.equal(parseImagesRendererMessage(null), 'not an object');
  assert.equal(parseImagesRendererMessage({ type: 'delete', viewId: 'v', epoch: 1 }), 'type "delete" is not ready or frame');
  assert.equal(parseImagesRendererMessage({ type: 'ready', viewId: 'x'.repeat(201), epoch: 1 }), 'ready: viewId is not a string of 1 to 200 characters');
  assert.equal(parseImagesRendererMessage({ type: 'frame', viewId: 'v', requestId: 1, epoch: -1 }), 'frame: epoch is not a whole number');
  assert.equal(parseImagesRendererMessage({ type: 'frame', viewId: 'v', requestId: 1.5, epoch: 1 }), 'frame: requestId is not a whole number');
});

/** What the channel posted, and a way to send it a renderer's message as VS Code does. */
function recorder() {
  const posted: { message: ImagesHostMessage; editor?: unknown }[] = [];
  let listener: ((event: { editor: vscode.NotebookEditor; message: unknown }) => void) | undefined;
  let nextPost: ((post: { message: ImagesHostMessage; editor?: unknown }) => void) | undefined;
  const messaging = {
    onDidReceiveMessage: (callback: (event: { editor: vscode.NotebookEditor; message: unknown }) => void) => {
      listener = callback;
      return { dispose: () => (listener = undefined) };
    },
    postMessage: (message: unknown, editor?: unknown) => {
      const post = { message: message as ImagesHostMessage, editor };
      posted.push(post);
      nextPost?.(post);
      return Promise.resolve(true);
    },
  } as unknown as ImagesMessaging;
  const warnings: string[] = [];
  const editor = { id: 'editor' } as unknown as vscode.NotebookEditor;
  /** Sends a message and resolves with the channel's answer (a frame is read from its file first). */
  const send = (message: unknown) => new Promise<{ message: ImagesHostMessage; editor?: unknown }>((resolve) => {
    nextPost = resolve;
    listener!({ editor, message });
  });
  /** Sends a message the channel refuses: it warns at once and answers nothing. */
  const sendRefused = (message: unknown) => {
    const before = posted.length;
    listener!({ editor, message });
    return posted.length - before;
  };
  return { messaging, posted, warnings, editor, send, sendRefused, log: { warn: (message: string) => warnings.push(message) } };
}

test('the channel answers ready with the epochs, frame requests from the files, and errors with a name and message', async () => {
  const runDir = historyFolder([1, 2]);
  const view = (await ImageView.load({ runDir, mode: 'history', live: true }))!;
  const { messaging, posted, warnings, editor, send, sendRefused, log } = recorder();
  const channel = new ImageChannel(messaging, log);
  const place = { notebook: 'file:///a.aexp', cell: 'cell-1' };
  channel.register(view, place);

  channel.announce(view);
  assert.equal(posted.length, 0, 'nothing is sent before the renderer says ready');
  const ready = await send({ type: 'ready', viewId: view.id, epoch: 2 });
  assert.deepEqual(ready, { message: { type: 'epochs', viewId: view.id, epochs: [1, 2], live: true }, editor }, 'the renderer holds epoch 2 already: no frame');

  const frame = await send({ type: 'frame', viewId: view.id, requestId: 5, epoch: 1 });
  assert.equal(frame.editor, editor);
  assert.equal(frame.message.type, 'frame');
  assert.deepEqual(frame.message.type === 'frame' && [frame.message.requestId, frame.message.frame.epoch, bytes(frame.message.frame.reconstructions)[0]], [5, 1, 1]);

  const missing = await send({ type: 'frame', viewId: view.id, requestId: 6, epoch: 9 });
  assert.deepEqual(missing.message, { type: 'frame-error', viewId: view.id, requestId: 6, error: { name: 'NoSuchEpoch', message: 'this view has no epoch 9 (it has 1, 2)' } });

  // A damaged epoch file: the renderer hears which file and why, and so does the log.
  writeFileSync(viewEpochFile(runDir, 1), 'damaged');
  const damaged = await send({ type: 'frame', viewId: view.id, requestId: 7, epoch: 1 });
  assert.deepEqual(damaged.message, { type: 'frame-error', viewId: view.id, requestId: 7, error: { name: 'Error', message: `${viewEpochFile(runDir, 1)}: not a views file (it does not start with AEXPVIEW)` } });
  assert.equal(warnings.length, 1);

  // A new epoch reaches the renderer that said ready, with its frame.
  writeViewEpoch(runDir, shape, epochOf(3));
  assert.equal(await view.refresh(), true);
  channel.announce(view);
  const announced = posted.at(-1)!.message;
  assert.deepEqual(announced.type === 'epochs' && [announced.epochs, announced.frame?.epoch], [[1, 2, 3], 3]);

  // Malformed messages are dropped with a warning, unanswered.
  assert.equal(sendRefused({ type: 'frame', viewId: view.id, requestId: 'x', epoch: 1 }), 0);
  assert.match(warnings.at(-1)!, /requestId is not a whole number/);

  // The cell shows another view: the old one answers no more, and a notebook that closes forgets its views.
  const next = (await ImageView.load({ runDir, mode: 'history', live: false }))!;
  channel.register(next, place);
  const gone = await send({ type: 'frame', viewId: view.id, requestId: 8, epoch: 2 });
  assert.equal(gone.message.type === 'frame-error' && gone.message.error.name, 'UnknownView');
  assert.equal(channel.has(next.id), true);
  channel.forgetNotebook(place.notebook);
  assert.equal(channel.has(next.id), false);
  channel.dispose();
});
