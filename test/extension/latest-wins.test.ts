import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LatestWins } from '../../extension/latest-wins';

/** A send whose answers the test releases one at a time. */
function controlledSend() {
  const sent: number[] = [];
  const answers: (() => void)[] = [];
  const send = (item: number) => {
    sent.push(item);
    return new Promise<void>((resolve, reject) => answers.push(item < 0 ? () => reject(new Error('refused')) : resolve));
  };
  const answer = async () => {
    answers.shift()!();
    // The survivor goes once the answer's promise chain has run.
    for (let turn = 0; turn < 5; turn++) await Promise.resolve();
  };
  return { sent, send, answer };
}

test('one in flight; of those that arrive meanwhile only the newest is sent, after the answer', async () => {
  const { sent, send, answer } = controlledSend();
  const queue = new LatestWins(send);
  for (let item = 1; item <= 5; item++) queue.push(item);
  assert.deepEqual(sent, [1], 'the first goes at once, the rest wait');
  await answer();
  assert.deepEqual(sent, [1, 5], 'only the newest waiting one follows');
  await answer();
  assert.equal(queue.idle, true);
  queue.push(6);
  assert.deepEqual(sent, [1, 5, 6], 'an idle queue sends at once');
});

test('a failed send lets the next one go', async () => {
  const { sent, send, answer } = controlledSend();
  const queue = new LatestWins(send);
  queue.push(-1);
  queue.push(2);
  await answer();
  assert.deepEqual(sent, [-1, 2]);
});
