/** MNIST-format (IDX) datasets: MNIST and Fashion-MNIST. */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Dataset, Split } from './dataset';
import { DatasetError, checkLabels } from './dataset';
import { downloadVerified } from './download';
import type { DownloadOptions } from './download';
import { Pacer } from './interrupt';

interface IdxSource {
  name: string;
  description: string;
  baseUrl: string;
  classes: string[];
  /** Official file name → MD5 of the published .gz. */
  files: Record<'trainImages' | 'trainLabels' | 'testImages' | 'testLabels', { file: string; md5: string }>;
}

export const IDX_SOURCES: Record<'mnist' | 'fashion-mnist', IdxSource> = {
  mnist: {
    name: 'mnist',
    description: 'MNIST handwritten digits',
    baseUrl: 'https://ossci-datasets.s3.amazonaws.com/mnist/',
    classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    files: {
      trainImages: { file: 'train-images-idx3-ubyte.gz', md5: 'f68b3c2dcbeaaa9fbdd348bbdeb94873' },
      trainLabels: { file: 'train-labels-idx1-ubyte.gz', md5: 'd53e105ee54ea40749a09fcbcd1e9432' },
      testImages: { file: 't10k-images-idx3-ubyte.gz', md5: '9fb629c4189551a2d022fa330f9573f3' },
      testLabels: { file: 't10k-labels-idx1-ubyte.gz', md5: 'ec29112dd5afa0611ce80d1b7f02629c' },
    },
  },
  'fashion-mnist': {
    name: 'fashion-mnist',
    description: 'Fashion-MNIST (Zalando)',
    baseUrl: 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
    classes: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
    files: {
      trainImages: { file: 'train-images-idx3-ubyte.gz', md5: '8d4fb7e6c68d591d4c3dfef9ec88bf0d' },
      trainLabels: { file: 'train-labels-idx1-ubyte.gz', md5: '25c81989df183df01b3e8a0aad5dffbe' },
      testImages: { file: 't10k-images-idx3-ubyte.gz', md5: 'bef4ecab320f06d8554ea6380940ec79' },
      testLabels: { file: 't10k-labels-idx1-ubyte.gz', md5: 'bb300cfdad3c16e7a12a480ee83cd310' },
    },
  },
};

/** Checks an IDX file's structure (magic number, dimensions, size) and returns its payload. */
export function parseIdx(buffer: Buffer, file: string, kind: 'images' | 'labels'): { data: Uint8Array; count: number; rows: number; columns: number } {
  const expectedMagic = kind === 'images' ? 2051 : 2049;
  const header = kind === 'images' ? 16 : 8;
  if (buffer.length < header) throw new DatasetError(`${file} is not an IDX ${kind} file: only ${buffer.length} bytes`);
  const magic = buffer.readUInt32BE(0);
  if (magic !== expectedMagic) throw new DatasetError(`${file} is not an IDX ${kind} file: magic number ${magic}, expected ${expectedMagic}`);
  const count = buffer.readUInt32BE(4);
  const rows = kind === 'images' ? buffer.readUInt32BE(8) : 1;
  const columns = kind === 'images' ? buffer.readUInt32BE(12) : 1;
  const expected = header + count * rows * columns;
  if (buffer.length !== expected) throw new DatasetError(`${file} is truncated or padded: ${buffer.length} bytes, its header promises ${expected}`);
  return { data: new Uint8Array(buffer.buffer, buffer.byteOffset + header, count * rows * columns), count, rows, columns };
}

function readGzip(file: string): Promise<Buffer> {
  return fs.readFile(file).then((compressed) => {
    try {
      // The gzip trailer names the output's size: one buffer of it, not 64 KB chunks joined at the end,
      // which held twice the images in memory (47 MB more for MNIST's train split, kept by the allocator).
      const size = compressed.length >= 18 ? compressed.readUInt32LE(compressed.length - 4) : 0;
      return gunzipSync(compressed, size >= 64 ? { chunkSize: size + 1 } : {});
    } catch (error) {
      throw new DatasetError(`${file} is not a readable gzip file (${(error as Error).message}); delete it to download it again`);
    }
  });
}

export async function ensureIdxFiles(source: IdxSource, dataDir: string, options: DownloadOptions & { baseUrl?: string } = {}): Promise<string> {
  const folder = path.join(dataDir, source.name);
  for (const { file, md5 } of Object.values(source.files)) {
    const target = path.join(folder, file);
    if (!existsSync(target)) await downloadVerified(new URL(file, options.baseUrl ?? source.baseUrl).toString(), target, md5, options);
  }
  return folder;
}

export async function loadIdxDataset(source: IdxSource, dataDir: string, options: DownloadOptions & { baseUrl?: string; signal?: AbortSignal; only?: 'train' | 'test' } = {}): Promise<Dataset> {
  const folder = await ensureIdxFiles(source, dataDir, options);
  const pacer = new Pacer(options.signal, `reading ${source.description}`);
  const read = async (key: keyof IdxSource['files'], kind: 'images' | 'labels') => {
    pacer.check();
    const file = path.join(folder, source.files[key].file);
    return parseIdx(await readGzip(file), file, kind);
  };
  const split = async (images: keyof IdxSource['files'], labels: keyof IdxSource['files']): Promise<Split & { rows: number; columns: number }> => {
    const imageData = await read(images, 'images');
    const labelData = await read(labels, 'labels');
    checkLabels(labelData.data, source.classes.length, path.join(folder, source.files[labels].file));
    if (imageData.count !== labelData.count) throw new DatasetError(`${folder}: ${imageData.count} images but ${labelData.count} labels`);
    return { images: imageData.data, labels: labelData.data, count: imageData.count, rows: imageData.rows, columns: imageData.columns };
  };
  const trainRead = options.only === 'test' ? undefined : await split('trainImages', 'trainLabels');
  const testRead = options.only === 'train' ? undefined : await split('testImages', 'testLabels');
  const { rows, columns } = (trainRead ?? testRead)!;
  const none = { images: new Uint8Array(0), labels: new Uint8Array(0), count: 0 };
  const train = trainRead ?? none;
  const test = testRead ?? none;
  return {
    name: source.name,
    shape: [rows, columns, 1],
    classes: source.classes,
    train,
    test,
    description: `${source.description}: ${train.count} train / ${test.count} test images from ${folder}`,
  };
}
