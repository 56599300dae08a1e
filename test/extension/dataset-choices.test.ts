import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar';
import { datasetCacheFolder, datasetChoices } from '../../extension/datasetChoices';
import { loadCifar10 } from '../../runtime/data/cifar';
import { IDX_SOURCES, loadIdxDataset } from '../../runtime/data/idx';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'latent-lab-dataset-cache-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
// Nothing listens on port 9: a loader that tries to download fails at once, and says so.
const OFFLINE = 'http://127.0.0.1:9/';

function descriptions(dataDir: string): Record<string, string | undefined> {
  return Object.fromEntries(datasetChoices(dataDir).map((choice) => [choice.dataset, choice.description]));
}

/** Two 28×28 images and their labels, as the four gzipped IDX files of an MNIST-format dataset. */
function writeIdx(dataDir: string, name: 'mnist' | 'fashion-mnist'): void {
  const folder = path.join(dataDir, name);
  mkdirSync(folder, { recursive: true });
  const images = Buffer.alloc(16 + 2 * 28 * 28);
  images.writeUInt32BE(2051, 0);
  images.writeUInt32BE(2, 4);
  images.writeUInt32BE(28, 8);
  images.writeUInt32BE(28, 12);
  const labels = Buffer.from([0, 0, 8, 1, 0, 0, 0, 2, 3, 7]);
  const { files } = IDX_SOURCES[name];
  for (const [entry, content] of [[files.trainImages, images], [files.trainLabels, labels], [files.testImages, images], [files.testLabels, labels]] as const) {
    writeFileSync(path.join(folder, entry.file), gzipSync(content));
  }
}

/** One CIFAR-10 record: a label byte and 3 × 1024 pixels. */
const CIFAR_RECORD = Buffer.alloc(3073, 1);

test('the picker says "downloads" for each downloaded dataset missing from the cache folder', () => {
  const empty = path.join(scratch, 'empty');
  assert.deepEqual(descriptions(empty), { sprites: undefined, mnist: 'downloads 11 MB once', 'fashion-mnist': 'downloads 30 MB once', cifar10: 'downloads 163 MB once', folder: undefined });
});

test('MNIST-format datasets are "cached" exactly when the loader finds every file without downloading', async () => {
  const dataDir = path.join(scratch, 'idx');
  writeIdx(dataDir, 'mnist');
  assert.equal(descriptions(dataDir).mnist, 'cached');
  assert.equal(descriptions(dataDir)['fashion-mnist'], 'downloads 30 MB once');
  const loaded = await loadIdxDataset(IDX_SOURCES.mnist, dataDir, { baseUrl: OFFLINE });
  assert.equal(loaded.train.count, 2);
  unlinkSync(path.join(dataDir, 'mnist', IDX_SOURCES.mnist.files.testLabels.file));
  assert.equal(descriptions(dataDir).mnist, 'downloads 11 MB once');
  await assert.rejects(loadIdxDataset(IDX_SOURCES.mnist, dataDir, { baseUrl: OFFLINE }), /could not download/);
});

test('CIFAR-10 is "cached" with a training batch and the test batch, or with the archive, as the loader reads them', async () => {
  const extracted = path.join(scratch, 'cifar-extracted');
  mkdirSync(path.join(extracted, 'cifar10'), { recursive: true });
  writeFileSync(path.join(extracted, 'cifar10', 'test_batch.bin'), CIFAR_RECORD);
  assert.equal(descriptions(extracted).cifar10, 'downloads 163 MB once', 'the test batch alone is not enough');
  await assert.rejects(loadCifar10(extracted, { url: `${OFFLINE}cifar.tar.gz` }), /could not download/);
  writeFileSync(path.join(extracted, 'cifar10', 'data_batch_3.bin'), CIFAR_RECORD);
  assert.equal(descriptions(extracted).cifar10, 'cached');
  assert.equal((await loadCifar10(extracted, { url: `${OFFLINE}cifar.tar.gz` })).train.count, 1);

  // The official archive, not yet unpacked: the loader extracts it instead of downloading.
  const archived = path.join(scratch, 'cifar-archived');
  const staging = path.join(scratch, 'cifar-staging', 'cifar-10-batches-bin');
  mkdirSync(staging, { recursive: true });
  mkdirSync(archived, { recursive: true });
  writeFileSync(path.join(staging, 'data_batch_1.bin'), CIFAR_RECORD);
  writeFileSync(path.join(staging, 'test_batch.bin'), CIFAR_RECORD);
  await tar.c({ gzip: true, file: path.join(archived, 'cifar-10-binary.tar.gz'), cwd: path.dirname(staging) }, ['cifar-10-batches-bin']);
  assert.equal(descriptions(archived).cifar10, 'cached');
  assert.equal((await loadCifar10(archived, { url: `${OFFLINE}cifar.tar.gz` })).test.count, 1);
});

test('the cache folder is the one the runtime reads: a relative setting is taken from the workspace folder', () => {
  assert.equal(datasetCacheFolder('data/cache', '/work/space'), path.resolve('/work/space/data/cache'));
  assert.equal(datasetCacheFolder('/abs/cache', '/work/space'), path.resolve('/abs/cache'));
  const saved = { data: process.env.AEXP_DATA_DIR, cache: process.env.XDG_CACHE_HOME };
  try {
    delete process.env.AEXP_DATA_DIR;
    process.env.XDG_CACHE_HOME = '/home/someone/.cache';
    assert.equal(datasetCacheFolder(undefined, '/work/space'), path.join('/home/someone/.cache', 'latent-lab', 'datasets'));
  } finally {
    for (const [name, value] of [['AEXP_DATA_DIR', saved.data], ['XDG_CACHE_HOME', saved.cache]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
});
