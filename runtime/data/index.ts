/** Dataset entry point: resolves the data folder and loads what a `data` cell declares. */
import os from 'node:os';
import path from 'node:path';
import type { DataConfig } from '../format/schema';
import { CIFAR_URL, loadCifar10 } from './cifar';
import type { Dataset } from './dataset';
import { exampleSize, limitSplit } from './dataset';
import type { DownloadOptions } from './download';
import { IDX_SOURCES, loadIdxDataset } from './idx';
import { loadImageFolder } from './folder';
import { generateSprites } from './sprites';

export type { Dataset } from './dataset';

export const DATA_DIR_VARIABLE = 'AEXP_DATA_DIR';

/** `--data-dir`, then $AEXP_DATA_DIR, then the user's cache folder. */
export function resolveDataDir(explicit?: string): string {
  if (explicit) return path.resolve(explicit);
  if (process.env[DATA_DIR_VARIABLE]) return path.resolve(process.env[DATA_DIR_VARIABLE]!);
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'latent-lab', 'datasets');
}

export const DEFAULT_SPRITE_SIZE = 32;
export const DEFAULT_SPRITE_COUNT = 12000;

function sizePair(size: DataConfig['size']): [number, number] | undefined {
  if (size === undefined) return undefined;
  return typeof size === 'number' ? [size, size] : [size[0], size[1]];
}

/** The shape a data cell produces, known without loading it (for model summaries and checks). */
export function datasetShape(config: DataConfig): [number, number, number] | undefined {
  switch (config.dataset) {
    case 'mnist':
    case 'fashion-mnist':
      return [28, 28, 1];
    case 'cifar10':
      return [32, 32, 3];
    case 'sprites': {
      const [height, width] = sizePair(config.size) ?? [DEFAULT_SPRITE_SIZE, DEFAULT_SPRITE_SIZE];
      return [height, width, 1];
    }
    case 'folder': {
      const size = sizePair(config.size);
      return size ? [size[0], size[1], config.channels ?? 1] : undefined;
    }
  }
}

/** How many classes (labels) a dataset has, when that is known without loading it. */
export function datasetClassCount(config: DataConfig): number | undefined {
  switch (config.dataset) {
    case 'mnist':
    case 'fashion-mnist':
    case 'cifar10':
      return 10;
    case 'sprites':
      return 3;
    case 'folder':
      return undefined;
  }
}

export interface LoadOptions extends DownloadOptions {
  dataDir: string;
  /** Folder of the .aexp file: relative `path:` values resolve against it. */
  baseDir: string;
  seed: number;
}

export async function loadDataset(config: DataConfig, options: LoadOptions): Promise<Dataset> {
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
      dataset = generateSprites({ size, count: config.count ?? DEFAULT_SPRITE_COUNT, seed: options.seed, testFraction: config.test_fraction });
      break;
    }
    case 'folder':
      dataset = await loadImageFolder(path.resolve(options.baseDir, config.path ?? '.'), {
        size: sizePair(config.size),
        channels: config.channels,
        testFraction: config.test_fraction,
        seed: options.seed,
      });
      break;
  }
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
