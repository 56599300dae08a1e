/** Dataset entry point: resolves the data folder and loads what a `data` cell declares. */
import path from 'node:path';
import type { DataConfig } from '../format/schema';
import { CIFAR_URL, loadCifar10 } from './cifar';
import type { Dataset } from './dataset';
import { exampleSize, limitSplit } from './dataset';
import type { DownloadOptions } from './download';
import { IDX_SOURCES, loadIdxDataset } from './idx';
import { loadImageFolder } from './folder';
import { generateSprites } from './sprites';
import { DEFAULT_SPRITE_COUNT, DEFAULT_SPRITE_SIZE, sizePair } from './shapes';
import { Pacer } from './interrupt';
import { largestByteArray, processMemoryBytes } from '../resources';

export { DEFAULT_SPRITE_COUNT, DEFAULT_SPRITE_SIZE, datasetClassCount, datasetExampleCount, datasetShape } from './shapes';

export type { Dataset } from './dataset';
export { DataInterruptedError } from './interrupt';

export { DATA_DIR_VARIABLE, resolveDataDir } from './cache';

export interface LoadOptions extends DownloadOptions {
  dataDir: string;
  /** Folder of the .aexp file: relative `path:` values resolve against it. */
  baseDir: string;
  seed: number;
  /** Stops generating or decoding (Ctrl-C): the loader rejects with a DataInterruptedError. */
  signal?: AbortSignal;
  /** The memory this process may use, in bytes (tests pin it); defaults to the machine's or its cgroup's. */
  availableBytes?: number;
  /** Read this split only, where the format keeps splits in files of their own (IDX, CIFAR-10): the other is empty. */
  only?: 'train' | 'test';
}

export async function loadDataset(config: DataConfig, options: LoadOptions): Promise<Dataset> {
  // The data cell's own seed, when it names one, splits and generates the data: a sweep's runs differ in the model's seed only.
  const seed = config.seed ?? options.seed;
  const pacer = new Pacer(options.signal, `loading ${config.dataset}`);
  let dataset: Dataset;
  switch (config.dataset) {
    case 'mnist':
    case 'fashion-mnist':
      dataset = await loadIdxDataset(IDX_SOURCES[config.dataset], options.dataDir, options);
      break;
    case 'cifar10':
      dataset = await loadCifar10(options.dataDir, options);
      break;
    case 'sprites': {
      const [size, width] = sizePair(config.size) ?? [DEFAULT_SPRITE_SIZE, DEFAULT_SPRITE_SIZE];
      if (size !== width) throw new Error('sprites are square: give `size` as one number');
      dataset = await generateSprites({ size, count: config.count ?? DEFAULT_SPRITE_COUNT, testFraction: config.test_fraction, mode: config.factors, signal: options.signal, seed });
      break;
    }
    case 'folder':
      dataset = await loadImageFolder(path.resolve(options.baseDir, config.path ?? '.'), {
        size: sizePair(config.size),
        channels: config.channels,
        testFraction: config.test_fraction,
        seed,
        signal: options.signal,
        limits: { availableBytes: options.availableBytes ?? processMemoryBytes(), largestByteArray: largestByteArray() },
      });
      break;
  }
  pacer.check();
  const size = exampleSize(dataset);
  const train = limitSplit(dataset.train, size, config.train_limit);
  const test = limitSplit(dataset.test, size, config.test_limit);
  if (train !== dataset.train || test !== dataset.test) {
    dataset = { ...dataset, train, test, description: `${dataset.description}; using ${train.count} train / ${test.count} test` };
  }
  return dataset;
}

export const DATASET_CATALOG = [
  { name: 'sprites', source: 'generated procedurally (no download)', files: [] as string[] },
  { name: 'mnist', source: IDX_SOURCES.mnist.baseUrl, files: Object.values(IDX_SOURCES.mnist.files).map((entry) => entry.file) },
  { name: 'fashion-mnist', source: IDX_SOURCES['fashion-mnist'].baseUrl, files: Object.values(IDX_SOURCES['fashion-mnist'].files).map((entry) => entry.file) },
  { name: 'cifar10', source: CIFAR_URL, files: ['data_batch_1.bin … data_batch_5.bin', 'test_batch.bin'] },
  { name: 'folder', source: 'a local folder of PNG/JPEG images, <folder>/<label>/<image>', files: [] as string[] },
];
