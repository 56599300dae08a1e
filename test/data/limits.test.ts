import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { headerDimensions, loadImageFolder } from '../../runtime/data/folder';
import { loadDataset } from '../../runtime/data/index';
import { generateSprites } from '../../runtime/data/sprites';
import type { DataConfig } from '../../runtime/format/schema';
import { temporaryDirectory } from '../helpers/temp';

const limits = { availableBytes: 8e9, largestByteArray: 2 ** 40 };

function smallPng(width = 8, height = 8): Buffer {
  const png = new PNG({ width, height });
  png.data.fill(200);
  return PNG.sync.write(png);
}

/** A PNG whose IHDR promises width × height pixels; nothing after the header. */
function promisingPng(width: number, height: number): Buffer {
  const header = Buffer.alloc(33);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(header, 0);
  header.writeUInt32BE(13, 8);
  header.write('IHDR', 12, 'latin1');
  header.writeUInt32BE(width, 16);
  header.writeUInt32BE(height, 20);
  header.set([8, 6, 0, 0, 0], 24);
  return header;
}

function folderOf(images: Record<string, Buffer>): string {
  const root = temporaryDirectory();
  for (const [name, buffer] of Object.entries(images)) {
    mkdirSync(path.join(root, path.dirname(name)), { recursive: true });
    writeFileSync(path.join(root, name), buffer);
  }
  return root;
}

describe('data that cannot fit is refused before it is allocated', () => {
  test('a PNG whose header promises 100000×100000 pixels is refused from its header, by name', async () => {
    assert.deepEqual(headerDimensions(promisingPng(100000, 100000)), { width: 100000, height: 100000 });
    const root = folderOf({ 'a/small.png': smallPng(), 'b/huge.png': promisingPng(100000, 100000) });
    await assert.rejects(
      loadImageFolder(root, { size: [8, 8], testFraction: 0.5, seed: 0, limits }),
      (error: Error) => error.message === `${path.join(root, 'b', 'huge.png')}: its header says 100000×100000 pixels, about 40.0 GB decoded; this process can hold at most 8.0 GB in one image`,
    );
  });

  test('a folder whose images at the target size cannot fit is refused before decoding them', async () => {
    const root = folderOf({ 'a/1.png': smallPng(), 'a/2.png': smallPng(), 'b/3.png': smallPng() });
    await assert.rejects(
      loadImageFolder(root, { size: [1000, 1000], channels: 3, testFraction: 0.5, seed: 0, limits: { availableBytes: 10e6, largestByteArray: 2 ** 32 } }),
      (error: Error) => error.message === `image folder ${root}: 3 images of 1000×1000×3 need about 18.0 MB in memory (one byte per pixel, held twice while the train and test splits are made); this process can use at most 10.0 MB`,
    );
  });

  test('the size in a JPEG header is read from its start-of-frame segment', () => {
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x00, 0x00, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x01, 0x20, 0x02, 0x80, 0x03]);
    assert.deepEqual(headerDimensions(jpeg), { width: 640, height: 288 });
  });
});

describe('labels', () => {
  function idx(magic: number, dimensions: number[], payload: number[]): Buffer {
    const header = Buffer.alloc(4 + 4 * dimensions.length);
    header.writeUInt32BE(magic, 0);
    dimensions.forEach((dimension, index) => header.writeUInt32BE(dimension, 4 + 4 * index));
    return gzipSync(Buffer.concat([header, Buffer.from(payload)]));
  }

  test('an MNIST label file with a label past the 10 classes is refused, naming the file and the label', async () => {
    const dataDir = temporaryDirectory();
    const folder = path.join(dataDir, 'mnist');
    mkdirSync(folder);
    const images = (count: number) => idx(2051, [count, 28, 28], new Array(count * 784).fill(0));
    writeFileSync(path.join(folder, 'train-images-idx3-ubyte.gz'), images(3));
    writeFileSync(path.join(folder, 'train-labels-idx1-ubyte.gz'), idx(2049, [3], [1, 12, 3]));
    writeFileSync(path.join(folder, 't10k-images-idx3-ubyte.gz'), images(2));
    writeFileSync(path.join(folder, 't10k-labels-idx1-ubyte.gz'), idx(2049, [2], [0, 1]));
    const config: DataConfig = { dataset: 'mnist', batch: 2, binarize: 'none', test_fraction: 0.1, shuffle: true };
    await assert.rejects(
      loadDataset(config, { dataDir, baseDir: dataDir, seed: 0 }),
      (error: Error) => error.message === `${path.join(folder, 'train-labels-idx1-ubyte.gz')}: example 1 has label 12; the dataset has 10 classes (labels 0–9)`,
    );
  });
});

describe('interruption', () => {
  test('generating sprites yields to the event loop and stops when its signal aborts', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    // Far more sprites than 100 ms can render: only an abort ends this early.
    await assert.rejects(generateSprites({ size: 64, count: 300_000, seed: 1, testFraction: 0.1, signal: controller.signal }), (error: Error) => {
      assert.equal(error.name, 'AbortError');
      assert.equal(error.message, 'interrupted while generating sprites');
      return true;
    });
  });

  test('a signal aborted before loading starts stops it at once', async () => {
    const controller = new AbortController();
    controller.abort();
    const config: DataConfig = { dataset: 'sprites', batch: 2, binarize: 'none', test_fraction: 0.1, shuffle: true, count: 100 };
    await assert.rejects(loadDataset(config, { dataDir: '.', baseDir: '.', seed: 0, signal: controller.signal }), /interrupted while loading sprites/);
  });
});
