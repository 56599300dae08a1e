import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PNG } from 'pngjs';
import * as tar from 'tar';
import { loadCifar10 } from '../../runtime/data/cifar';
import { downloadVerified } from '../../runtime/data/download';
import { loadImageFolder } from '../../runtime/data/folder';
import { IDX_SOURCES, ensureIdxFiles } from '../../runtime/data/idx';
import { loadDataset, resolveDataDir } from '../../runtime/data/index';
import { generateSprites } from '../../runtime/data/sprites';
import { sharedData, skipMessage } from '../helpers/shared';
import { temporaryDirectory } from '../helpers/temp';

const mnistDir = sharedData('mnist');
const cifarDir = sharedData('cifar10');
const folderDir = sharedData('image-folder-mnist');
const limits = { availableBytes: 8e9, largestByteArray: 2 ** 32 };

describe('datasets from ../shared/data (checked by structure, no download)', () => {
  test('MNIST loads 60000/10000 28×28 images with labels', { skip: !mnistDir && skipMessage('mnist') }, async () => {
    const dataset = await loadDataset(
      { dataset: 'mnist', batch: 128, binarize: 'none', test_fraction: 0.1, shuffle: true },
      { dataDir: path.dirname(mnistDir!), baseDir: '.', seed: 0 },
    );
    assert.deepEqual(dataset.shape, [28, 28, 1]);
    assert.equal(dataset.train.count, 60000);
    assert.equal(dataset.test.count, 10000);
    assert.equal(dataset.train.images.length, 60000 * 784);
    // The first training digit of MNIST is a 5, the first test digit a 7.
    assert.equal(dataset.train.labels[0], 5);
    assert.equal(dataset.test.labels[0], 7);
    // The uncompressed training images hash to the official uncompressed file's MD5 (the .gz wrapper may differ).
    const header = Buffer.alloc(16);
    header.writeUInt32BE(2051, 0);
    header.writeUInt32BE(60000, 4);
    header.writeUInt32BE(28, 8);
    header.writeUInt32BE(28, 12);
    const md5 = createHash('md5').update(header).update(dataset.train.images).digest('hex');
    assert.equal(md5, '6bbc9ace898e44ae57da46a324031adb');
  });

  test('CIFAR-10 uses the batches present and says how many', { skip: !cifarDir && skipMessage('cifar10') }, async () => {
    const dataset = await loadCifar10(path.dirname(cifarDir!));
    assert.deepEqual(dataset.shape, [32, 32, 3]);
    assert.equal(dataset.train.count, 10000);
    assert.equal(dataset.test.count, 10000);
    assert.match(dataset.description, /1 of 5 training batches/);
    const perClass = new Array(10).fill(0);
    for (const label of dataset.train.labels) perClass[label]++;
    assert.deepEqual(perClass, new Array(10).fill(1000));
    // Channel-planar records become interleaved RGB: check one pixel against the raw file.
    const raw = readFileSync(path.join(cifarDir!, 'data_batch_1.bin'));
    const record = 17;
    const pixel = 300;
    assert.deepEqual(
      Array.from(dataset.train.images.subarray(record * 3072 + pixel * 3, record * 3072 + pixel * 3 + 3)),
      [raw[record * 3073 + 1 + pixel], raw[record * 3073 + 1 + 1024 + pixel], raw[record * 3073 + 1 + 2048 + pixel]],
    );
  });

  test('an image folder loads with labels from subfolders and a seeded split', { skip: !folderDir && skipMessage('image-folder-mnist') }, async () => {
    const dataset = await loadImageFolder(folderDir!, { size: [28, 28], channels: 1, testFraction: 0.2, seed: 3, limits });
    assert.deepEqual(dataset.classes, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    assert.equal(dataset.train.count + dataset.test.count, 500);
    assert.equal(dataset.test.count, 100);
    // At its own size the loader returns the PNG's grey values unchanged: find one test image's source.
    const again = await loadImageFolder(folderDir!, { size: [28, 28], channels: 1, testFraction: 0.2, seed: 3, limits });
    assert.deepEqual(again.test.images, dataset.test.images);
    const file = path.join(folderDir!, '3', readdirSync(path.join(folderDir!, '3')).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))[0]);
    const png = PNG.sync.read(readFileSync(file));
    const grey = new Uint8Array(784);
    for (let index = 0; index < 784; index++) grey[index] = png.data[index * 4];
    const all = [...Array(dataset.train.count).keys()].map((index) => dataset.train.images.subarray(index * 784, index * 784 + 784))
      .concat([...Array(dataset.test.count).keys()].map((index) => dataset.test.images.subarray(index * 784, index * 784 + 784)));
    assert.ok(all.some((image) => Buffer.from(image).equals(Buffer.from(grey))), 'the PNG appears unchanged in the dataset');
    const small = await loadImageFolder(folderDir!, { size: [14, 14], channels: 3, testFraction: 0.1, seed: 0, limits });
    assert.deepEqual(small.shape, [14, 14, 3]);
  });
});

