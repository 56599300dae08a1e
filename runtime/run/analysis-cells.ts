/**
 * The cells that look inside a trained model: interpolate, traverse and explore. Each one's
 * configuration is checked against the loaded data before training (a test index past the split
 * would otherwise be found after it), and each runs on the final model, writing its picture to
 * images/ (and explore its matrices to explore/) and showing it as the cell's output. A model that
 * cannot decode a free latent point gets its reason as the output, not a failure.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { CellKind as CellName } from '../cells';
import type { Dataset } from '../data/dataset';
import type { Diagnostic } from '../format/document';
import type { CellConfigs, DataConfig } from '../format/schema';
import type { Experiment } from '../format/validate';
import { cellConfig, diagnosticAtPath } from '../format/validate';
import type { CellPicture } from '../analysis/interpolate';
import { interpolationMode, interpolationProblems, interpolationStrips } from '../analysis/interpolate';
import { traversalGrid, traversalProblems } from '../analysis/traverse';
import { EXPLORE_FILES, explore, explorationRows, scatterPng, writeExploration } from '../analysis/explore';
import type { Autoencoder } from '../model/build';
import type { EngineEvent, ImageKind } from '../protocol';
import { runFile } from '../run-folder';
import { gridPng, writePng } from '../train/images';
import { mixSeed } from '../util/random';

export const LATENT_CELLS = ['interpolate', 'traverse', 'explore'] as const satisfies readonly CellName[];

/** What the cells ask of the data that it does not have, at the key that asks; empty when they fit. */
export function latentCellProblems(experiment: Experiment, dataset: Pick<Dataset, 'test' | 'classes'>, classes: number): Diagnostic[] {
  const findings: Diagnostic[] = [];
  const interpolate = cellConfig(experiment, 'interpolate');
  if (interpolate) {
    const mode = interpolationMode(interpolate, { classes });
    for (const problem of interpolationProblems(interpolate, mode, dataset.test.count, dataset.classes.length)) findings.push(diagnosticAtPath(experiment, 'interpolate', problem.path, problem.message));
  }
  const traverse = cellConfig(experiment, 'traverse');
  if (traverse) for (const problem of traversalProblems(traverse, dataset.test.count)) findings.push(diagnosticAtPath(experiment, 'traverse', problem.path, problem.message));
  return findings;
}

export interface LatentCellRun {
  experiment: Experiment;
  model: Autoencoder;
  dataset: Dataset;
  data: DataConfig;
  /** The run folder. */
  folder: string;
  seed: number;
  /** The epochs the model was trained for (the images' checkpoint). */
  epoch: number;
  /** The analysis cells this run was asked for and the file has. */
  wanted: readonly CellName[];
  emit: (event: EngineEvent) => void;
  signal?: AbortSignal;
}

/** Runs each of the three cells the run wants, in order. */
export async function runLatentCells(run: LatentCellRun): Promise<void> {
  const { experiment, model, dataset, data, folder, seed, emit } = run;
  const images = runFile(folder, 'images');
  const show = async (cell: CellName, kind: ImageKind, make: () => Promise<CellPicture>) => {
    emit({ type: 'cell', cell, state: 'started' });
    const picture = await make();
    if ('refusal' in picture) emit({ type: 'cellOutput', cell, text: `not drawn: ${picture.refusal}` });
    else {
      const target = path.join(images, `${kind}.png`);
      writePng(target, gridPng(picture.images, picture.columns));
      emit({ type: 'cellOutput', cell, text: picture.note });
      emit({ type: 'image', cell, kind, epoch: run.epoch, path: target, rows: picture.rows });
    }
    emit({ type: 'cell', cell, state: 'finished' });
  };
  const interpolate = cellConfig(experiment, 'interpolate') as CellConfigs['interpolate'] | undefined;
  if (run.wanted.includes('interpolate') && interpolate) await show('interpolate', 'interpolations', () => interpolationStrips(model, dataset, data, interpolate, mixSeed(seed, 611)));
  const traverse = cellConfig(experiment, 'traverse') as CellConfigs['traverse'] | undefined;
  if (run.wanted.includes('traverse') && traverse) await show('traverse', 'traversals', () => traversalGrid(model, dataset, data, traverse, mixSeed(seed, 611)));
  const exploreCell = cellConfig(experiment, 'explore') as CellConfigs['explore'] | undefined;
  if (run.wanted.includes('explore') && exploreCell) {
    emit({ type: 'cell', cell: 'explore', state: 'started' });
    const exploration = await explore(model, dataset, data, exploreCell, mixSeed(seed, 611), {
      signal: run.signal,
      onProgress: (message) => emit({ type: 'log', level: 'info', message: `explore: ${message}` }),
    });
    const target = runFile(folder, 'explore');
    mkdirSync(target, { recursive: true });
    writeExploration(target, exploration);
    const picture = path.join(images, 'projection.png');
    writePng(picture, scatterPng(exploration.projection, exploration.encoded.labels, dataset.classes.length, seed));
    const files = Object.values(EXPLORE_FILES).map((name) => path.join(path.basename(target), name)).join(', ');
    emit({ type: 'cellOutput', cell: 'explore', text: `${exploration.encoded.count} ${exploreCell.split} examples${exploration.method === 'umap' ? ` (a seeded subsample of ${exploreCell.subsample})` : ''} encoded to their ${model.latent}-d ${model.variational ? 'posterior means' : 'codes'} and projected to 2-D by ${exploration.method === 'none' ? 'nothing (the code is 2-d)' : exploration.method.toUpperCase()}; written to ${files}` });
    emit({ type: 'image', cell: 'explore', kind: 'projection', epoch: run.epoch, path: picture, rows: explorationRows(exploration, dataset.classes, exploreCell.split) });
    emit({ type: 'cell', cell: 'explore', state: 'finished' });
  }
}
