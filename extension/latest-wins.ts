/**
 * At most one request in flight, the newest waiting: what a pointer dragging over the explorer
 * needs, where only the last position matters. Items that arrive while one is being sent replace
 * each other; the survivor goes when the one in flight settles (answered or failed).
 */
export class LatestWins<T> {
  private running = false;
  private waiting: { item: T } | undefined;

  constructor(private readonly send: (item: T) => Promise<unknown>) {}

  push(item: T): void {
    this.waiting = { item };
    this.pump();
  }

  /** Whether nothing is in flight or waiting. */
  get idle(): boolean {
    return !this.running && !this.waiting;
  }

  private pump(): void {
    if (this.running || !this.waiting) return;
    const { item } = this.waiting;
    this.waiting = undefined;
    this.running = true;
    void this.send(item).catch(() => undefined).finally(() => {
      this.running = false;
      this.pump();
    });
  }
}
