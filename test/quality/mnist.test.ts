import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { selectBackend } from '../../runtime/backends/select';
import { loadDataset } from '../../runtime/data/index';
import { evaluateSplit, runExperiment } from '../../runtime/engine';
import type { DataConfig } from '../../runtime/format/schema';
import { withDefaults } from '../../runtime/format/validate';
import { parseLayer } from '../../runtime/format/layers';
import type { LayerSpec } from '../../runtime/format/layers';
import { buildAutoencoder, disposeAutoencoder } from '../../runtime/model/build';
import { sharedData, skipMessage } from '../helpers/shared';
import { temporaryDirectory } from '../helpers/temp';

const mnist = sharedData('mnist');

/**
 * The threshold: the loss of the best predictor that ignores its input — every pixel Bernoulli
 * with the training set's mean intensity at that pixel. A model below it reconstructs from the
 * code; we ask for 15% below it after 157 steps (PyTorch's example is ~55% below after one
 * full epoch), and check that an untrained model is above it.
 */
function meanImageLoss(train: { images: Uint8Array; count: number }, test: { images: Uint8Array; count: number }, size: number): number {
  const mean = new Float64Array(size);
  for (let index = 0; index < train.count * size; index++) mean[index % size] += train.images[index] / 255;
  for (let pixel = 0; pixel < size; pixel++) mean[pixel] = Math.min(1 - 1e-7, Math.max(1e-7, mean[pixel] / train.count));
  let total = 0;
  for (let index = 0; index < test.count * size; index++) {
    const x = test.images[index] / 255;
    const p = mean[index % size];
    total -= x * Math.log(p) + (1 - x) * Math.log(1 - p);
  }
  return total / test.count;
}

test('the PyTorch-example VAE beats the input-blind baseline on real MNIST after a short epoch', { skip: !mnist && skipMessage('mnist') }, async () => {
  const directory = temporaryDirectory();
  const text = `---\nseed: 7\n---\n\`\`\`data\ndataset: mnist\nbatch: 128\ntrain_limit: 20000\ntest_limit: 2000\n\`\`\`\n\`\`\`model\nkind: vae\nlatent: 20\nencoder: [dense 400 relu]\ninit: pytorch\n\`\`\`\n\`\`\`train\nepochs: 1\nlr: 1e-3\n\`\`\`\n`;
  const dataConfig: DataConfig = { dataset: 'mnist', batch: 128, binarize: 'none', test_fraction: 0.1, shuffle: true, train_limit: 20000, test_limit: 2000 };
  const dataDir = path.dirname(mnist!);
  await selectBackend('wasm');
  const dataset = await loadDataset(dataConfig, { dataDir, baseDir: '.', seed: 7 });
  const baseline = meanImageLoss(dataset.train, dataset.test, 784);
  assert.ok(baseline > 150 && baseline < 250, `mean-image baseline ${baseline}`);

  const untrained = buildAutoencoder(withDefaults('model', { kind: 'vae', latent: 20, encoder: ['dense 400 relu'], init: 'pytorch' }), { encoder: [parseLayer('dense 400 relu') as LayerSpec], decoder: 'mirror' }, [28, 28, 1], 7);
  const before = (await evaluateSplit(untrained, dataset, dataConfig, 7)).loss;
  disposeAutoencoder(untrained);
  assert.ok(before > baseline, `untrained ${before} must not pass the baseline ${baseline}`);

  const result = await runExperiment({ file: path.join(directory, 'mnist.aexp'), text, dataDir, outDir: path.join(directory, 'runs') });
  const after = result.summary.test!.loss;
  assert.ok(after < 0.85 * baseline, `test loss ${after.toFixed(2)} after one epoch on 20k images; threshold ${(0.85 * baseline).toFixed(2)} (baseline ${baseline.toFixed(2)}, untrained ${before.toFixed(2)})`);
  assert.equal(result.summary.units, 'loss', 'grey-level MNIST: the BCE sum is a loss, not nats');
  process.stdout.write(`# MNIST: baseline ${baseline.toFixed(2)}, untrained ${before.toFixed(2)}, after 1 epoch on 20k ${after.toFixed(2)} (${Math.round(result.summary.samplesPerSecond!)} examples/s)\n`);
});
