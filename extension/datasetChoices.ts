/**
 * The dataset quick pick's items: what each dataset is, and whether choosing it downloads
 * anything, judged by the runtime's own cache test on the folder the runtime will read.
 */
import path from 'node:path';
import { isCached, isDownloaded, resolveDataDir } from '../runtime/data/cache';
import type { TemplateDataset } from './templates';
import { TEMPLATE_DATASETS } from './templates';

export interface DatasetChoice {
  label: string;
  description?: string;
  detail: string;
  dataset: TemplateDataset;
}

/**
 * The folder the runtime reads datasets from. The runtime runs in the workspace folder, so a
 * relative `latentLab.datasetCacheFolder` is taken from there, not from the extension host's own folder.
 */
export function datasetCacheFolder(setting: string | undefined, workspaceFolder: string | undefined): string {
  return resolveDataDir(setting && workspaceFolder ? path.resolve(workspaceFolder, setting) : setting);
}

export function datasetChoices(dataDir: string): DatasetChoice[] {
  return TEMPLATE_DATASETS.map((entry) => {
    if (!isDownloaded(entry.dataset)) return { label: entry.label, detail: entry.detail, dataset: entry.dataset };
    const description = isCached(entry.dataset, dataDir) ? 'cached' : entry.download ? `downloads ${entry.download} once` : 'downloads once';
    return { label: entry.label, description, detail: entry.detail, dataset: entry.dataset };
  });
}
