/** A folder of PNG/JPEG images whose subfolder names are the labels. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import type { Dataset } from './dataset';
import { DatasetError, splitExamples } from './dataset';

interface Rgba {
  width: number;
  height: number;
  data: Uint8Array;
}

export function decodeImage(buffer: Buffer, file: string): Rgba {
  try {
    if (buffer.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) {
      const png = PNG.sync.read(buffer);
      return { width: png.width, height: png.height, data: png.data };
    }
    if (buffer[0] === 0xff && buffer[1] === 0xd8) {
      const image = jpeg.decode(buffer, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 256 });
      return { width: image.width, height: image.height, data: image.data };
    }
  } catch (error) {
    throw new DatasetError(`${file}: not a readable image (${(error as Error).message})`);
  }
  throw new DatasetError(`${file}: neither PNG nor JPEG`);
}

/** Area-averaging resize (box filter): exact for integer factors, smooth for the rest. */
export function resize(image: Rgba, height: number, width: number, channels: 1 | 3): Uint8Array {
  const out = new Uint8Array(height * width * channels);
  const scaleY = image.height / height;
  const scaleX = image.width / width;
  for (let y = 0; y < height; y++) {
    const y0 = y * scaleY;
    const y1 = (y + 1) * scaleY;
    for (let x = 0; x < width; x++) {
      const x0 = x * scaleX;
      const x1 = (x + 1) * scaleX;
      let red = 0;
      let green = 0;
      let blue = 0;
      let weight = 0;
      for (let sy = Math.floor(y0); sy < Math.min(Math.ceil(y1), image.height); sy++) {
        const wy = Math.min(y1, sy + 1) - Math.max(y0, sy);
        for (let sx = Math.floor(x0); sx < Math.min(Math.ceil(x1), image.width); sx++) {
          const w = wy * (Math.min(x1, sx + 1) - Math.max(x0, sx));
          const at = (sy * image.width + sx) * 4;
          red += image.data[at] * w;
          green += image.data[at + 1] * w;
          blue += image.data[at + 2] * w;
          weight += w;
        }
      }
      const at = (y * width + x) * channels;
      if (channels === 1) out[at] = Math.round((0.299 * red + 0.587 * green + 0.114 * blue) / weight);
      else {
        out[at] = Math.round(red / weight);
        out[at + 1] = Math.round(green / weight);
        out[at + 2] = Math.round(blue / weight);
      }
    }
  }
  return out;
}

export async function loadImageFolder(root: string, options: { size?: [number, number]; channels?: 1 | 3; testFraction: number; seed: number }): Promise<Dataset> {
  let entries;
  try {
    entries = await fs.readdir(root, { withFileTypes: true });
  } catch {
    throw new DatasetError(`image folder ${root} does not exist or cannot be read`);
  }
  const classes = entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  if (classes.length === 0) throw new DatasetError(`image folder ${root} has no subfolders: put images in <folder>/<label>/*.png|jpg`);
  if (classes.length > 256) throw new DatasetError(`image folder ${root} has ${classes.length} label folders; at most 256 are supported`);
  const files: { file: string; label: number }[] = [];
  for (const [label, name] of classes.entries()) {
    const names = (await fs.readdir(path.join(root, name))).filter((file) => /\.(png|jpe?g)$/i.test(file)).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    for (const file of names) files.push({ file: path.join(root, name, file), label });
  }
  if (files.length < 2) throw new DatasetError(`image folder ${root} has ${files.length} image(s); it needs at least 2 (one for the test split)`);
  const first = decodeImage(await fs.readFile(files[0].file), files[0].file);
  const [height, width] = options.size ?? [first.height, first.width];
  const channels = options.channels ?? 1;
  const size = height * width * channels;
  const images = new Uint8Array(files.length * size);
  const labels = new Uint8Array(files.length);
  for (const [index, { file, label }] of files.entries()) {
    images.set(resize(decodeImage(await fs.readFile(file), file), height, width, channels), index * size);
    labels[index] = label;
  }
  const { train, test } = splitExamples(images, labels, size, options.testFraction, options.seed);
  return {
    name: 'folder',
    shape: [height, width, channels],
    classes,
    train,
    test,
    description: `image folder ${root}: ${files.length} images in ${classes.length} classes, resized to ${height}×${width}×${channels}; ${train.count} train / ${test.count} test`,
  };
}
