/** A folder of PNG/JPEG images whose subfolder names are the labels. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { formatBytes } from '../format/memory';
import type { Dataset } from './dataset';
import { DatasetError, splitExamples } from './dataset';
import { Pacer } from './interrupt';

interface Rgba {
  width: number;
  height: number;
  data: Uint8Array;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Width and height as the file's header states them, read before anything is decoded: from the
 * PNG's IHDR chunk, or the JPEG's start-of-frame segment. Undefined when the header says neither.
 */
export function headerDimensions(buffer: Buffer): { width: number; height: number } | undefined {
  if (buffer.length >= 24 && buffer.subarray(0, 8).equals(PNG_SIGNATURE) && buffer.toString('latin1', 12, 16) === 'IHDR') {
    return { width: buffer.readUInt32BE(16), height: buffer.readUInt32BE(20) };
  }
  if (buffer[0] !== 0xff || buffer[1] !== 0xd8) return undefined;
  for (let at = 2; at + 9 <= buffer.length;) {
    if (buffer[at] !== 0xff) return undefined;
    const marker = buffer[at + 1];
    // Fill bytes and markers without a length (restart markers, start/end of image).
    if (marker === 0xff) {
      at++;
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2;
      continue;
    }
    // SOF0–SOF15, except DHT (C4), JPG (C8) and DAC (CC), carry the frame's size.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: buffer.readUInt16BE(at + 5), width: buffer.readUInt16BE(at + 7) };
    }
    at += 2 + buffer.readUInt16BE(at + 2);
  }
  return undefined;
}

/** What decoding one image may take (its RGBA pixels) and what the whole folder may hold. */
export interface FolderLimits {
  /** Bytes this process may use. */
  availableBytes: number;
  /** The largest array of bytes the JavaScript engine allocates. */
  largestByteArray: number;
}

/** Refuses, from its header alone, an image whose decoded pixels cannot fit. */
function checkImageSize(buffer: Buffer, file: string, limits: FolderLimits): void {
  const dimensions = headerDimensions(buffer);
  if (!dimensions) return;
  // Decoders produce RGBA: four bytes a pixel, in one array.
  const decoded = dimensions.width * dimensions.height * 4;
  const limit = Math.min(limits.availableBytes, limits.largestByteArray);
  if (decoded > limit) {
    throw new DatasetError(`${file}: its header says ${dimensions.width}×${dimensions.height} pixels, about ${formatBytes(decoded)} decoded; this process can hold at most ${formatBytes(limit)} in one image`);
  }
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

export async function loadImageFolder(root: string, options: { size?: [number, number]; channels?: 1 | 3; testFraction: number; seed: number; signal?: AbortSignal; limits: FolderLimits }): Promise<Dataset> {
  const pacer = new Pacer(options.signal, `reading the image folder ${root}`);
  const read = async (file: string) => {
    const buffer = await fs.readFile(file);
    checkImageSize(buffer, file, options.limits);
    return decodeImage(buffer, file);
  };
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
  const first = await read(files[0].file);
  const [height, width] = options.size ?? [first.height, first.width];
  const channels = options.channels ?? 1;
  const size = height * width * channels;
  // Held twice while the train and test splits are made.
  const needed = files.length * size;
  const what = `image folder ${root}: ${files.length.toLocaleString('en-US')} images of ${height}×${width}×${channels}`;
  const smaller = options.size ? '' : ' (set `size` to resize them smaller)';
  if (2 * needed > options.limits.availableBytes) {
    throw new DatasetError(`${what} need about ${formatBytes(2 * needed)} in memory (one byte per pixel, held twice while the train and test splits are made); this process can use at most ${formatBytes(options.limits.availableBytes)}${smaller}`);
  }
  if (needed > options.limits.largestByteArray) {
    throw new DatasetError(`${what} are one array of ${formatBytes(needed)}; the largest array this process can allocate is ${formatBytes(options.limits.largestByteArray)}${smaller}`);
  }
  const images = new Uint8Array(needed);
  const labels = new Uint8Array(files.length);
  for (const [index, { file, label }] of files.entries()) {
    await pacer.step();
    images.set(resize(index === 0 ? first : await read(file), height, width, channels), index * size);
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
