import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { generateSprites } from '../../runtime/data/sprites';
import { temporaryDirectory } from '../helpers/temp';

const root = path.resolve(__dirname, '..', '..');
const aexp = path.join(root, 'bin', 'aexp.js');

function cli(args: string[], cwd = root) {
  return spawnSync(process.execPath, [aexp, ...args], { cwd, encoding: 'utf8' });
}

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line.trim());
}

const SPRITES_TOO_MANY = '```data\ndataset: sprites\ncount: 1000000000\n```\n\n```model\nkind: vae\nlatent: 4\nencoder: [dense 16 relu]\n```\n';

test('aexp validate reports on every file, whichever fail, and exits 1', () => {
  const directory = temporaryDirectory();
  const huge = path.join(directory, 'huge.aexp');
  writeFileSync(huge, SPRITES_TOO_MANY);
  const broken = path.join(directory, 'broken.aexp');
  writeFileSync(broken, '```model\nkind: vae\nlatent: [\n```\n');
  const result = cli(['validate', 'samples/quickstart.aexp', huge, path.join(root, 'samples'), broken, path.join(directory, 'absent.aexp'), 'samples/vae-mnist.aexp']);
  assert.equal(result.status, 1, result.stderr);
  assert.match(result.stdout, /^samples\/quickstart\.aexp: ok$/m);
  assert.match(result.stdout, new RegExp(`^${huge.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: 1 error\\(s\\)$`, 'm'));
  assert.match(result.stdout, /^samples\/vae-mnist\.aexp: ok$/m, 'the files after the failures are validated too');
  // The absurd count is refused at its line and column, with the estimate and the limit, before any sprite is drawn.
  assert.match(result.stderr, new RegExp(`^${huge.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:3:1: error: 1,000,000,000 sprites of 32×32 need about 2048\\.0 GB in memory .*; this process can use at most \\d+\\.\\d GB$`, 'm'));
  assert.match(result.stderr, /samples: a folder, not a \.aexp file$/m);
  assert.match(result.stderr, /absent\.aexp: cannot read the file \(ENOENT\)$/m);
  assert.match(result.stderr, /broken\.aexp:\d+:\d+: error: /);
  assert.doesNotMatch(result.stderr, /^\s+at /m, 'no stack trace');
});

test('aexp run refuses a model that cannot fit at its key, before generating data', () => {
  const directory = temporaryDirectory();
  const file = path.join(directory, 'wide.aexp');
  writeFileSync(file, '```data\ndataset: sprites\ncount: 200\n```\n\n```model\nkind: ae\nlatent: 8\nencoder: [dense 64 relu, dense 1000000000 relu]\n```\n\n```train\nepochs: 1\n```\n');
  const result = cli(['run', file, '--out', path.join(directory, 'runs')], directory);
  assert.equal(result.status, 1, result.stderr);
  assert.deepEqual(lines(result.stderr).length, 1, result.stderr);
  assert.match(result.stderr, /^.*wide\.aexp:9:26: error: the model needs about \d+\.\d GB \(weights, Adam state, gradients and one batch of activations; most of it for `dense 1000000000 relu`\); this process can use at most \d+\.\d GB$/m);
});

test('usage errors are one line and exit 2; a run folder whose config.json does not parse is one line naming it, exit 1', () => {
  const directory = temporaryDirectory();
  const notRun = path.join(directory, 'not-a-run');
  mkdirSync(notRun);
  const usage: [string[], RegExp][] = [
    [['run', 'samples'], /^aexp: samples: a folder, not a \.aexp file$/],
    [['run', '--resume'], /^aexp: Option '--resume <value>' argument missing; aexp --help shows the usage$/],
    [['run', '--resume', path.join(directory, 'nowhere')], /^aexp: --resume .*nowhere: no such run folder$/],
    [['run', '--resume', notRun], /^aexp: --resume .*not-a-run: not a run folder \(it has no config\.json\)$/],
    [['run', 'samples/quickstart.aexp', '--frobnicate'], /^aexp: Unknown option '--frobnicate'; aexp --help shows the usage$/],
    [['run', 'samples/quickstart.aexp', '--epochs', 'abc'], /^aexp: --epochs must be a positive whole number, not "abc"$/],
    [['validate', '--frobnicate'], /^aexp: aexp validate takes \.aexp files, not "--frobnicate"$/],
  ];
  for (const [args, message] of usage) {
    const result = cli(args);
    assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.equal(lines(result.stderr).length, 1, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr.trim(), message);
  }
  const broken = path.join(directory, 'broken-run');
  mkdirSync(broken);
  writeFileSync(path.join(broken, 'config.json'), '{"seed": 1,');
  const result = cli(['run', '--resume', broken]);
  assert.equal(result.status, 1, result.stderr);
  assert.equal(lines(result.stderr).length, 1, result.stderr);
  assert.match(result.stderr.trim(), new RegExp(`^aexp: ${path.join(broken, 'config.json').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: not valid JSON \\(.+\\)$`));
});

test('Ctrl-C and SIGTERM stop sprite generation at once, with one clear line', async () => {
  // How long generating these sprites would take here, measured on a sample of them.
  const count = 100_000;
  const sample = 2_000;
  const timed = Date.now();
  await generateSprites({ size: 32, count: sample, seed: 0, testFraction: 0.1 });
  const generationMs = ((Date.now() - timed) * count) / sample;
  // The signal handlers are in place once the bundle has loaded: `aexp --help` loads the same bundle.
  const loading = Date.now();
  cli(['--help']);
  const startupMs = Date.now() - loading;
  const directory = temporaryDirectory();
  const file = path.join(directory, 'many.aexp');
  writeFileSync(file, `\`\`\`data\ndataset: sprites\nsize: 32\ncount: ${count}\n\`\`\`\n\n\`\`\`model\nkind: vae\nlatent: 4\nencoder: [dense 16 relu]\n\`\`\`\n\n\`\`\`train\nepochs: 1\n\`\`\`\n`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const out = path.join(directory, signal);
    const child = spawn(process.execPath, [aexp, 'run', file, '--out', out], { cwd: directory, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    await new Promise((resolve) => setTimeout(resolve, 2 * startupMs + 500));
    const signalled = Date.now();
    child.kill(signal);
    const code = await new Promise((resolve) => child.once('exit', resolve));
    const stoppedMs = Date.now() - signalled;
    assert.equal(code, 130, `${signal}: ${stderr}`);
    assert.match(stderr, /^aexp: interrupted while generating sprites$/m, signal);
    assert.doesNotMatch(stderr, /^\s+at /m, 'no stack trace');
    // Generating the rest would have taken most of generationMs; stopping takes a slice of it.
    assert.ok(stoppedMs < generationMs / 2, `${signal}: stopped ${stoppedMs} ms after the signal; generation takes about ${Math.round(generationMs)} ms`);
  }
});
