/** Sweep expansion: the order runs are numbered in, random draws from the cell's seed alone, and bad sweeps named by field. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { applyOverrides } from '../../runtime/format/overrides';
import type { SweepConfig } from '../../runtime/sweep/expand';
import { MAX_SWEEP_RUNS, SweepError, expandSweep, overrideArguments } from '../../runtime/sweep/expand';

const KINDS = ['data', 'model', 'train', 'evaluate', 'sweep'];

test('a grid expands as nested loops, the first key slowest, and each point runs once per seed', () => {
  const runs = expandSweep({ grid: { 'model.latent': [8, 16], 'model.beta': [1, 4, 8] }, seeds: 2 }, KINDS);
  assert.equal(runs.length, 12);
  assert.deepEqual(runs.map((run) => run.index), [...Array(12).keys()]);
  assert.deepEqual(runs[0], { index: 0, overrides: [['model.latent', 8], ['model.beta', 1]], seed: 1 });
  assert.deepEqual(runs[1], { index: 1, overrides: [['model.latent', 8], ['model.beta', 1]], seed: 2 });
  assert.deepEqual(runs[2].overrides, [['model.latent', 8], ['model.beta', 4]]);
  assert.deepEqual(runs[11], { index: 11, overrides: [['model.latent', 16], ['model.beta', 8]], seed: 2 });
  // Every combination exactly once per seed.
  const seen = new Set(runs.map((run) => JSON.stringify([run.overrides, run.seed])));
  assert.equal(seen.size, 12);
});

test('random draws are the same every time, inside their ranges, and adding a draw keeps the earlier ones', () => {
  const config: SweepConfig = { random: { count: 200, seed: 7, params: { 'train.lr': { loguniform: [1e-4, 1e-2] }, 'model.dropout': { uniform: [0, 0.3] }, 'model.kind': { choice: ['vae', 'beta-vae'] }, 'model.latent': { int: [2, 5] } } } };
  const runs = expandSweep(config, KINDS);
  assert.deepEqual(expandSweep(config, KINDS), runs);
  const values = (name: string) => runs.map((run) => run.overrides.find(([path]) => path === name)![1]);
  const rates = values('train.lr') as number[];
  assert.ok(rates.every((rate) => rate >= 1e-4 && rate <= 1e-2));
  // Log-uniform: about half the draws fall below the geometric midpoint 1e-3.
  const below = rates.filter((rate) => rate < 1e-3).length;
  assert.ok(below > 70 && below < 130, `${below} of 200 below 1e-3`);
  assert.ok((values('model.dropout') as number[]).every((rate) => rate >= 0 && rate < 0.3));
  assert.deepEqual(new Set(values('model.kind')), new Set(['vae', 'beta-vae']));
  assert.deepEqual(new Set(values('model.latent')), new Set([2, 3, 4, 5]));
  const fewer = expandSweep({ random: { ...config.random!, count: 50 } }, KINDS);
  assert.deepEqual(fewer, runs.slice(0, 50));
  const otherSeed = expandSweep({ random: { ...config.random!, seed: 8 } }, KINDS);
  assert.notDeepEqual(otherSeed, runs);
});

test('a run\'s overrides go through --set and change only the cells they name', () => {
  const [run] = expandSweep({ grid: { 'model.kind': ['beta-vae'], 'train.lr': [0.000123456789] } }, KINDS);
  const text = '```model\nkind: vae\nlatent: 4\n```\n\n```train\nepochs: 1\n```\n';
  const changed = applyOverrides(text, 'x.aexp', overrideArguments(run));
  const cells = [...changed.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map(([, kind, body]) => [kind, parse(body)]);
  assert.deepEqual(cells, [['model', { kind: 'beta-vae', latent: 4 }], ['train', { epochs: 1, lr: 0.000123456789 }]]);
});

test('what cannot be a sweep is refused naming the field', () => {
  const refused = (config: SweepConfig, field: (string | number)[], message: RegExp) =>
    assert.throws(() => expandSweep(config, KINDS), (error: unknown) => error instanceof SweepError && JSON.stringify(error.field) === JSON.stringify(field) && message.test(error.message));
  refused({ grid: { latent: [1] } }, ['grid', 'latent'], /`latent` is not a cell\.key path/);
  refused({ grid: { 'modle.latent': [1] } }, ['grid', 'modle.latent'], /`modle` in `modle\.latent` is not a cell kind/);
  refused({ grid: { 'model.latent': [] } }, ['grid', 'model.latent'], /non-empty list/);
  refused({ grid: { 'sweep.seeds': [1] } }, ['grid', 'sweep.seeds'], /cannot sweep its own cell/);
  refused({ random: { count: 0, params: { 'train.lr': { uniform: [0, 1] } } } }, ['random', 'count'], /positive whole number/);
  refused({ random: { count: 2, params: { 'train.lr': { loguniform: [0, 1] } } } }, ['random', 'params', 'train.lr'], /both ends must be above 0/);
  refused({ random: { count: 2, params: { 'train.lr': { uniform: [1, 1] } } } }, ['random', 'params', 'train.lr'], /low must be below high/);
  refused({ random: { count: 2, params: { 'train.lr': { normal: [0, 1] } as never } } }, ['random', 'params', 'train.lr'], /one of \{uniform/);
  refused({ grid: { 'train.lr': [1] }, random: { count: 2, params: { 'train.lr': { uniform: [0, 1] } } } }, ['random', 'params', 'train.lr'], /in the grid too/);
  refused({ seeds: [1, 2, 1] }, ['seeds'], /seed 1 is listed twice/);
  refused({ seeds: [1, -2] }, ['seeds', 1], /whole numbers ≥ 0/);
  refused({}, [], /needs a grid, random parameters or seeds/);
  refused({ grid: { 'model.latent': [...Array(101).keys()], 'model.beta': [...Array(100).keys()] } }, [], new RegExp(`10100 runs .* at most ${MAX_SWEEP_RUNS}`));
});
