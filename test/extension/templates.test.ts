import assert from 'node:assert/strict';
import { test } from 'node:test';
import { selectBackend } from '../../runtime/backends/select';
import { checkExperiment } from '../../runtime/engine';
import { TEMPLATE_DATASETS, TEMPLATE_KINDS, experimentTemplate, freeFileName } from '../../extension/templates';

test('every template (each model kind on each dataset) passes validation and builds its model', async () => {
  await selectBackend('cpu');
  for (const { kind } of TEMPLATE_KINDS) {
    for (const { dataset } of TEMPLATE_DATASETS) {
      const text = experimentTemplate({ kind, dataset, latent: 12, epochs: 3, folder: 'my images' });
      const { diagnostics, summary, experiment } = checkExperiment(text, `${kind}-${dataset}.aexp`);
      assert.deepEqual(diagnostics.map((diagnostic) => diagnostic.message), [], `${kind} on ${dataset}:\n${text}`);
      if (dataset !== 'folder') assert.match(summary ?? '', /parameters/, `${kind} on ${dataset} builds`);
      const kinds = experiment.cells.map((cell) => cell.kind);
      assert.deepEqual(kinds.slice(0, 3), ['data', 'model', 'train']);
      assert.equal(kinds.includes('sample'), ['vae', 'beta-vae', 'cvae'].includes(kind), `${kind}: a sample cell only for generative models`);
    }
  }
  const text = experimentTemplate({ kind: 'vae', dataset: 'folder', folder: 'my images' });
  assert.match(text, /path: "my images"/);
  assert.match(experimentTemplate({ kind: 'vae', dataset: 'mnist', latent: 7, epochs: 2 }), /latent: 7\n[\s\S]*epochs: 2\n/);
});

test('new experiment files never overwrite an existing one', () => {
  const taken = new Set(['vae-mnist.aexp', 'vae-mnist-2.aexp']);
  assert.equal(freeFileName('vae-mnist', (name) => taken.has(name)), 'vae-mnist-3.aexp');
  assert.equal(freeFileName('ae-sprites', (name) => taken.has(name)), 'ae-sprites.aexp');
});
