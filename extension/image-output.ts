/**
 * The cells' image views, host side. An ImageView is one cell's view of its run folder's views/:
 * the train cell's history of its fixed test examples (every epoch), the reconstruct or the sample
 * cell's images of the final checkpoint. It gives the output item's snapshot (the fixed inputs
 * and one frame: small enough to re-send once an epoch) and reads any epoch's frame when asked.
 * The ImageChannel owns the renderer messaging: it answers `ready` with a view's epochs and
 * `frame` requests by reading one epoch file, for the views registered with it and no others.
 * Only `import type` of vscode here: tested in plain Node.
 */
import { randomUUID } from 'node:crypto';
import type * as vscode from 'vscode';
import { sampleRows } from '../runtime/run-folder';
import type { ViewEpoch, ViewInputs } from '../runtime/views-data';
import { readReconstructViewAsync, readSampleViewAsync, readViewEpochAsync, readViewInputsAsync, viewEpochsAsync } from '../runtime/views-data';
import type { ImageViewMode, ImageViewSnapshot, ImagesHostMessage, ImagesRendererMessage, ViewFrame, WireError } from './images-protocol';

export const IMAGES_MIME = 'application/vnd.latent-lab.images+json';
export const IMAGES_RENDERER_ID = 'latent-lab.images';
const VIEW_ID_LIMIT = 200;

/** A frame request that cannot be answered, with the name the renderer shows. */
class FrameUnavailable extends Error {
  constructor(override readonly name: string, message: string) {
    super(message);
  }
}

function base64(pixels: Uint8Array): string {
  return Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength).toString('base64');
}

/** One epoch's views file as the renderer takes it. */
export function frameOf(view: ViewEpoch): ViewFrame {
  return {
    epoch: view.epoch,
    reconstructions: base64(view.reconstructions),
    loss: Array.from(view.loss),
    reconstruction: Array.from(view.reconstruction),
    ...(view.kl ? { kl: Array.from(view.kl) } : {}),
    ...(view.samples ? { samples: base64(view.samples) } : {}),
    ...(view.sampleColumns !== undefined ? { sampleColumns: view.sampleColumns } : {}),
  };
}

export interface ImageViewSource {
  runDir: string;
  mode: ImageViewMode;
  /** The run is training: more epochs will come. */
  live: boolean;
  /** What the samples are, as the cell's grid caption said it (the sample cell's rows); else said from the model kind. */
  sampleCaption?: string;
}

interface Described {
  modelKind: string;
  units: ImageViewSnapshot['units'];
  shape: [number, number, number];
}

export class ImageView {
  readonly id = randomUUID();
  live: boolean;

  private constructor(
    readonly runDir: string,
    readonly mode: ImageViewMode,
    private readonly described: Described,
    private readonly inputs: ViewInputs | undefined,
    private epochList: number[],
    private current: ViewFrame,
    live: boolean,
    private readonly sampleCaption: string | undefined,
  ) {
    this.live = live;
  }

  /**
   * The view of a run folder's views/ for this cell, or `undefined` when it has none (a run folder
   * written before views existed shows its PNG grids). A refused or damaged file throws, naming it.
   */
  static async load(source: ImageViewSource): Promise<ImageView | undefined> {
    const { runDir, mode, live } = source;
    const caption = (modelKind: string, hasSamples: boolean, suffix: string) => (hasSamples ? (source.sampleCaption ?? `${sampleRows(modelKind === 'cvae')[0]}${suffix}`) : undefined);
    if (mode === 'history') {
      const inputs = await readViewInputsAsync(runDir);
      if (!inputs) return undefined;
      const epochs = await viewEpochsAsync(runDir);
      const newest = epochs.at(-1);
      const view = newest === undefined ? undefined : await readViewEpochAsync(runDir, newest, inputs);
      if (!view) return undefined;
      return new ImageView(runDir, mode, inputs, inputs, epochs, frameOf(view), live, caption(inputs.modelKind, view.samples !== undefined, ', the same draws every epoch'));
    }
    if (mode === 'reconstruct') {
      const found = await readReconstructViewAsync(runDir);
      if (!found) return undefined;
      return new ImageView(runDir, mode, found.inputs, found.inputs, [found.view.epoch], frameOf(found.view), live, undefined);
    }
    const found = await readSampleViewAsync(runDir);
    if (!found) return undefined;
    const frame: ViewFrame = { epoch: found.epoch, samples: base64(found.samples), sampleColumns: found.sampleColumns };
    return new ImageView(runDir, mode, found, undefined, [found.epoch], frame, live, caption(found.modelKind, true, ''));
  }

