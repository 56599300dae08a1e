/**
 * The dataset cache: the folder downloaded datasets live in, and which of them are there already.
 * It imports no loader, so the extension can tell a person what a choice would download.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { IDX_SOURCES } from './idx';

export const DATA_DIR_VARIABLE = 'AEXP_DATA_DIR';

/** `--data-dir`, then $AEXP_DATA_DIR, then the user's cache folder. */
export function resolveDataDir(explicit?: string): string {
  if (explicit) return path.resolve(explicit);
  if (process.env[DATA_DIR_VARIABLE]) return path.resolve(process.env[DATA_DIR_VARIABLE]!);
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'latent-lab', 'datasets');
}

export const CIFAR_FOLDER = 'cifar10';
export const CIFAR_TRAIN_FILES = [1, 2, 3, 4, 5].map((index) => `data_batch_${index}.bin`);
export const CIFAR_TEST_FILE = 'test_batch.bin';
/** The official archive, kept beside the extracted batches. */
export const CIFAR_ARCHIVE = 'cifar-10-binary.tar.gz';

/** The datasets a first run downloads; the others are generated or read from the person's folder. */
export const DOWNLOADED_DATASETS = ['mnist', 'fashion-mnist', 'cifar10'] as const;
export type DownloadedDataset = (typeof DOWNLOADED_DATASETS)[number];

export function isDownloaded(dataset: string): dataset is DownloadedDataset {
  return (DOWNLOADED_DATASETS as readonly string[]).includes(dataset);
}

/** Whether loading `dataset` from `dataDir` downloads nothing: the loaders' own test, file by file. */
export function isCached(dataset: DownloadedDataset, dataDir: string): boolean {
  if (dataset === 'cifar10') {
    const folder = path.join(dataDir, CIFAR_FOLDER);
    const extracted = CIFAR_TRAIN_FILES.some((file) => existsSync(path.join(folder, file))) && existsSync(path.join(folder, CIFAR_TEST_FILE));
    return extracted || existsSync(path.join(dataDir, CIFAR_ARCHIVE));
  }
  const source = IDX_SOURCES[dataset];
  return Object.values(source.files).every(({ file }) => existsSync(path.join(dataDir, source.name, file)));
}
