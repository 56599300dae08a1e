import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseAexp, serializeAexp } from '../../runtime/format/document';
import type { CellBlock } from '../../runtime/format/document';
import { loadExperiment } from '../../runtime/format/validate';

const samplesDir = path.join(__dirname, '..', '..', 'samples');

test('every sample parses, validates cleanly and serializes byte for byte', () => {
  const files = readdirSync(samplesDir).filter((name) => name.endsWith('.aexp'));
  assert.ok(files.length >= 2, 'samples/ holds the quickstart and the MNIST VAE');
  for (const name of files) {
    const text = readFileSync(path.join(samplesDir, name), 'utf8');
    const experiment = loadExperiment(text, name);
    assert.deepEqual(experiment.diagnostics, [], `${name} has diagnostics`);
    assert.equal(serializeAexp(experiment.document.blocks), text, `${name} round trip`);
    assert.ok(experiment.cells.some((cell) => cell.kind === 'model'));
  }
});

test('round trip keeps CRLF, missing final newline, tildes, nested fences and unclosed cells', () => {
  const inputs = [
    '---\r\ntitle: x\r\n---\r\n# A\r\n```data\r\ndataset: sprites\r\n```\r\n',
    '```model\nkind: ae\nlatent: 2\nencoder: [dense 8]\n```',
    '~~~~data\ndataset: mnist\n~~~~\ntext after\n',
    '````markdown\n```data\ndataset: mnist\n```\n````\n',
    '```data\ndataset: sprites\n',
    '',
    '---\nunterminated: front matter\n',
    '   ```train\n   epochs: 2\n   ```\n',
  ];
  for (const input of inputs) assert.equal(serializeAexp(parseAexp(input).blocks), input, JSON.stringify(input));
});

test('a fenced block inside a longer fence stays Markdown', () => {
  const document = parseAexp('````markdown\n```data\ndataset: mnist\n```\n````\n');
  assert.equal(document.blocks.filter((block) => block.type === 'cell').length, 0);
});

test('editing one cell leaves every other byte as it was', () => {
  const text = readFileSync(path.join(samplesDir, 'vae-mnist.aexp'), 'utf8');
  const document = parseAexp(text);
  const train = document.blocks.find((block): block is CellBlock => block.type === 'cell' && block.kind === 'train')!;
  const edited = document.blocks.map((block) => (block === train ? { ...train, body: train.body.replace(/epochs: \d+/, 'epochs: 3') } : block));
  const output = serializeAexp(edited);
  const before = text.slice(0, train.bodyOffset);
  assert.ok(output.startsWith(before));
  assert.ok(output.endsWith(text.slice(train.bodyOffset + train.body.length)));
  assert.match(output, /epochs: 3/);
});

function diagnosticsOf(text: string) {
  return loadExperiment(text, 'x.aexp').diagnostics;
}

test('errors name line and column inside the file and suggest the nearest key or value', () => {
  const text = [
    '# Title', //1
    '', //2
    '```data', //3
    'dataset: mnsit', //4
    'batch: 64', //5
    '```', //6
    '', //7
    '```model', //8
    'kind: vae', //9
    'latent: 2', //10
    'encoder: [dense 16 relu]', //11
    'likelyhood: bernoulli', //12
    '```', //13
    '',
  ].join('\n');
  const diagnostics = diagnosticsOf(text);
  const dataset = diagnostics.find((d) => d.message.includes('mnsit'));
  assert.ok(dataset);
  assert.deepEqual([dataset.start.line, dataset.start.column], [4, 10]);
  assert.equal(dataset.fix, 'mnist');
  const key = diagnostics.find((d) => d.message.includes('likelyhood'));
  assert.ok(key);
  assert.deepEqual([key.start.line, key.start.column, key.end.column], [12, 1, 11]);
  assert.equal(key.fix, 'likelihood');
  assert.match(key.message, /did you mean `likelihood`/);
});

