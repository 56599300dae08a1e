import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DisposableStore, toDisposable } from '../../extension/dispose';

test('a store disposes what it owns once, newest first, and what it is given after it was disposed at once', () => {
  const disposed: string[] = [];
  const store = new DisposableStore();
  store.add(toDisposable(() => disposed.push('first')));
  const second = store.add(toDisposable(() => disposed.push('second')));
  store.add(toDisposable(() => disposed.push('third')));
  store.delete(second);
  assert.deepEqual(disposed, ['second']);
  store.dispose();
  store.dispose();
  assert.deepEqual(disposed, ['second', 'third', 'first']);
  assert.equal(store.size, 0);
  store.add(toDisposable(() => disposed.push('late')));
  assert.deepEqual(disposed, ['second', 'third', 'first', 'late'], 'nothing added to a disposed store is left behind');
});

test('one item that fails to dispose does not keep the others alive', () => {
  const disposed: string[] = [];
  const store = new DisposableStore();
  store.add(toDisposable(() => disposed.push('kept going')));
  store.add(toDisposable(() => {
    throw new Error('boom');
  }));
  assert.throws(() => store.dispose(), /boom/);
  assert.deepEqual(disposed, ['kept going']);
  assert.ok(store.isDisposed);
});
