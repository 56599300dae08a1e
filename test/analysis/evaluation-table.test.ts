/** The evaluate cell's table says each number's unit: nats only where they are nats. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluationTable } from '../../runtime/analysis/evaluate';

const EVALUATION = { loss: 92.321, reconstruction: 71.237, kl: 21.084, elbo: -92.321, mse: 0.01234, psnr: 19.1 };

test('in loss units the loss, reconstruction and ELBO carry no unit, the KL is still nats, and the heading says why', () => {
  const table = evaluationTable(EVALUATION, ['loss', 'reconstruction', 'kl', 'elbo', 'mse', 'psnr'], 'loss', 10_000);
  const lines = table.split('\n');
  assert.equal(lines[0], 'test split, 10000 examples, per example (the loss is not a log-likelihood here: no nats):');
  assert.match(table, /^loss +92\.321$/m);
  assert.match(table, /^reconstruction +71\.237$/m);
  assert.match(table, /^kl +21\.084 nats$/m);
  assert.match(table, /^elbo +-92\.321$/m);
  assert.match(table, /^mse +0\.01234$/m);
  assert.match(table, /^psnr +19\.100 dB$/m);
  assert.doesNotMatch(table, /\d loss$/m, 'no "92.32 loss"');
});

test('in nats every term is in nats', () => {
  const table = evaluationTable(EVALUATION, ['loss', 'kl', 'elbo'], 'nats', 100);
  assert.equal(table.split('\n')[0], 'test split, 100 examples, per example:');
  for (const metric of ['loss', 'kl', 'elbo']) assert.match(table, new RegExp(`^${metric} +-?[0-9.]+ nats$`, 'm'));
});
