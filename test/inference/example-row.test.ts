/**
 * The example the explorer shows on hover is the very input its scatter point encoded: for a
 * denoising model (its corruption drawn per example), an example asked alone has its row's code
 * and loss in the split's encoding, in the split it lies in (`all` is train then test).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { runExperiment } from '../../runtime/engine';
import { InThreadInference } from '../../runtime/inference/in-thread';
import { tinyExperiment } from '../helpers/experiments';
import { temporaryDirectory } from '../helpers/temp';

const directory = temporaryDirectory('aexp-example-row-');
let inference: InThreadInference;

before(async () => {
  const file = tinyExperiment(directory, { epochs: 1, count: 300, kind: 'denoising-ae' });
  const result = await runExperiment({ file, outDir: path.join(directory, 'runs') });
  assert.equal(result.status, 'completed');
  inference = new InThreadInference();
  await inference.open({ runDir: result.runDir, checkpoint: 'last' });
});

after(async () => {
  await inference.close();
});

test('a denoising model\'s hovered example has its scatter row\'s code and loss, and its corrupted input differs from its clean one', async () => {
  for (const split of ['test', 'all'] as const) {
    const encoded = await inference.encode({ split, batch: 64 });
    const latent = encoded.latent;
    for (const index of [0, 5, encoded.count - 1]) {
      const example = await inference.example({ split, index });
      assert.deepEqual(Array.from(example.mean), Array.from(encoded.means.subarray(index * latent, (index + 1) * latent)), `${split} example ${index}: its code is its row's`);
      assert.equal(example.loss, encoded.losses[index], `${split} example ${index}: its loss is its row's`);
      assert.equal(example.label, encoded.labels[index]);
      assert.ok(example.encoderInput, 'a denoising model shows what its encoder saw');
      assert.notDeepEqual(Array.from(example.encoderInput), Array.from(example.input), 'the corrupted input is not the clean one');
    }
  }
});
