/**
 * A large split's images held deflated in blocks of examples, for an inference session that keeps
 * a dataset for as long as its run is explored: MNIST's 60,000 train images are 47 MB as bytes and
 * about 10 MB deflated (level 1, a quarter of a second to pack). Encoding inflates one block at a
 * time; one example (a hover) inflates its block, about 1 MB, in about a millisecond, and the last
 * block inflated is kept for the next.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';

/** Raw bytes per block: a block decompresses in about a millisecond. */
const BLOCK_BYTES = 1 << 20;

export class PackedImages {
  /** Examples per block (the last block may hold fewer). */
  readonly perBlock: number;
  private readonly blocks: Buffer[] = [];
  private last?: { block: number; images: Uint8Array };

  constructor(images: Uint8Array, readonly count: number, readonly exampleSize: number) {
    this.perBlock = Math.max(1, Math.floor(BLOCK_BYTES / exampleSize));
    for (let start = 0; start < count; start += this.perBlock) {
      this.blocks.push(deflateRawSync(images.subarray(start * exampleSize, Math.min(count, start + this.perBlock) * exampleSize), { level: 1 }));
    }
  }

  get blockCount(): number {
    return this.blocks.length;
  }

  /** What it holds: the deflated blocks, and the block inflated last. */
  get byteLength(): number {
    return this.blocks.reduce((sum, block) => sum + block.byteLength, 0) + (this.last?.images.byteLength ?? 0);
  }

  /** Block `index`'s images, examples index × perBlock onwards. */
  block(index: number): Uint8Array {
    if (this.last?.block !== index) this.last = { block: index, images: inflateRawSync(this.blocks[index]) };
    return this.last.images;
  }

  /** Example `index`'s bytes. */
  example(index: number): Uint8Array {
    const images = this.block(Math.floor(index / this.perBlock));
    const at = (index % this.perBlock) * this.exampleSize;
    return images.subarray(at, at + this.exampleSize);
  }
}
