/** CIFAR-10, binary version: records of one label byte and 3 × 1024 channel-planar pixels. */
import { createReadStream, existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import * as tar from 'tar';
import { CIFAR_ARCHIVE, CIFAR_FOLDER, CIFAR_TEST_FILE, CIFAR_TRAIN_FILES } from './cache';
import type { Dataset, Split } from './dataset';
import { DatasetError } from './dataset';
import { downloadVerified } from './download';
import type { DownloadOptions } from './download';

export const CIFAR_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz';
export const CIFAR_MD5 = 'c32a1d4ab5d03f1284b67883e8d87530';
const RECORD = 3073;
const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

/** Unpacks the official archive's `cifar-10-batches-bin/*` into `folder`, each file atomically. */
export async function extractCifarArchive(archive: string, folder: string): Promise<void> {
  const staging = `${folder}.extract-${process.pid}`;
  await fs.rm(staging, { recursive: true, force: true });
  await fs.mkdir(staging, { recursive: true });
  try {
    await new Promise<void>((resolve, reject) => {
      createReadStream(archive)
        .on('error', reject)
        .pipe(tar.x({ cwd: staging, strip: 1, filter: (entry) => /(\.bin|\.txt)$/.test(entry) }))
        .on('error', reject)
        .on('finish', () => resolve());
    });
    await fs.mkdir(folder, { recursive: true });
    for (const name of await fs.readdir(staging)) await fs.rename(path.join(staging, name), path.join(folder, name));
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
}

async function readBatch(file: string): Promise<Split> {
  const buffer = await fs.readFile(file);
  if (buffer.length === 0 || buffer.length % RECORD !== 0) {
    throw new DatasetError(`${file} is not a CIFAR-10 binary batch: ${buffer.length} bytes is not a multiple of ${RECORD}`);
  }
  const count = buffer.length / RECORD;
  const images = new Uint8Array(count * 3072);
  const labels = new Uint8Array(count);
  for (let record = 0; record < count; record++) {
    const base = record * RECORD;
    const label = buffer[base];
    if (label > 9) throw new DatasetError(`${file}: record ${record} has label ${label}; CIFAR-10 labels are 0–9`);
    labels[record] = label;
    const out = record * 3072;
    for (let pixel = 0; pixel < 1024; pixel++) {
      images[out + pixel * 3] = buffer[base + 1 + pixel];
      images[out + pixel * 3 + 1] = buffer[base + 1 + 1024 + pixel];
      images[out + pixel * 3 + 2] = buffer[base + 1 + 2048 + pixel];
    }
  }
  return { images, labels, count };
}

function concat(splits: Split[]): Split {
  const count = splits.reduce((sum, split) => sum + split.count, 0);
  const images = new Uint8Array(count * 3072);
  const labels = new Uint8Array(count);
  let at = 0;
  for (const split of splits) {
    images.set(split.images, at * 3072);
    labels.set(split.labels, at);
    at += split.count;
  }
  return { images, labels, count };
}

export async function loadCifar10(dataDir: string, options: DownloadOptions & { url?: string; md5?: string; only?: 'train' | 'test' } = {}): Promise<Dataset> {
  const folder = path.join(dataDir, CIFAR_FOLDER);
  let present = CIFAR_TRAIN_FILES.filter((file) => existsSync(path.join(folder, file)));
  if (present.length === 0 || !existsSync(path.join(folder, CIFAR_TEST_FILE))) {
    const archive = path.join(dataDir, CIFAR_ARCHIVE);
    if (!existsSync(archive)) await downloadVerified(options.url ?? CIFAR_URL, archive, options.md5 ?? CIFAR_MD5, options);
    await extractCifarArchive(archive, folder);
    present = CIFAR_TRAIN_FILES.filter((file) => existsSync(path.join(folder, file)));
    if (present.length === 0 || !existsSync(path.join(folder, CIFAR_TEST_FILE))) throw new DatasetError(`${archive} did not contain the CIFAR-10 batches`);
  }
  const none = { images: new Uint8Array(0), labels: new Uint8Array(0), count: 0 };
  const train = options.only === 'test' ? none : concat(await Promise.all(present.map((file) => readBatch(path.join(folder, file)))));
  const test = options.only === 'train' ? none : await readBatch(path.join(folder, CIFAR_TEST_FILE));
  return {
    name: 'cifar10',
    shape: [32, 32, 3],
    classes: CLASSES,
    train,
    test,
    description: `CIFAR-10: ${present.length} of 5 training batches (${train.count} images), ${test.count} test images from ${folder}`,
  };
}
