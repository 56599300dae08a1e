/** An experiment checked and its model built: located diagnostics instead of raw errors. */
import type { DataConfig, ModelConfig } from '../format/schema';
import type { Diagnostic } from '../format/document';
import type { Experiment } from '../format/validate';
import { cellConfig, diagnosticAtKey, formatDiagnostic, loadExperiment } from '../format/validate';
import { datasetClassCount, datasetShape } from '../data/index';
import type { Autoencoder } from '../model/build';
import { ModelError, buildAutoencoder, disposeAutoencoder, formatSummary } from '../model/build';

export class ExperimentError extends Error {
  override name = 'ExperimentError';
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.filter((diagnostic) => diagnostic.severity === 'error').map(formatDiagnostic).join('\n'));
  }
}

/** Builds the model for a validated experiment, turning shape problems into located diagnostics. */
export function buildModelFor(experiment: Experiment, data: DataConfig, model: ModelConfig, seed: number, shape?: [number, number, number], classes?: number): Autoencoder {
  const inputShape = shape ?? datasetShape(data);
  if (!inputShape) throw new ExperimentError([diagnosticAtKey(experiment, 'data', 'size', 'the data cell needs `size` so that the model\'s input shape is known')]);
  try {
    return buildAutoencoder(model, experiment.layers!, inputShape, seed, { classes: classes ?? datasetClassCount(data) });
  } catch (error) {
    if (error instanceof ModelError) throw new ExperimentError([diagnosticAtKey(experiment, 'model', error.key, error.message)]);
    throw error;
  }
}

/** Parses, validates and (with a backend ready) builds the model: what `aexp validate` reports. */
export function checkExperiment(text: string, file: string): { experiment: Experiment; summary?: string; diagnostics: Diagnostic[] } {
  const experiment = loadExperiment(text, file);
  const diagnostics = [...experiment.diagnostics];
  const data = cellConfig(experiment, 'data');
  const model = cellConfig(experiment, 'model');
  let summary: string | undefined;
  if (!diagnostics.some((d) => d.severity === 'error') && data && model && experiment.layers) {
    const shape = datasetShape(data);
    // A cvae on an image folder learns its class count only when the folder is read.
    if (shape && (model.kind !== 'cvae' || datasetClassCount(data) !== undefined)) {
      try {
        const built = buildModelFor(experiment, data, model, experiment.frontMatter.seed, shape);
        summary = formatSummary(built);
        disposeAutoencoder(built);
      } catch (error) {
        if (error instanceof ExperimentError) diagnostics.push(...error.diagnostics);
        else throw error;
      }
    }
  }
  return { experiment, summary, diagnostics };
}
