import assert from 'node:assert/strict';
import { test } from 'node:test';
import { completions, hover } from '../../extension/schemaHelp';

test('key completion offers what the cell kind allows and is not written yet, with documentation', () => {
  const text = 'kind: vae\nlatent: 20\n';
  const keys = completions('model', text, 2, 0).map((item) => item.label);
  assert.ok(keys.includes('encoder') && keys.includes('likelihood') && keys.includes('kl_warmup'));
  assert.ok(!keys.includes('kind') && !keys.includes('latent'), 'keys already written are not offered again');
  assert.ok(!keys.includes('sparsity') && !keys.includes('mask_ratio'), 'keys of other model kinds are left out');
  assert.ok(completions('model', 'kind: sparse-ae\n', 1, 0).some((item) => item.label === 'sparsity'));
  const lr = completions('train', 'epochs: 3\nl', 1, 1).find((item) => item.label === 'lr');
  assert.equal(lr?.insertText, 'lr: ');
  assert.match(lr?.documentation ?? '', /\*\*lr\*\* \(train cell\)/);
  assert.deepEqual(completions('train', 'epochs: 3 # x', 0, 12), [], 'nothing inside a comment');
});

test('value completion offers enums, booleans and list items; the default comes first', () => {
  const datasets = completions('data', 'dataset: ', 0, 9);
  assert.deepEqual(datasets.map((item) => item.label).sort(), ['cifar10', 'fashion-mnist', 'folder', 'mnist', 'sprites']);
  assert.ok(datasets.every((item) => item.role === 'value'));
  const optimizers = completions('train', 'optimizer: ad', 0, 13);
  assert.ok(optimizers.find((item) => item.label === 'adam')?.preferred, 'adam is the default');
  assert.ok(completions('train', 'validate: ', 0, 10).some((item) => item.label === 'false'));
  assert.ok(completions('evaluate', 'metrics: [loss, ', 0, 16).some((item) => item.label === 'psnr'));
});

test('nested keys complete inside their parent mapping', () => {
  const nested = completions('train', 'epochs: 3\nearly_stopping:\n  ', 2, 2).map((item) => item.label);
  assert.ok(nested.includes('patience'), `nested keys: ${nested}`);
  assert.ok(!nested.includes('epochs'));
});

test('hover documents the key under the cursor and the key of the value under it', () => {
  const onKey = hover('model', 'kind: vae\nlatent: 20\n', 1, 2);
  assert.ok(onKey);
  assert.match(onKey.markdown, /\*\*latent\*\* \(model cell\): integer/);
  assert.deepEqual([onKey.start, onKey.end], [0, 6]);
  assert.match(hover('model', 'kind: beta-vae\nbeta: 4\n', 1, 6)!.markdown, /only for kind beta-vae/);
  assert.match(hover('front-matter', 'seed: 3', 0, 1)!.markdown, /same file gives the same run/);
  assert.equal(hover('model', 'kind: vae\n\n', 1, 0), undefined);
  assert.equal(hover('model', 'nonsense: 1', 0, 2), undefined);
});
