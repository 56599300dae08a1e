/**
 * Long, synchronous loaders (generating sprites, decoding images) yield to the event loop now and
 * then, so that Ctrl-C and SIGTERM reach their handlers at once, and stop when told to.
 */

/** Data loading stopped by its abort signal; the name is the one `AbortSignal` users test for. */
export class DataInterruptedError extends Error {
  override name = 'AbortError';
}

/** Milliseconds of work between yields: short enough that a signal feels immediate. */
const SLICE_MS = 50;

export class Pacer {
  private sliceStart = Date.now();

  constructor(private readonly signal: AbortSignal | undefined, private readonly doing: string) {
    this.check();
  }

  /** Throws when aborted. */
  check(): void {
    if (this.signal?.aborted) throw new DataInterruptedError(`interrupted while ${this.doing}`);
  }

  /** Call between units of work: yields once a slice of time is used up, then checks the signal. */
  async step(): Promise<void> {
    if (Date.now() - this.sliceStart < SLICE_MS) return;
    await new Promise((resolve) => setImmediate(resolve));
    this.sliceStart = Date.now();
    this.check();
  }
}
