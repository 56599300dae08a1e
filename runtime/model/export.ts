/** A trained model out of the lab: encoder and decoder as TF.js layers models. */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Autoencoder } from './build';
import { writeFileAtomic } from '../util/atomic-file';

/** Saves encoder and decoder as TF.js layers models (model.json + weights.bin) a browser can load. */
export async function exportModel(model: Autoencoder, directory: string): Promise<void> {
  for (const [name, network] of [['encoder', model.encoder], ['decoder', model.decoder]] as const) {
    const target = path.join(directory, name);
    mkdirSync(target, { recursive: true });
    await network.save(tf.io.withSaveHandler(async (artifacts) => {
      const data = artifacts.weightData;
      const buffers = data === undefined ? [] : Array.isArray(data) ? data : [data];
      writeFileAtomic(path.join(target, 'weights.bin'), buffers.map((buffer) => new Uint8Array(buffer)));
      const manifest = { modelTopology: artifacts.modelTopology, format: 'layers-model', generatedBy: `TensorFlow.js tfjs-layers (Latent Lab)`, convertedBy: null, weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }] };
      writeFileAtomic(path.join(target, 'model.json'), [Buffer.from(JSON.stringify(manifest))]);
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
  }
}
