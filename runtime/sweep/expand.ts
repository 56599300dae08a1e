/**
 * A sweep cell expanded into its numbered list of runs. Each run is a set of `cell.key` overrides
 * (the paths `--set` takes) and a model seed. The list is stable: the same cell always gives the
 * same runs in the same order, so `aexp run --sweep-index i` on any machine runs exactly run i.
 *
 * Order: grid points (the first key slowest, as nested loops read), then random draws, then seeds;
 * so with a grid of G points, R draws and S seeds, run i is grid point ⌊i / (R·S)⌋, draw
 * ⌊i / S⌋ mod R, seed i mod S. Random draws come from the cell's own `seed` alone.
 */
import { nearest } from '../format/layers';
import { Random, mixSeed } from '../util/random';

export type Distribution = { uniform: [number, number] } | { loguniform: [number, number] } | { choice: unknown[] } | { int: [number, number] };

export interface SweepConfig {
  /** Every combination of these values. */
  grid?: Record<string, unknown[]>;
  /** `count` draws of these distributions, from `seed`. */
  random?: { count: number; seed?: number; params: Record<string, Distribution> };
  /** Model seeds: a list, or how many (1, 2, …, n). Each grid point and draw runs once per seed. */
  seeds?: number[] | number;
  /** What the summary sorts by, e.g. `test.loss` (lower first) or `-test.elbo` (higher first). */
  metric?: string;
}

export interface SweepRun {
  index: number;
  /** `cell.key` → value, in the order the cell declares them. */
  overrides: [string, unknown][];
  /** The model seed; undefined keeps the experiment's own. */
  seed?: number;
}

/** A sweep that cannot expand; `field` is where, as a path into the cell (e.g. ['random', 'params', 'train.lr']). */
export class SweepError extends Error {
  override name = 'SweepError';
  constructor(
    readonly field: (string | number)[],
    message: string,
  ) {
    super(message);
  }
}

/** More runs than this is a typo (a grid of seven 10-value lists), not a sweep to queue. */
export const MAX_SWEEP_RUNS = 10_000;
const PATH = /^[a-z]+\.[A-Za-z_][\w.]*$/;

