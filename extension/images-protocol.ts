/**
 * What the extension host and the image-view renderer (webview/images/) say to each other. One
 * image view per cell: the train cell's history of its fixed test examples (every epoch, scrubbed
 * with a slider), the reconstruct cell's and the sample cell's images of the final checkpoint.
 * The output item is a snapshot that draws alone (a reopened notebook, a host that is gone): the
 * fixed inputs and one epoch's frame. Other epochs come by message, asked for by the renderer.
 * Types only: both sides `import type` it, and each checks what it receives before using it. The
 * renderer speaks first (`ready`); the host sends a view nothing before that.
 *
 * Pixels travel as base64 of uint8 arrays laid out [n, height, width, channels] (items and
 * messages are JSON); losses are per image, in the run's units.
 */
import type { LossUnits } from '../runtime/protocol';

/** base64 of a uint8 array [n, height, width, channels]. */
export type Pixels = string;

/** One epoch's images: the reconstructions of the fixed examples and their losses, and the prior draws decoded. */
export interface ViewFrame {
  epoch: number;
  /** [count, h, w, c]; absent in a sample view. */
  reconstructions?: Pixels;
  /** Each image's objective, as the test loss reports it. */
  loss?: number[];
  /** Each image's reconstruction term (masked pixels only, for masked-ae). */
  reconstruction?: number[];
  /** Variational kinds: each image's KL. */
  kl?: number[];
  /** Variational kinds: the same prior draws decoded every epoch, [m, h, w, c]. */
  samples?: Pixels;
  /** Images per row of the samples (a cvae has one row per class). */
  sampleColumns?: number;
}

export type ImageViewMode =
  /** The train cell: every epoch of the fixed examples (and of the fixed prior draws). */
  | 'history'
  /** The reconstruct cell: the final checkpoint's reconstructions. */
  | 'reconstruct'
  /** The sample cell: the final checkpoint's samples. */
  | 'sample';

/** The image view's output item (`application/vnd.latent-lab.images+json`). */
export interface ImageViewSnapshot {
  version: 1;
  /** Which view this is: messages name it. */
  viewId: string;
  mode: ImageViewMode;
  modelKind: string;
  units: LossUnits;
  /** [height, width, channels] of one image. */
  shape: [number, number, number];
  /** How many fixed examples (0 in a sample view). */
  count: number;
  /** The clean inputs, [count, h, w, c]. */
  inputs?: Pixels;
  /** denoising-ae: the corrupted inputs; masked-ae: the inputs with masked patches mid-grey. */
  corrupted?: Pixels;
  /** masked-ae: [count, h, w, 1], 1 where masked. */
  mask?: Pixels;
  /** Every epoch whose frame exists, ascending; `frame.epoch` is one of them. */
  epochs: number[];
  /** The frame drawn first (the newest epoch). */
  frame: ViewFrame;
  /** One line under the samples: what the draws are (e.g. one row per class, temperature). */
  sampleCaption?: string;
  /** The host is still training this run: more epochs will come. */
  live: boolean;
}

/** An error as it crosses the boundary. */
export interface WireError {
  name: string;
  message: string;
}

/** Host → renderer. */
export type ImagesHostMessage =
  /** The epochs this view has now (sent after `ready`, and when training writes another); `frame` is the newest one's. */
  | { type: 'epochs'; viewId: string; epochs: number[]; frame?: ViewFrame; live: boolean }
  /** The answer to a `frame` request. */
  | { type: 'frame'; viewId: string; requestId: number; frame: ViewFrame }
  /** A `frame` request that could not be answered (the epoch is gone, its file is damaged, the view is unknown). */
  | { type: 'frame-error'; viewId: string; requestId: number; error: WireError };

/** Renderer → host. */
export type ImagesRendererMessage =
  /** A view is on screen, holding frames up to this epoch: the host answers with `epochs`. */
  | { type: 'ready'; viewId: string; epoch: number }
  /** Asks for one epoch's frame (scrubbing, or the other side of an epoch-vs-epoch diff). */
  | { type: 'frame'; viewId: string; requestId: number; epoch: number };
