import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { cellAtLine, cellsToText, guessCellKind, newLayout, textToCells, withKind } from '../../extension/cells';

const samplesDir = path.join(__dirname, '..', '..', 'samples');
const samples = readdirSync(samplesDir).filter((name) => name.endsWith('.aexp')).map((name) => readFileSync(path.join(samplesDir, name), 'utf8'));

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

test('every sample opens as cells and saves back byte for byte', () => {
  for (const text of samples) {
    const cells = textToCells(text);
    assert.ok(cells.some((cell) => cell.type === 'code' && cell.layout.kind === 'model'));
    assert.ok(cells.every((cell) => cell.text === '' || cell.text.trim() === cell.text || cell.type === 'code'), 'markdown cells show no surrounding blank lines');
    assert.equal(cellsToText(cells), text);
  }
});

test('mutated files (CRLF, unclosed fences, no final newline, odd bytes) round-trip byte for byte', () => {
  const fragments = ['```', '```data\n', '```model\n', '\n---\n', '---\n', '\r\n', '\n\n\n', 'latent: 8', '```python\nx = 1\n```\n', '\uFEFF', '😀', '  \t\n'];
  const next = random(7);
  for (let round = 0; round < 800; round++) {
    let text = samples[round % samples.length];
    for (let edit = 0; edit < 1 + Math.floor(next() * 4); edit++) {
      const at = Math.floor(next() * (text.length + 1));
      const cut = next() < 0.3 ? Math.floor(next() * 20) : 0;
      text = text.slice(0, at) + fragments[Math.floor(next() * fragments.length)] + text.slice(at + cut);
    }
    if (next() < 0.2) text = text.replace(/\n/g, '\r\n');
    if (next() < 0.2) text = text.replace(/\s+$/, '');
    assert.equal(cellsToText(textToCells(text)), text, `round ${round}`);
  }
});

test('editing one cell changes only that cell in the file', () => {
  const text = samples.find((sample) => sample.includes('```train'))!;
  const cells = textToCells(text);
  const train = cells.find((cell) => cell.layout.kind === 'train')!;
  const original = train.text;
  train.text = `${original}\nlr: 0.01`;
  const saved = cellsToText(cells);
  assert.equal(saved, text.replace(original, `${original}\nlr: 0.01`));
  // The person deleting the body's last newline must not glue the closing fence to the YAML.
  train.text = 'epochs: 2';
  train.layout.after = train.layout.after.replace(/^\n/, '');
  assert.match(cellsToText(cells), /```train\nepochs: 2\n```\n/);
});

test('new cells get fences from their keys; changing the kind changes only the fence', () => {
  assert.equal(guessCellKind('epochs: 3\nlr: 0.001'), 'train');
  assert.equal(guessCellKind('dataset: mnist\nbatch: 64'), 'data');
  assert.equal(guessCellKind('kind: vae\nlatent: 2'), 'model');
  const text = cellsToText([
    { type: 'markdown', text: '# New' },
    { type: 'code', text: 'dataset: sprites' },
    { type: 'code', text: 'count: 8', layout: newLayout('code', 'count: 8', 'sample') },
  ]);
  assert.equal(text, '# New\n\n```data\ndataset: sprites\n```\n\n```sample\ncount: 8\n```\n\n');
  const cells = textToCells(text);
  const sample = cells.find((cell) => cell.layout.kind === 'sample')!;
  sample.layout = withKind(sample.layout, 'reconstruct');
  assert.equal(cellsToText(cells), text.replace('```sample', '```reconstruct'));
});

test('cellAtLine finds the cell that holds a line of the file, fences and blank lines included', () => {
  const text = '---\ntitle: T\n---\n\n# Heading\n\n```data\ndataset: sprites\n```\n\n```model\nkind: vae\nlatnet: 4\n```\n';
  const cells = textToCells(text);
  const lines = text.split('\n');
  const kinds = cells.map((cell) => cell.layout.kind ?? cell.type);
  const at = (line: number) => { const index = cellAtLine(cells, line); return index === undefined ? undefined : kinds[index]; };
  assert.equal(at(lines.indexOf('latnet: 4') + 1), 'model', 'the typo\'s line is the model cell\'s');
  assert.equal(at(lines.indexOf('dataset: sprites') + 1), 'data');
  assert.equal(at(lines.indexOf('```model') + 1), 'model', 'a fence belongs to its cell');
  assert.equal(at(2), 'frontMatter');
  assert.equal(at(lines.length + 5), undefined, 'past the end: no cell');
  assert.equal(at(0), undefined);
});