test('a misspelt key whose near match is already set is not answered with "did you mean" that key', () => {
  const text = '```data\ndataset: sprites\nsize: 16\n```\n\n```model\nkind: vae\nlatnet: 4\nlatent: 8\nencoder: [dense 16 relu]\n```\n';
  const key = diagnosticsOf(text).find((d) => d.message.includes('latnet'));
  assert.ok(key);
  assert.doesNotMatch(key.message, /did you mean/);
  assert.match(key.message, /`latent` is already set/);
  // The suggestion stays attached: the editor turns it into "remove this line", never a rename.
  assert.equal(key.fix, 'latent');
});

test('a near-miss cell kind warns with a suggestion and stays Markdown', () => {
  const diagnostics = diagnosticsOf('text\n```modle\nkind: vae\n```\n');
  assert.equal(diagnostics.length, 1);
  assert.equal(diagnostics[0].severity, 'warning');
  assert.equal(diagnostics[0].fix, 'model');
  assert.deepEqual([diagnostics[0].start.line, diagnostics[0].start.column], [2, 4]);
  assert.deepEqual(diagnosticsOf('```python\nprint(1)\n```\n```json\n{}\n```\n'), []);
});

test('bad layer notation points at the token', () => {
  const text = '```data\ndataset: sprites\n```\n```model\nkind: ae\nlatent: 4\nencoder:\n  - dense 64 relu\n  - conv 8 k3 s2 rleu\n```\n';
  const [diagnostic] = diagnosticsOf(text);
  assert.match(diagnostic.message, /did you mean `relu`/);
  assert.deepEqual([diagnostic.start.line, diagnostic.start.column], [9, 18]);
});

test('YAML syntax errors, wrong types and duplicate keys are located', () => {
  const yamlError = diagnosticsOf('```data\ndataset: [mnist\n```\n');
  assert.ok(yamlError.length > 0 && yamlError.every((d) => d.start.line >= 2), JSON.stringify(yamlError));
  const duplicate = diagnosticsOf('```data\ndataset: mnist\ndataset: sprites\n```\n');
  assert.ok(duplicate.some((d) => /unique/i.test(d.message) && d.start.line === 3), JSON.stringify(duplicate));
  const wrongType = diagnosticsOf('```data\ndataset: mnist\nbatch: -3\n```\n');
  assert.ok(wrongType.some((d) => d.start.line === 3 && /batch/.test(d.message)), JSON.stringify(wrongType));
});

test('cells that need upstream cells say so; duplicates are refused', () => {
  const missing = diagnosticsOf('```train\nepochs: 1\n```\n');
  assert.match(missing[0].message, /needs a `data` cell and a `model` cell above it/);
  const twice = diagnosticsOf('```data\ndataset: mnist\n```\n```data\ndataset: sprites\n```\n');
  assert.match(twice[0].message, /second `data` cell.*line 1/);
});

test('defaults are filled from the schema', () => {
  const experiment = loadExperiment('```data\ndataset: sprites\n```\n```model\nkind: vae\nlatent: 3\nencoder: [dense 8 relu]\n```\n```train\n```\n', 'x.aexp');
  assert.deepEqual(experiment.diagnostics, []);
  const train = experiment.cells.find((cell) => cell.kind === 'train')!.config as { epochs: number; optimizer: string; lr: number };
  assert.deepEqual([train.epochs, train.optimizer, train.lr], [10, 'adam', 1e-3]);
});

test('a missing key is reported on the cell\'s opening fence, not across its whole body', () => {
  const text = '```data\ndataset: sprites\n```\n\n```model\nkind: vae\nencoder: [dense 64 relu]\n```\n';
  const problems = loadExperiment(text, 'missing.aexp').diagnostics.filter((diagnostic) => /needs `latent`/.test(diagnostic.message));
  assert.equal(problems.length, 1);
  assert.deepEqual([problems[0].start.line, problems[0].start.column, problems[0].end.line], [5, 1, 5]);
});
