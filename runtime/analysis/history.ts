/**
 * The train cell's history grid: the same fixed test inputs, reconstructed after each epoch, so a
 * person sees the model learn. It is cut from the per-epoch grids the run folder already holds
 * (`epoch-NNN-reconstructions.png`), so it survives a resume without keeping pixels anywhere else.
 */
import { existsSync, readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { historyImageFile, imageFile, reconstructionRows } from '../run-folder';
import { writeFileAtomic } from '../util/atomic-file';

/** The epoch grids' layout (train/images.ts rowsPng): blocks of 8 columns, a 2-pixel gutter. */
const COLUMNS = 8;
const GUTTER = 2;
/** Besides the first epoch, how many of the newest the history shows. */
export const HISTORY_EPOCHS = 12;

/** The epochs the history shows once `newest` epochs are done: the first and the last HISTORY_EPOCHS. */
export function historyEpochs(newest: number): number[] {
  const epochs: number[] = [];
  for (let epoch = Math.max(1, newest - HISTORY_EPOCHS + 1); epoch <= newest; epoch++) epochs.push(epoch);
  if (epochs[0] !== 1 && newest >= 1) epochs.unshift(1);
  return epochs;
}

/** The history grid's rows, top to bottom. */
export function historyRows(modelKind: string, epochs: number[]): string[] {
  return [...reconstructionRows(modelKind).slice(0, -1), ...epochs.map((epoch) => `reconstructions after epoch ${epoch}`)];
}

/**
 * Writes `images/history-reconstructions.png` from the epoch grids up to `newest` (each grid of
 * `examples` test images): the input rows of the newest grid, then the first block's
 * reconstruction row of each epoch shown, newest last. Returns the file and its rows' labels, or
 * undefined when the newest epoch's grid is missing.
 */
export function writeHistoryPng(runDir: string, modelKind: string, newest: number, examples: number): { path: string; rows: string[] } | undefined {
  const perBlock = reconstructionRows(modelKind).length;
  const gridRows = Math.ceil(examples / COLUMNS) * perBlock;
  const read = (epoch: number): PNG | undefined => {
    const file = imageFile(runDir, 'reconstructions', epoch);
    return existsSync(file) ? PNG.sync.read(readFileSync(file)) : undefined;
  };
  const latest = read(newest);
  if (!latest) return undefined;
  const stride = (latest.height - GUTTER) / gridRows;
  const rowBytes = latest.width * 4;
  const strip = (png: PNG, row: number) => png.data.subarray(row * stride * rowBytes, (row + 1) * stride * rowBytes);
  const strips: Buffer[] = [];
  for (let row = 0; row < perBlock - 1; row++) strips.push(strip(latest, row));
  const shown: number[] = [];
  for (const epoch of historyEpochs(newest)) {
    const png = epoch === newest ? latest : read(epoch);
    if (!png || png.width !== latest.width || png.height !== latest.height) continue;
    strips.push(strip(png, perBlock - 1));
    shown.push(epoch);
  }
  strips.push(latest.data.subarray(latest.data.length - GUTTER * rowBytes));
  const history = new PNG({ width: latest.width, height: (strips.length - 1) * stride + GUTTER });
  Buffer.concat(strips).copy(history.data);
  const file = historyImageFile(runDir);
  writeFileAtomic(file, [PNG.sync.write(history)]);
  return { path: file, rows: historyRows(modelKind, shown) };
}