  get epochs(): readonly number[] {
    return this.epochList;
  }

  /** The epoch the snapshot shows (the newest). */
  get newest(): number {
    return this.current.epoch;
  }

  /** A history view takes the epochs written since it last looked; true when it changed. */
  async refresh(): Promise<boolean> {
    if (this.mode !== 'history' || !this.inputs) return false;
    const epochs = await viewEpochsAsync(this.runDir);
    const newest = epochs.at(-1);
    if (newest === undefined || (newest === this.current.epoch && epochs.join() === this.epochList.join())) return false;
    const view = await readViewEpochAsync(this.runDir, newest, this.inputs);
    if (!view) return false;
    this.epochList = epochs;
    this.current = frameOf(view);
    return true;
  }

  snapshot(): ImageViewSnapshot {
    const { inputs } = this;
    return {
      version: 1,
      viewId: this.id,
      mode: this.mode,
      modelKind: this.described.modelKind,
      units: this.described.units,
      shape: this.described.shape,
      count: inputs?.examples.length ?? 0,
      ...(inputs ? { inputs: base64(inputs.inputs) } : {}),
      ...(inputs?.corrupted ? { corrupted: base64(inputs.corrupted) } : {}),
      ...(inputs?.mask ? { mask: base64(inputs.mask) } : {}),
      epochs: this.epochList.slice(),
      frame: this.current,
      ...(this.sampleCaption ? { sampleCaption: this.sampleCaption } : {}),
      live: this.live,
    };
  }

  /** One epoch's frame, read from its file (never blocking); throws a FrameUnavailable or the file's error. */
  async frame(epoch: number): Promise<ViewFrame> {
    if (epoch === this.current.epoch) return this.current;
    if (!this.epochList.includes(epoch) || !this.inputs || this.mode !== 'history') throw new FrameUnavailable('NoSuchEpoch', `this view has no epoch ${epoch} (it has ${describeEpochs(this.epochList)})`);
    const view = await readViewEpochAsync(this.runDir, epoch, this.inputs);
    if (!view) throw new FrameUnavailable('EpochGone', `epoch ${epoch}'s views file is no longer in ${this.runDir}`);
    return frameOf(view);
  }

  /** The epochs message: the list, and the newest frame unless the renderer holds it already. */
  epochsMessage(rendererEpoch?: number): ImagesHostMessage {
    return { type: 'epochs', viewId: this.id, epochs: this.epochList.slice(), ...(rendererEpoch === this.current.epoch ? {} : { frame: this.current }), live: this.live };
  }
}

function describeEpochs(epochs: readonly number[]): string {
  if (epochs.length === 0) return 'none';
  return epochs.length <= 3 ? epochs.join(', ') : `${epochs.length}: ${epochs[0]}–${epochs.at(-1)}`;
}

