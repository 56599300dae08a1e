/** What a data cell produces, known without loading it: shapes, class counts, example counts. */
import type { DataConfig } from '../format/schema';

export const DEFAULT_SPRITE_SIZE = 32;
export const DEFAULT_SPRITE_COUNT = 12000;

/** Examples in the published datasets: both splits, as they are held in memory. */
const PUBLISHED_EXAMPLES = { mnist: 70_000, 'fashion-mnist': 70_000, cifar10: 60_000 } as const;

export function sizePair(size: DataConfig['size']): [number, number] | undefined {
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

/** How many examples (both splits) loading the data cell holds, when known without reading a folder. */
export function datasetExampleCount(config: DataConfig): number | undefined {
  switch (config.dataset) {
    case 'sprites':
      return config.count ?? DEFAULT_SPRITE_COUNT;
    case 'folder':
      return undefined;
    default:
      return PUBLISHED_EXAMPLES[config.dataset];
  }
}
