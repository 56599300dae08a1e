import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { serializeAexp } from '../../runtime/format/document';
import { loadExperiment } from '../../runtime/format/validate';

const samplesDir = path.join(__dirname, '..', '..', 'samples');

/** A small deterministic generator, so a failure reproduces from its printed iteration. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FRAGMENTS = ['```', '```data\n', '```model\n', '\n---\n', ': ', '- ', '[', ']', '{', '}', '"', "'", '&a ', '*a ', '!!binary ', '\t', '\r\n', 'latent: -1\n', 'encoder: 5\n', 'kind: [vae]\n', 'epochs: 1e400\n', 'batch: null\n', 'dataset: ~\n', '\u0000', '\uFEFF', '😀', 'decoder: {a: 1}\n', '? x\n', '%YAML 1.2\n'];

function mutate(text: string, next: () => number): string {
  let result = text;
  const edits = 1 + Math.floor(next() * 6);
  for (let edit = 0; edit < edits; edit++) {
    const at = Math.floor(next() * (result.length + 1));
    const choice = next();
    if (choice < 0.2) result = result.slice(0, at);
    else if (choice < 0.45) result = result.slice(0, at) + String.fromCharCode(Math.floor(next() * 128)) + result.slice(at + 1);
    else if (choice < 0.6) result = result.slice(0, at) + result.slice(at + 1 + Math.floor(next() * 20));
    else result = result.slice(0, at) + FRAGMENTS[Math.floor(next() * FRAGMENTS.length)] + result.slice(at);
  }
  return result;
}

test('1200 mutated files: no crash, byte-exact round trip, every problem located inside the file', () => {
  const sources = readdirSync(samplesDir).filter((name) => name.endsWith('.aexp')).map((name) => readFileSync(path.join(samplesDir, name), 'utf8'));
  const next = random(20261121);
  let failures = 0;
  for (let iteration = 0; iteration < 1200; iteration++) {
    const text = mutate(sources[iteration % sources.length], next);
    let experiment;
    try {
      experiment = loadExperiment(text, 'fuzz.aexp');
    } catch (error) {
      assert.fail(`iteration ${iteration} crashed: ${(error as Error).stack}\n--- input ---\n${text}`);
    }
    assert.equal(serializeAexp(experiment.document.blocks), text, `iteration ${iteration} round trip`);
    const lines = text.split('\n');
    for (const diagnostic of experiment.diagnostics) {
      assert.ok(diagnostic.message.length > 0);
      assert.ok(diagnostic.start.line >= 1 && diagnostic.start.line <= lines.length, `iteration ${iteration}: line ${diagnostic.start.line} outside the file`);
      assert.ok(diagnostic.start.column >= 1 && diagnostic.start.column <= lines[diagnostic.start.line - 1].length + 1, `iteration ${iteration}: column outside its line`);
    }
    if (experiment.diagnostics.some((d) => d.severity === 'error')) failures++;
    else {
      // A file without errors must have its valid cells configured.
      for (const cell of experiment.cells) assert.ok(cell.config, `iteration ${iteration}: cell ${cell.kind} without config or error`);
    }
  }
  assert.ok(failures > 300, `the mutations should break most files (${failures} did)`);
});