describe('sprites', () => {
  test('are deterministic by seed and place the shape at its factors', async () => {
    const first = await generateSprites({ size: 32, count: 200, seed: 5, testFraction: 0.1 });
    const again = await generateSprites({ size: 32, count: 200, seed: 5, testFraction: 0.1 });
    const other = await generateSprites({ size: 32, count: 200, seed: 6, testFraction: 0.1 });
    assert.deepEqual(first.train.images, again.train.images);
    assert.notDeepEqual(first.train.images, other.train.images);
    assert.equal(first.train.count, 180);
    for (let index = 0; index < first.train.count; index++) {
      const image = first.train.images.subarray(index * 1024, index * 1024 + 1024);
      let sumX = 0;
      let sumY = 0;
      let count = 0;
      image.forEach((value, pixel) => {
        if (value) {
          sumX += (pixel % 32) + 0.5;
          sumY += Math.floor(pixel / 32) + 0.5;
          count++;
        }
      });
      assert.ok(count > 10, `sprite ${index} has ink`);
      const [shape, , , x, y] = first.factors!.train.subarray(index * 5, index * 5 + 5);
      assert.equal(first.train.labels[index], shape);
      // Squares and ellipses are symmetric about their centre; the heart's centroid is near it.
      assert.ok(Math.abs(sumX / count - x * 32) < 2.5 && Math.abs(sumY / count - y * 32) < 2.5, `sprite ${index} centred at its factors`);
    }
  });
});

describe('downloads (a local HTTP server on 127.0.0.1 serving the real files)', () => {
  let server: http.Server;
  let base = '';
  let archive: Buffer;
  let archiveMd5 = '';
  before(async () => {
    if (cifarDir) {
      const staging = temporaryDirectory();
      const inner = path.join(staging, 'cifar-10-batches-bin');
      await import('node:fs/promises').then(async (fs) => {
        await fs.mkdir(inner);
        for (const name of ['data_batch_1.bin', 'test_batch.bin', 'batches.meta.txt']) await fs.copyFile(path.join(cifarDir, name), path.join(inner, name));
      });
      await tar.c({ gzip: true, cwd: staging, file: path.join(staging, 'cifar.tar.gz') }, ['cifar-10-batches-bin']);
      archive = readFileSync(path.join(staging, 'cifar.tar.gz'));
      archiveMd5 = createHash('md5').update(archive).digest('hex');
    }
    server = http.createServer((request, response) => {
      const url = request.url ?? '';
      if (url === '/error') {
        response.writeHead(500).end('boom');
        return;
      }
      if (url === '/cifar.tar.gz') {
        response.writeHead(200, { 'content-length': archive.length }).end(archive);
        return;
      }
      const file = mnistDir ? path.join(mnistDir, path.basename(url.replace(/^\/truncated/, ''))) : '';
      if (!mnistDir || !existsSync(file)) {
        response.writeHead(404).end();
        return;
      }
      const body = readFileSync(file);
      if (url.startsWith('/truncated')) {
        response.writeHead(200, { 'content-length': body.length });
        response.write(body.subarray(0, 1000));
        setTimeout(() => response.socket?.destroy(), 20);
        return;
      }
      response.writeHead(200, { 'content-length': body.length }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  after(() => server.close());

  test('a verified download lands whole; a checksum mismatch leaves nothing', { skip: !mnistDir && skipMessage('mnist') }, async () => {
    const cache = temporaryDirectory();
    // The shared train images are re-compressed, so their .gz has another MD5 than the official one.
    await assert.rejects(ensureIdxFiles(IDX_SOURCES.mnist, cache, { baseUrl: base }), (error: Error) => {
      assert.match(error.message, /checksum mismatch/);
      assert.ok(error.message.includes(`${base}train-images-idx3-ubyte.gz`), 'names the URL');
      assert.ok(error.message.includes(path.join(cache, 'mnist', 'train-images-idx3-ubyte.gz')), 'names the cache path');
      return true;
    });
    assert.deepEqual(readdirSync(path.join(cache, 'mnist')).sort(), [], 'no partial or unverified file is left');
    const target = path.join(cache, 'mnist', 't10k-images-idx3-ubyte.gz');
    await downloadVerified(`${base}t10k-images-idx3-ubyte.gz`, target, IDX_SOURCES.mnist.files.testImages.md5);
    assert.deepEqual(readFileSync(target), readFileSync(path.join(mnistDir!, 't10k-images-idx3-ubyte.gz')));
  });

  test('a truncated body, HTTP 500 and an unreachable host are clear errors', { skip: !mnistDir && skipMessage('mnist') }, async () => {
    const cache = temporaryDirectory();
    const target = path.join(cache, 'x.gz');
    await assert.rejects(downloadVerified(`${base}truncated/t10k-labels-idx1-ubyte.gz`, target, 'x'), /broke off|received 1000 of 4542 bytes/);
    await assert.rejects(downloadVerified(`${base}error`, target, 'x'), /HTTP 500/);
    await assert.rejects(downloadVerified('http://127.0.0.1:9/none.gz', target, 'x'), (error: Error) => {
      assert.match(error.message, /could not download http:\/\/127\.0\.0\.1:9\/none\.gz into .*x\.gz/);
      return true;
    });
    assert.deepEqual(readdirSync(cache), []);
  });

  test('the CIFAR-10 archive is downloaded, verified and unpacked into the cache layout', { skip: !cifarDir && skipMessage('cifar10') }, async () => {
    const cache = temporaryDirectory();
    const dataset = await loadCifar10(cache, { url: `${base}cifar.tar.gz`, md5: archiveMd5 });
    assert.equal(dataset.train.count, 10000);
    assert.deepEqual(readdirSync(path.join(cache, 'cifar10')).sort(), ['batches.meta.txt', 'data_batch_1.bin', 'test_batch.bin']);
  });

  test('the data folder comes from --data-dir, then AEXP_DATA_DIR, then the cache', () => {
    assert.equal(resolveDataDir('/x/y'), '/x/y');
    const saved = process.env.AEXP_DATA_DIR;
    process.env.AEXP_DATA_DIR = '/from/env';
    assert.equal(resolveDataDir(), '/from/env');
    delete process.env.AEXP_DATA_DIR;
    assert.match(resolveDataDir(), /latent-lab[/\\]datasets$/);
    if (saved !== undefined) process.env.AEXP_DATA_DIR = saved;
  });
});
