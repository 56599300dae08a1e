import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseAexp } from '../../runtime/format/document';
import { OverrideError, applyOverrides } from '../../runtime/format/overrides';
import { cellConfig, loadExperiment } from '../../runtime/format/validate';

const file = path.resolve(__dirname, '..', '..', 'samples', 'quickstart.aexp');
const text = readFileSync(file, 'utf8');

test('--set changes only the named cell; every other block keeps its bytes', () => {
  const changed = applyOverrides(text, file, ['train.epochs=2', 'data.count=600', 'model.kind=beta-vae', 'model.beta=2']);
  const experiment = loadExperiment(changed, file);
  assert.deepEqual(experiment.diagnostics.filter((diagnostic) => diagnostic.severity === 'error'), []);
  assert.equal(cellConfig(experiment, 'train')!.epochs, 2);
  assert.equal(cellConfig(experiment, 'data')!.count, 600);
  assert.equal(cellConfig(experiment, 'model')!.kind, 'beta-vae');
  const before = parseAexp(text, file).blocks;
  const after = parseAexp(changed, file).blocks;
  assert.equal(after.length, before.length);
  before.forEach((block, index) => {
    const touched = block.type === 'cell' && ['train', 'data', 'model'].includes(block.kind);
    if (!touched) assert.deepEqual(after[index], { ...block, offset: after[index].offset, ...('bodyOffset' in block ? { bodyOffset: (after[index] as typeof block).bodyOffset } : {}) }, `block ${index} changed`);
  });
});

test('bad overrides say what is wrong; a bad value is a located diagnostic of the file', () => {
  assert.throws(() => applyOverrides(text, file, ['trian.epochs=2']), (error: Error) => error instanceof OverrideError && /`trian` is not a cell kind; did you mean `train`\?/.test(error.message));
  assert.throws(() => applyOverrides(text, file, ['epochs=2']), /write cell\.key=value/);
  assert.throws(() => applyOverrides(text, file, ['explore.count=2']), OverrideError);
  const typo = loadExperiment(applyOverrides(text, file, ['model.kind=vea']), file);
  assert.ok(typo.diagnostics.some((diagnostic) => diagnostic.severity === 'error' && /`vea` is not a valid `kind`/.test(diagnostic.message) && diagnostic.start.line > 1));
});
