import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDocument } from 'yaml';
import { keyFix } from '../../extension/keyFix';
import type { KeyFix } from '../../extension/keyFix';
import { loadExperiment } from '../../runtime/format/validate';

/** The cell text after the fix, given the word its diagnostic covers. */
function applied(text: string, word: string, suggestion: string): { fix: KeyFix | undefined; result: string } {
  const start = text.indexOf(word);
  const fix = keyFix(text, start, start + word.length, suggestion);
  if (!fix) return { fix, result: text };
  return { fix, result: fix.kind === 'replace' ? text.slice(0, start) + fix.text + text.slice(start + word.length) : text.slice(0, fix.start) + text.slice(fix.end) };
}

test('a misspelt key whose mapping already has the suggestion is removed, never renamed into a duplicate', () => {
  const cell = 'kind: vae\nlatnet: 4\nlatent: 8\nencoder: [dense 64 relu]\n';
  // The runtime's own diagnostic, so the range is the one the editor receives.
  const experiment = loadExperiment(`# T\n\n\`\`\`data\ndataset: sprites\n\`\`\`\n\n\`\`\`model\n${cell}\`\`\`\n\n\`\`\`train\nepochs: 1\n\`\`\`\n`, 't.aexp');
  const typo = experiment.diagnostics.find((diagnostic) => /latnet/.test(diagnostic.message));
  assert.equal(typo?.fix, 'latent', 'the runtime suggests the near key');
  const { fix, result } = applied(cell, 'latnet', typo.fix);
  assert.equal(fix?.kind, 'remove');
  assert.equal(result, 'kind: vae\nlatent: 8\nencoder: [dense 64 relu]\n');
  assert.deepEqual(parseDocument(result, { uniqueKeys: true }).errors, []);
});

test('a removed entry takes its nested lines with it, and the last line of a cell goes cleanly', () => {
  assert.equal(applied('epochs: 3\nearly_stoping:\n  patience: 3\nearly_stopping:\n  patience: 2\nlr: 0.1\n', 'early_stoping', 'early_stopping').result, 'epochs: 3\nearly_stopping:\n  patience: 2\nlr: 0.1\n');
  assert.equal(applied('kind: vae\nlatent: 8\nlatnet: 4', 'latnet', 'latent').result, 'kind: vae\nlatent: 8\n');
});

test('a rename that creates no duplicate stays a rename; values are replaced as before', () => {
  assert.deepEqual(applied('kind: vae\nlatnet: 4\n', 'latnet', 'latent'), { fix: { kind: 'replace', text: 'latent' }, result: 'kind: vae\nlatent: 4\n' });
  // A key of the same name in another mapping is no duplicate.
  assert.equal(applied('early_stopping:\n  patince: 3\npatience: 1\n', 'patince', 'patience').fix?.kind, 'replace');
  assert.deepEqual(applied('likelihood: bernouli\nlatent: 3\n', 'bernouli', 'bernoulli').fix, { kind: 'replace', text: 'bernoulli' });
});

test('inside a one-line {…} mapping no fix is offered rather than a duplicate key', () => {
  assert.equal(applied('{latnet: 4, latent: 8}', 'latnet', 'latent').fix, undefined);
});
