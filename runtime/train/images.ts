/** Image grids as PNG files: what a person opens to see reconstructions and samples. */
import { PNG } from 'pngjs';
import { writeFileAtomic } from '../util/atomic-file';

export interface ImageBatch {
  /** [n, h, w, c] values in [0, 1]. */
  pixels: Float32Array;
  count: number;
  height: number;
  width: number;
  channels: number;
}

/** Tiles images row by row; `rows` of images with a 2-pixel grey gutter, scaled up for small images. */
export function gridPng(batch: ImageBatch, columns: number, scale = Math.max(1, Math.round(56 / batch.height))): Buffer {
  const gutter = 2;
  const rows = Math.ceil(batch.count / columns);
  const cellHeight = batch.height * scale;
  const cellWidth = batch.width * scale;
  const png = new PNG({ width: columns * (cellWidth + gutter) + gutter, height: rows * (cellHeight + gutter) + gutter });
  png.data.fill(96);
  for (let index = 3; index < png.data.length; index += 4) png.data[index] = 255;
  const size = batch.height * batch.width * batch.channels;
  for (let image = 0; image < batch.count; image++) {
    const top = gutter + Math.floor(image / columns) * (cellHeight + gutter);
    const left = gutter + (image % columns) * (cellWidth + gutter);
    for (let y = 0; y < cellHeight; y++) {
      for (let x = 0; x < cellWidth; x++) {
        const source = image * size + (Math.floor(y / scale) * batch.width + Math.floor(x / scale)) * batch.channels;
        const target = ((top + y) * png.width + left + x) * 4;
        for (let channel = 0; channel < 3; channel++) {
          const value = batch.pixels[source + (batch.channels === 1 ? 0 : channel)];
          png.data[target + channel] = Math.max(0, Math.min(255, Math.round(value * 255)));
        }
      }
    }
  }
  return PNG.sync.write(png);
}

/** Rows of images in blocks of `columns`: e.g. originals over their reconstructions. All batches have the same count. */
export function rowsPng(batches: ImageBatch[], columns = 8): Buffer {
  const [first] = batches;
  const size = first.height * first.width * first.channels;
  const blocks = Math.ceil(first.count / columns);
  const rows = batches.length;
  const pixels = new Float32Array(blocks * rows * columns * size).fill(0.375);
  for (let block = 0; block < blocks; block++) {
    for (let column = 0; column < columns; column++) {
      const index = block * columns + column;
      if (index >= first.count) continue;
      batches.forEach((batch, row) => pixels.set(batch.pixels.subarray(index * size, (index + 1) * size), ((block * rows + row) * columns + column) * size));
    }
  }
  return gridPng({ ...first, pixels, count: blocks * rows * columns }, columns);
}

export function writePng(file: string, png: Buffer): void {
  writeFileAtomic(file, [png]);
}
