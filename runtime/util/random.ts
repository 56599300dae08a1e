/** Seeded pseudo-random numbers: the same seed gives the same run, on every backend and machine. */

/** Deterministic pseudo-random numbers (mulberry32); its whole state is one 32-bit integer. */
export class Random {
  constructor(public state: number) {
    this.state = state >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(limit: number): number {
    return Math.floor(this.next() * limit);
  }
}

export function permutation(count: number, seed: number): Uint32Array {
  const order = new Uint32Array(count);
  for (let index = 0; index < count; index++) order[index] = index;
  const random = new Random(seed);
  for (let index = count - 1; index > 0; index--) {
    const other = random.int(index + 1);
    const swap = order[index];
    order[index] = order[other];
    order[other] = swap;
  }
  return order;
}

/** Mixes integers into one 32-bit seed (for per-epoch and per-step streams). */
export function mixSeed(...parts: number[]): number {
  let hash = 0x811c9dc5;
  for (const part of parts) {
    hash ^= part >>> 0;
    hash = Math.imul(hash, 0x01000193) >>> 0;
    hash ^= hash >>> 13;
  }
  return hash >>> 0;
}