/** A renderer's message checked field by field, or the reason it is refused. */
export function parseImagesRendererMessage(value: unknown): ImagesRendererMessage | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not an object';
  const message = value as Record<string, unknown>;
  const count = (field: unknown) => typeof field === 'number' && Number.isSafeInteger(field) && field >= 0;
  if (message.type !== 'ready' && message.type !== 'frame') return `type ${JSON.stringify(message.type)} is not ready or frame`;
  if (typeof message.viewId !== 'string' || message.viewId.length === 0 || message.viewId.length > VIEW_ID_LIMIT) return `${message.type}: viewId is not a string of 1 to ${VIEW_ID_LIMIT} characters`;
  if (!count(message.epoch)) return `${message.type}: epoch is not a whole number`;
  if (message.type === 'ready') return { type: 'ready', viewId: message.viewId, epoch: message.epoch as number };
  if (!count(message.requestId)) return 'frame: requestId is not a whole number';
  return { type: 'frame', viewId: message.viewId, requestId: message.requestId as number, epoch: message.epoch as number };
}

export type ImagesMessaging = Pick<vscode.NotebookRendererMessaging, 'onDidReceiveMessage' | 'postMessage'>;

/** Where a view is shown: a cell of a notebook (by URI). A cell shows one view; a new one takes its place. */
export interface ViewPlace {
  notebook: string;
  cell: string;
}

export class ImageChannel implements vscode.Disposable {
  private readonly views = new Map<string, { view: ImageView; place: ViewPlace }>();
  /** Views that a renderer said it shows: only these hear of new epochs. */
  private readonly shown = new Set<string>();
  private readonly subscription: vscode.Disposable;

  constructor(private readonly messaging: ImagesMessaging, private readonly log?: Pick<vscode.LogOutputChannel, 'warn'>) {
    this.subscription = messaging.onDidReceiveMessage(({ editor, message }) => void this.receive(editor, message));
  }

  /**
   * Answers for this view from now on, until another view is registered for its cell or its
   * notebook closes (scrubbing goes on after its run has ended, and after a reopen).
   */
  register(view: ImageView, place: ViewPlace): void {
    for (const [id, entry] of this.views) if (entry.place.notebook === place.notebook && entry.place.cell === place.cell) this.forget(id);
    this.views.set(view.id, { view, place });
  }

  /** The notebook closed: its views answer no more. */
  forgetNotebook(notebook: string): void {
    for (const [id, entry] of this.views) if (entry.place.notebook === notebook) this.forget(id);
  }

  private forget(id: string): void {
    this.views.delete(id);
    this.shown.delete(id);
  }

  has(viewId: string): boolean {
    return this.views.has(viewId);
  }

  /** The view gained an epoch or stopped being live: the renderers showing it hear so. */
  announce(view: ImageView): void {
    if (this.shown.has(view.id) && this.views.get(view.id)?.view === view) void this.messaging.postMessage(view.epochsMessage());
  }

  private async receive(editor: vscode.NotebookEditor, value: unknown): Promise<void> {
    const message = parseImagesRendererMessage(value);
    if (typeof message === 'string') {
      this.log?.warn(`the image view sent a message this version does not take (${message}); ignored`);
      return;
    }
    const view = this.views.get(message.viewId)?.view;
    if (message.type === 'ready') {
      if (!view) return;
      this.shown.add(view.id);
      await this.messaging.postMessage(view.epochsMessage(message.epoch), editor);
      return;
    }
    const answer = await this.answer(view, message);
    await this.messaging.postMessage(answer, editor);
  }

  private async answer(view: ImageView | undefined, request: Extract<ImagesRendererMessage, { type: 'frame' }>): Promise<ImagesHostMessage> {
    const { viewId, requestId, epoch } = request;
    const failed = (error: WireError): ImagesHostMessage => ({ type: 'frame-error', viewId, requestId, error });
    if (!view) return failed({ name: 'UnknownView', message: 'this image view is no longer known to the extension (its cell ran again, or the window reloaded): run the cell again or reopen the notebook' });
    try {
      return { type: 'frame', viewId, requestId, frame: await view.frame(epoch) };
    } catch (error) {
      const { name, message } = error as Error;
      if (!(error instanceof FrameUnavailable)) this.log?.warn(`image view: ${message}`);
      return failed({ name, message });
    }
  }

  dispose(): void {
    this.subscription.dispose();
    this.views.clear();
    this.shown.clear();
  }
}
