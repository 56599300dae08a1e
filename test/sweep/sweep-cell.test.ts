/**
 * The sweep cell in a file: problems located at the key that is wrong (in `aexp validate` and the
 * editor's diagnostics alike), the run count shown by validate, a run's text (its overrides, its
 * model seed, the data split's seed kept), and a file with a sweep cell still running as it is.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { completions, hover } from '../../extension/schemaHelp';
import { loadDataset } from '../../runtime/data/index';
import { cellConfig, loadExperiment } from '../../runtime/format/validate';
import { readRunConfig } from '../../runtime/run-folder';
import { readSweep, sweepDiagnostics } from '../../runtime/sweep/sweep-cell';
import { sweepRunText } from '../../runtime/sweep/sweep-run';
import { temporaryDirectory } from '../helpers/temp';

const root = path.resolve(__dirname, '..', '..');
const aexp = path.join(root, 'bin', 'aexp.js');
const folder = temporaryDirectory('sweep-cell-');

const HEAD = `---
title: t
seed: 5
---
\`\`\`data
dataset: sprites
size: 16
count: 400
\`\`\`

\`\`\`model
kind: vae
latent: 4
encoder: [dense 32 relu]
\`\`\`

\`\`\`train
epochs: 1
\`\`\`

`;

function withSweep(sweep: string): string {
  return `${HEAD}\`\`\`sweep\n${sweep}\`\`\`\n`;
}

/** The 1-based line of the first line of `text` that contains `needle`, and the column where it starts. */
function where(text: string, needle: string): { line: number; column: number } {
  const lines = text.split('\n');
  const line = lines.findIndex((candidate) => candidate.includes(needle));
  return { line: line + 1, column: lines[line].indexOf(needle) + 1 };
}

test('a bad key of a sweep is located at its line and column, in the editor\'s diagnostics and in aexp validate', () => {
  const cases: [string, string, RegExp][] = [
    ['grid:\n  model.latent: [2, 4]\n  trian.lr: [0.1]\n', 'trian.lr', /`trian` in `trian.lr` is not a cell kind; did you mean `train`\?/],
    ['random:\n  count: 2\n  params:\n    train.lr: {loguniform: [0, 1]}\n', 'train.lr', /loguniform \[0, 1\]: both ends must be above 0/],
    ['seeds: [1, 2, 2]\n', 'seeds', /seed 2 is listed twice/],
    ['grid:\n  model.latent: [2]\nrandom:\n  count: 2\n  params:\n    model.latent: {int: [2, 8]}\n', 'model.latent: {int', /`model.latent` is in the grid too/],
    ['grid:\n  sweep.metric: [a]\n', 'sweep.metric', /a sweep cannot sweep its own cell/],
  ];
  for (const [number, [sweep, needle, message]] of cases.entries()) {
    const text = withSweep(sweep);
    const expected = where(text, needle);
    const file = path.join(folder, 'bad.aexp');
    const diagnostics = loadExperiment(text, file).diagnostics.filter((diagnostic) => diagnostic.severity === 'error');
    assert.equal(diagnostics.length, 1, JSON.stringify(diagnostics));
    assert.match(diagnostics[0].message, message);
    assert.deepEqual(diagnostics[0].start, expected, `${sweep}: ${diagnostics[0].message}`);
    // The CLI prints the same diagnostic (once is enough: each start loads TF.js).
    if (number > 0) continue;
    writeFileSync(file, text);
    const result = spawnSync(process.execPath, [aexp, 'validate', file], { encoding: 'utf8' });
    assert.equal(result.status, 1);
    assert.ok(result.stderr.includes(`${file}:${expected.line}:${expected.column}: error:`), result.stderr);
  }
});

test('the schema checks the sweep cell\'s own keys, and a second sweep cell is refused', () => {
  const misspelt = loadExperiment(withSweep('grids:\n  model.latent: [2]\n'), 'x.aexp').diagnostics;
  assert.ok(misspelt.some((diagnostic) => diagnostic.severity === 'error' && /grids/.test(diagnostic.message) && diagnostic.start.line === where(withSweep('grids:'), 'grids').line), JSON.stringify(misspelt));
  const twice = loadExperiment(`${withSweep('seeds: 2\n')}\n\`\`\`sweep\nseeds: 3\n\`\`\`\n`, 'x.aexp').diagnostics;
  assert.ok(twice.some((diagnostic) => /a second `sweep` cell/.test(diagnostic.message)), JSON.stringify(twice));
});

test('aexp validate shows how many runs the sweep has, and aexp run trains the file as it is', () => {
  const file = path.join(folder, 'good.aexp');
  writeFileSync(file, withSweep('grid:\n  model.latent: [2, 3]\nseeds: 3\n'));
  const validate = spawnSync(process.execPath, [aexp, 'validate', file], { encoding: 'utf8' });
  assert.equal(validate.status, 0, validate.stderr);
  assert.match(validate.stdout, /sweep: 6 run\(s\)/);
  const run = spawnSync(process.execPath, [aexp, 'run', file, '--backend', 'cpu', '--out', path.join(folder, 'runs')], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(readRunConfig(run.stdout.trim()).model.latent, 4);
});

test('a run\'s text carries its overrides and its model seed, and keeps the experiment\'s seed for the data', async () => {
  const text = withSweep('grid:\n  model.latent: [2, 3]\nseeds: [7, 8]\n');
  const sweep = readSweep(text, 'x.aexp')!;
  assert.equal(sweep.runs.length, 4);
  const third = loadExperiment(sweepRunText(text, 'x.aexp', sweep.runs[3]), 'x.aexp');
  assert.deepEqual(third.diagnostics.filter((diagnostic) => diagnostic.severity === 'error'), []);
  assert.equal(third.frontMatter.seed, 8);
  assert.equal(cellConfig(third, 'model')!.latent, 3);
  assert.equal(cellConfig(third, 'data')!.seed, 5);
  // The same test images for two model seeds: the split comes from data.seed.
  const first = loadExperiment(sweepRunText(text, 'x.aexp', sweep.runs[0]), 'x.aexp');
  const load = (experiment: typeof first) => loadDataset(cellConfig(experiment, 'data')!, { dataDir: folder, baseDir: folder, seed: experiment.frontMatter.seed });
  const [a, b] = await Promise.all([load(first), load(third)]);
  assert.deepEqual(Buffer.from(a.test.images), Buffer.from(b.test.images));
  assert.equal(sweepDiagnostics(text, 'x.aexp').length, 0);
});

test('the sweep cell\'s keys complete and hover from its schema, random\'s inside random', () => {
  assert.deepEqual(completions('sweep', '', 0, 0).map((item) => item.label).sort(), ['grid', 'metric', 'random', 'seeds']);
  const nested = completions('sweep', 'random:\n  ', 1, 2).map((item) => item.label).sort();
  assert.deepEqual(nested, ['count', 'params', 'seed']);
  assert.match(hover('sweep', 'metric: -test.elbo\n', 0, 2)!.markdown, /\*\*metric\*\* \(sweep cell\).*--summary sorts by/s);
  assert.match(hover('sweep', 'seeds: 3\n', 0, 2)!.markdown, /data split keeps the experiment's seed/);
});
