/**
 * Where a view's frames come from: a cache bounded in bytes (least recently used goes first), so
 * that scrubbing back to an epoch seen before redraws without asking the host; and the requests for
 * the ones it lacks: at most one in flight per view, and when it answers, the epoch wanted now is
 * asked for next (a fast scrub does not queue every epoch it passed).
 */
import type { Frame } from './messages';

/** Enough for hundreds of epochs of a small grid; a large-image view keeps fewer. */
export const CACHE_BYTES = 64 * 1024 * 1024;

export class FrameCache {
  private readonly frames = new Map<number, Frame>();
  private bytes = 0;

  constructor(private readonly limit = CACHE_BYTES) {}

  get(epoch: number): Frame | undefined {
    const frame = this.frames.get(epoch);
    if (frame) {
      this.frames.delete(epoch);
      this.frames.set(epoch, frame);
    }
    return frame;
  }

  has(epoch: number): boolean {
    return this.frames.has(epoch);
  }

  /** Keeps `frame`, dropping the least recently used ones past the bound (never the one just kept). */
  put(frame: Frame): void {
    const old = this.frames.get(frame.epoch);
    if (old) {
      this.frames.delete(frame.epoch);
      this.bytes -= old.bytes;
    }
    this.frames.set(frame.epoch, frame);
    this.bytes += frame.bytes;
    for (const [epoch, kept] of this.frames) {
      if (this.bytes <= this.limit || epoch === frame.epoch) break;
      this.frames.delete(epoch);
      this.bytes -= kept.bytes;
    }
  }

  /** Drops the frames of epochs that no longer exist (a resumed run trained them again). */
  keepOnly(epochs: readonly number[]): void {
    const known = new Set(epochs);
    for (const [epoch, frame] of this.frames) {
      if (known.has(epoch)) continue;
      this.frames.delete(epoch);
      this.bytes -= frame.bytes;
    }
  }

  get size(): number {
    return this.frames.size;
  }
}

export interface Request {
  requestId: number;
  epoch: number;
}

/** The one request in flight and the epochs wanted after it. */
export class FrameRequests {
  private nextId = 1;
  private pending: Request | undefined;
  private wanted: number[] = [];

  constructor(private readonly send: (request: Request) => void) {}

  /** The epochs to have, most wanted first; the ones not in flight wait for it to answer. */
  want(epochs: number[]): void {
    this.wanted = epochs;
    this.pump();
  }

  /** The in-flight request this answers, or undefined for a stale or unknown id. */
  settle(requestId: number): Request | undefined {
    if (!this.pending || this.pending.requestId !== requestId) return undefined;
    const settled = this.pending;
    this.pending = undefined;
    this.wanted = this.wanted.filter((epoch) => epoch !== settled.epoch);
    return settled;
  }

  /** Sends the next wanted request if none is in flight. */
  pump(): void {
    if (this.pending || this.wanted.length === 0) return;
    this.pending = { requestId: this.nextId++, epoch: this.wanted[0] };
    this.send(this.pending);
  }

  get inFlight(): Request | undefined {
    return this.pending;
  }
}
