/**
 * Where a frame of the scatter drawn once, at one camera and with a margin around the canvas, lies
 * on the canvas at another camera. While the person pans or zooms, both renderers show that
 * frame moved and scaled (one quad, one drawImage) instead of drawing every point again; they
 * draw every point again when the camera settles, and sooner when the frame no longer covers the
 * canvas or the zoom has changed by more than ZOOM_LIMIT (its points would look too big or small).
 */
import type { Camera } from '../../extension/explorer-protocol';

/** The margin drawn around the canvas, each side, as a fraction of the canvas's size. */
const MARGIN = 0.5;
/** The most the zoom may change (either way) before the points are drawn again: beyond it they look twice or half their size. */
const ZOOM_LIMIT = 2;

/** A frame drawn at `camera`: the canvas's size in device pixels, and the margin it has each side. */
export interface CachedFrame {
  camera: Camera;
  /** The canvas's size in device pixels when the frame was drawn. */
  canvasWidth: number;
  canvasHeight: number;
  /** Device pixels per CSS pixel. */
  ratio: number;
  /** Device pixels drawn beyond the canvas on each side (whole pixels, so a frame moved by whole pixels is a copy). */
  marginX: number;
  marginY: number;
}

/** The frame's placement: its centre's offset from the canvas's centre (device pixels, x right, y down) and its scale. */
export interface Placement {
  dx: number;
  dy: number;
  zoom: number;
}

/** The frame to draw for a canvas of this size at `camera`, at most `largest` device pixels a side. */
export function frameFor(camera: Camera, canvasWidth: number, canvasHeight: number, ratio: number, largest: number): CachedFrame {
  const margin = (side: number) => Math.max(0, Math.min(Math.round(MARGIN * side), Math.floor((largest - side) / 2)));
  return { camera, canvasWidth, canvasHeight, ratio, marginX: margin(canvasWidth), marginY: margin(canvasHeight) };
}

/** The frame's full size in device pixels. */
export function frameSize(frame: CachedFrame): { width: number; height: number } {
  return { width: frame.canvasWidth + 2 * frame.marginX, height: frame.canvasHeight + 2 * frame.marginY };
}

/**
 * Where `frame` lies on a canvas of this size at `camera`, or undefined where it cannot stand for
 * a full drawing there: another canvas size, a zoom beyond ZOOM_LIMIT, or part of the canvas
 * outside the frame.
 */
export function place(frame: CachedFrame, camera: Camera, canvasWidth: number, canvasHeight: number, ratio: number): Placement | undefined {
  if (frame.canvasWidth !== canvasWidth || frame.canvasHeight !== canvasHeight || frame.ratio !== ratio) return undefined;
  const zoom = camera.scale / frame.camera.scale;
  if (!(zoom <= ZOOM_LIMIT && zoom >= 1 / ZOOM_LIMIT)) return undefined;
  const dx = (frame.camera.x - camera.x) * camera.scale * ratio;
  const dy = (camera.y - frame.camera.y) * camera.scale * ratio;
  const { width, height } = frameSize(frame);
  const spareX = (width * zoom - canvasWidth) / 2, spareY = (height * zoom - canvasHeight) / 2;
  // A little slack for rounding: a frame that covers the canvas to a thousandth of a pixel covers it.
  if (Math.abs(dx) > spareX + 1e-3 || Math.abs(dy) > spareY + 1e-3) return undefined;
  return { dx, dy, zoom };
}

function sameCamera(a: Camera, b: Camera): boolean {
  return a.x === b.x && a.y === b.y && a.scale === b.scale;
}

/** One draw's work: draw every point into a new frame (`render`), then show `frame` at `placement`. */
export interface FramePlan {
  render?: CachedFrame;
  frame: CachedFrame;
  placement: Placement;
  /** `full`: the canvas shows every point drawn at this camera; `moved`: an earlier frame moved and scaled. */
  kind: 'full' | 'moved';
}

/**
 * A renderer's kept frame and what its canvas shows, which decide each draw's work. Still, a draw
 * shows every point drawn at its camera; moving, the kept frame where it still covers the canvas.
 * A draw that would show what the canvas already shows (an overlay's redraw) does nothing.
 */
export class FrameKeeper {
  private frame: CachedFrame | undefined;
  private framePointSize = 0;
  private stale = true;
  private frames = 0;
  private shown = '';

  /** The points or their colours changed: the next draw draws every point. */
  invalidate(): void {
    this.stale = true;
  }

  /** The draw's work, or undefined where the canvas already shows it. */
  plan(camera: Camera, canvasWidth: number, canvasHeight: number, ratio: number, pointSize: number, moving: boolean, largest: number): FramePlan | undefined {
    let placement = this.frame && !this.stale && this.framePointSize === pointSize ? place(this.frame, camera, canvasWidth, canvasHeight, ratio) : undefined;
    let render: CachedFrame | undefined;
    if (!placement || !this.frame || (!moving && !sameCamera(this.frame.camera, camera))) {
      render = frameFor(camera, canvasWidth, canvasHeight, ratio, largest);
      this.frame = render;
      this.framePointSize = pointSize;
      this.stale = false;
      this.frames++;
      placement = { dx: 0, dy: 0, zoom: 1 };
    }
    const shown = `${this.frames} ${canvasWidth}×${canvasHeight} ${placement.dx} ${placement.dy} ${placement.zoom}`;
    if (!render && shown === this.shown) return undefined;
    this.shown = shown;
    return { ...(render ? { render } : {}), frame: this.frame, placement, kind: sameCamera(this.frame.camera, camera) ? 'full' : 'moved' };
  }
}
