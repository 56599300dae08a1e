import assert from 'node:assert/strict';
import { test } from 'node:test';
import { settleEach } from '../../extension/settle';

test('every item gets its step though an earlier one fails, and the failure is thrown afterwards', async () => {
  const ended: string[] = [];
  await assert.rejects(settleEach(['data', 'train', 'reconstruct'], async (cell) => {
    try {
      if (cell === 'train') throw new Error('the train cell was deleted');
    } finally {
      ended.push(cell);
    }
  }), /the train cell was deleted/);
  assert.deepEqual(ended, ['data', 'train', 'reconstruct']);
});

test('several failures are thrown together; none is a quiet success', async () => {
  const failure = await settleEach([1, 2, 3], async (item) => {
    if (item !== 2) throw new Error(`step ${item}`);
  }).then(() => undefined, (error: unknown) => error);
  assert.ok(failure instanceof AggregateError);
  assert.deepEqual(failure.errors.map((error: Error) => error.message), ['step 1', 'step 3']);
  await settleEach([], async () => assert.fail('no items, no steps'));
});
