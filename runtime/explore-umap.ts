/**
 * The Latent Explorer's UMAP layout, in a worker thread of its own: umap-js's neighbour search and
 * layout take seconds to minutes and never yield, so neither the runtime's IPC (decodes) nor a
 * training in the main thread waits for them. Seeded (umap-js's defaults otherwise), so the same
 * means give the same picture; progress after every tenth of the layout's epochs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { UMAP } from 'umap-js';
import { Random, mixSeed } from './util/random';

/**
 * The explore cell's parameters (UMAP_NEIGHBOURS and UMAP_MIN_DIST in analysis/explore.ts), not
 * imported: that module brings TF.js, which this thread has no use for.
 */
const NEIGHBOURS = 15;
const MIN_DIST = 0.1;

export interface UmapStart {
  points: Float32Array;
  count: number;
  latent: number;
  seed: number;
}

export type UmapMessage = { type: 'progress'; done: number; total: number } | { type: 'result'; embedding: Float32Array };

const { points, count, latent, seed } = workerData as UmapStart;
const vectors = Array.from({ length: count }, (_, row) => Array.from(points.subarray(row * latent, (row + 1) * latent)));
const random = new Random(mixSeed(seed, 613));
const umap = new UMAP({ nComponents: 2, nNeighbors: Math.min(NEIGHBOURS, count - 1), minDist: MIN_DIST, random: () => random.next() });
const epochs = umap.initializeFit(vectors);
const post = (message: UmapMessage) => parentPort!.postMessage(message);
for (let epoch = 0; epoch < epochs; epoch++) {
  umap.step();
  if ((epoch + 1) % Math.max(1, Math.floor(epochs / 10)) === 0) post({ type: 'progress', done: epoch + 1, total: epochs });
}
post({ type: 'result', embedding: Float32Array.from(umap.getEmbedding().flat()) });