function checkPath(path: string, field: (string | number)[], cellKinds: readonly string[]): void {
  if (!PATH.test(path)) throw new SweepError(field, `\`${path}\` is not a cell.key path (write it as --set takes it, e.g. model.latent or train.lr)`);
  const kind = path.split('.')[0];
  if (kind === 'sweep') throw new SweepError(field, `a sweep cannot sweep its own cell (\`${path}\`)`);
  const kinds = cellKinds.filter((candidate) => candidate !== 'sweep');
  if (!kinds.includes(kind)) {
    const near = nearest(kind, kinds);
    throw new SweepError(field, `\`${kind}\` in \`${path}\` is not a cell kind; ${near ? `did you mean \`${near}\`?` : `expected one of ${kinds.join(', ')}`}`);
  }
}

function checkRange(range: unknown, field: (string | number)[], name: string, positive: boolean): [number, number] {
  if (!Array.isArray(range) || range.length !== 2 || !range.every((value) => typeof value === 'number' && Number.isFinite(value))) throw new SweepError(field, `${name} takes [low, high], two numbers`);
  const [low, high] = range as [number, number];
  if (!(low < high)) throw new SweepError(field, `${name} [${low}, ${high}]: low must be below high`);
  if (positive && low <= 0) throw new SweepError(field, `${name} [${low}, ${high}]: both ends must be above 0`);
  return [low, high];
}

function draw(distribution: Distribution, random: Random, field: (string | number)[]): unknown {
  if ('uniform' in distribution) {
    const [low, high] = checkRange(distribution.uniform, field, 'uniform', false);
    return low + (high - low) * random.next();
  }
  if ('loguniform' in distribution) {
    const [low, high] = checkRange(distribution.loguniform, field, 'loguniform', true);
    return Math.exp(Math.log(low) + (Math.log(high) - Math.log(low)) * random.next());
  }
  if ('int' in distribution) {
    const [low, high] = checkRange(distribution.int, field, 'int', false);
    if (!Number.isInteger(low) || !Number.isInteger(high)) throw new SweepError(field, `int [${low}, ${high}]: both ends must be whole numbers`);
    return low + random.int(high - low + 1);
  }
  if ('choice' in distribution) {
    if (!Array.isArray(distribution.choice) || distribution.choice.length === 0) throw new SweepError(field, 'choice takes a non-empty list of values');
    return distribution.choice[random.int(distribution.choice.length)];
  }
  throw new SweepError(field, 'a random parameter is one of {uniform: [low, high]}, {loguniform: [low, high]}, {int: [low, high]}, {choice: [values]}');
}

/** A number rounded to 6 significant digits: what a person reads in a run's overrides and what --set receives. */
function readable(value: unknown): unknown {
  return typeof value === 'number' && !Number.isInteger(value) ? Number(value.toPrecision(6)) : value;
}

/** Expands a sweep cell; throws SweepError naming the field for anything that cannot be a sweep. */
export function expandSweep(config: SweepConfig, cellKinds: readonly string[]): SweepRun[] {
  const isMapping = (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value);
  if (config.grid !== undefined && !isMapping(config.grid)) throw new SweepError(['grid'], 'grid is a mapping of cell.key paths to lists of values, e.g. model.beta: [1, 4]');
  if (config.random !== undefined && !isMapping(config.random)) throw new SweepError(['random'], 'random is a mapping: count, seed and params');
  if (config.random?.params !== undefined && !isMapping(config.random.params)) throw new SweepError(['random', 'params'], 'random.params is a mapping of cell.key paths to distributions, e.g. train.lr: {loguniform: [1e-4, 1e-2]}');
  const gridKeys = Object.keys(config.grid ?? {});
  gridKeys.forEach((path) => checkPath(path, ['grid', path], cellKinds));
  for (const path of gridKeys) {
    const values = config.grid![path];
    if (!Array.isArray(values) || values.length === 0) throw new SweepError(['grid', path], `grid \`${path}\` takes a non-empty list of values`);
  }
  const randomKeys = Object.keys(config.random?.params ?? {});
  if (config.random) {
    const { count } = config.random;
    if (!Number.isInteger(count) || count < 1) throw new SweepError(['random', 'count'], `random.count must be a positive whole number, not ${JSON.stringify(count)}`);
    if (randomKeys.length === 0) throw new SweepError(['random', 'params'], 'random.params names no parameter to draw');
    randomKeys.forEach((path) => checkPath(path, ['random', 'params', path], cellKinds));
    const repeated = randomKeys.find((path) => gridKeys.includes(path));
    if (repeated) throw new SweepError(['random', 'params', repeated], `\`${repeated}\` is in the grid too; sweep it one way`);
  }
  const seeds = typeof config.seeds === 'number' ? Array.from({ length: config.seeds }, (_, index) => index + 1) : config.seeds;
  if (typeof config.seeds === 'number' && !(Number.isInteger(config.seeds) && config.seeds >= 1)) throw new SweepError(['seeds'], `seeds: a list of seeds or how many, not ${config.seeds}`);
  if (Array.isArray(seeds)) {
    if (seeds.length === 0) throw new SweepError(['seeds'], 'seeds: an empty list');
    seeds.forEach((seed, index) => {
      if (!Number.isInteger(seed) || seed < 0) throw new SweepError(['seeds', index], `seed ${JSON.stringify(seed)}: seeds are whole numbers ≥ 0`);
    });
    const duplicate = seeds.find((seed, index) => seeds.indexOf(seed) !== index);
    if (duplicate !== undefined) throw new SweepError(['seeds'], `seed ${duplicate} is listed twice`);
  }

  const gridSize = gridKeys.reduce((product, path) => product * config.grid![path].length, 1);
  const draws = config.random?.count ?? 1;
  const seedCount = seeds?.length ?? 1;
  const total = gridSize * draws * seedCount;
  if (total > MAX_SWEEP_RUNS) throw new SweepError([], `this sweep expands to ${total} runs (grid ${gridSize} × draws ${draws} × seeds ${seedCount}); at most ${MAX_SWEEP_RUNS}`);
  if (gridKeys.length === 0 && !config.random && !seeds) throw new SweepError([], 'a sweep needs a grid, random parameters or seeds');

  // Each draw has its own stream, so adding a parameter or a draw does not change the ones before it.
  const drawn: [string, unknown][][] = Array.from({ length: config.random ? draws : 1 }, (_, draw_) =>
    randomKeys.map((path, parameter) => [path, readable(draw(config.random!.params[path], new Random(mixSeed(config.random!.seed ?? 0, draw_, parameter)), ['random', 'params', path]))] as [string, unknown]),
  );
  const runs: SweepRun[] = [];
  for (let point = 0; point < gridSize; point++) {
    const gridOverrides: [string, unknown][] = [];
    let rest = point;
    for (let key = gridKeys.length - 1; key >= 0; key--) {
      const values = config.grid![gridKeys[key]];
      gridOverrides.unshift([gridKeys[key], values[rest % values.length]]);
      rest = Math.floor(rest / values.length);
    }
    for (const randomOverrides of drawn) {
      for (let seedIndex = 0; seedIndex < seedCount; seedIndex++) {
        runs.push({ index: runs.length, overrides: [...gridOverrides, ...randomOverrides], ...(seeds ? { seed: seeds[seedIndex] } : {}) });
      }
    }
  }
  return runs;
}

/** A run's overrides as `--set` arguments (YAML flow values). */
export function overrideArguments(run: SweepRun): string[] {
  return run.overrides.map(([path, value]) => `${path}=${JSON.stringify(value)}`);
}
