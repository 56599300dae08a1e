import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { tinyExperiment } from '../helpers/experiments';
import { waitForChild } from '../helpers/child-wait';
import { temporaryDirectory } from '../helpers/temp';

const root = path.resolve(__dirname, '..', '..');
const aexp = path.join(root, 'bin', 'aexp.js');

function cli(args: string[], cwd = root) {
  return spawnSync(process.execPath, [aexp, ...args], { cwd, encoding: 'utf8' });
}


function runDirUnder(parent: string): string | undefined {
  if (!existsSync(parent)) return undefined;
  const [name] = readdirSync(parent);
  return name ? path.join(parent, name) : undefined;
}

test('aexp validate passes every sample and prints its model summary', () => {
  const samples = readdirSync(path.join(root, 'samples')).filter((name) => name.endsWith('.aexp')).map((name) => path.join('samples', name));
  const result = cli(['validate', ...samples]);
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /quickstart\.aexp: ok/);
  assert.match(result.stdout, /vae, 20-d code, bernoulli likelihood: 652,824 parameters/);
});

test('aexp validate locates errors, suggests fixes and exits non-zero', () => {
  const directory = temporaryDirectory();
  const file = path.join(directory, 'broken.aexp');
  writeFileSync(file, '# broken\n```data\ndataset: mnist\n```\n```model\nkind: vae\nlatent: 8\nencoder: [conv 8 k3 s2 relu, conv 8 k3 s2 relu, conv 8 k3 s2 relu]\n```\n```train\nepocs: 3\n```\n');
  const result = cli(['validate', file]);
  assert.equal(result.status, 1);
  assert.ok(result.stderr.includes(`${file}:11:1: error: unknown key \`epocs\` in the train cell; did you mean \`epochs\`?`), result.stderr);
  // A shape mismatch is found before any training, at the model cell's encoder key.
  const fixed = readFileSync(file, 'utf8').replace('epocs', 'epochs');
  writeFileSync(file, fixed);
  const shape = cli(['validate', file]);
  assert.equal(shape.status, 1);
  assert.match(shape.stderr, /broken\.aexp:8:1: error: the decoder produces 32×32×1 but the input is 28×28×1/);
});

test('aexp run fails with one clear line on bad arguments', () => {
  const missing = cli(['run', 'nope.aexp']);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr.split('\n')[0], /^aexp: nope\.aexp: no such file$/);
  const backend = cli(['run', 'samples/quickstart.aexp', '--backend', 'tpu']);
  assert.match(backend.stderr.split('\n')[0], /--backend must be one of auto, tensorflow, webgpu, native, wasm, cpu, not "tpu"/);
  const datasets = cli(['datasets', '--data-dir', '/tmp/none']);
  assert.equal(datasets.status, 0);
  assert.match(datasets.stdout, /mnist .*downloaded on first use/);
  for (const help of [['--help'], ['run', '--help'], ['validate', '-h']]) {
    const shown = cli(help);
    assert.equal(shown.status, 0, help.join(' '));
    assert.match(shown.stdout, /^usage:\n {2}aexp run <file\.aexp>/, help.join(' '));
  }
});

test('a native addon that does not load is one line: auto says so once and trains on wasm, --backend native refuses', () => {
  const directory = temporaryDirectory();
  const broken = path.join(directory, 'latent_lab_native.node');
  writeFileSync(broken, 'not a shared library');
  const file = tinyExperiment(directory, { epochs: 1, count: 300 });
  const env = { ...process.env, AEXP_NATIVE_ADDON: broken };
  const auto = spawnSync(process.execPath, [aexp, 'run', file, '--backend', 'auto', '--out', path.join(directory, 'runs')], { cwd: directory, encoding: 'utf8', env });
  assert.equal(auto.status, 0, auto.stderr);
  assert.equal(auto.stderr.match(/native addon did not load/g)?.length, 1, auto.stderr);
  assert.match(auto.stderr, /^auto: skipped native: the native addon did not load \(.*latent_lab_native\.node: /m);
  assert.match(auto.stderr, /backend wasm/);
  const native = spawnSync(process.execPath, [aexp, 'run', file, '--backend', 'native', '--out', path.join(directory, 'runs')], { cwd: directory, encoding: 'utf8', env });
  assert.notEqual(native.status, 0);
  // The data cell has run and said so; the refusal is one line after it.
  assert.deepEqual(native.stderr.split('\n').filter((line) => line.startsWith('aexp:')).length, 1, native.stderr);
  assert.match(native.stderr.trim().split('\n').at(-1)!, /^aexp: .*the native addon did not load/);
  assert.doesNotMatch(native.stderr, /^\s+at /m, 'no stack trace');
  // A Node addon that loads but is not ours (or is an older build of ours) lacks our kernels and is refused whole.
  const other = path.join(root, 'node_modules', 'webgpu', 'dist', `${process.platform}-${process.arch}`, 'dawn.node');
  if (existsSync(other)) {
    const stale = spawnSync(process.execPath, [aexp, 'run', file, '--backend', 'native', '--out', path.join(directory, 'runs')], { cwd: directory, encoding: 'utf8', env: { ...process.env, AEXP_NATIVE_ADDON: other } });
    assert.match(stale.stderr, /^aexp: the native addon did not load \(.*dawn\.node is out of date \(no gemm, unary, .*\): npm run build:native rebuilds it\)/m, stale.stderr);
  }
});

test('a run killed with SIGKILL mid-epoch resumes to the full epoch count; every metrics line parses', async () => {
  const directory = temporaryDirectory();
  const file = tinyExperiment(directory, { epochs: 4, count: 2400 });
  const out = path.join(directory, 'runs');
  const child = spawn(process.execPath, [aexp, 'run', file, '--out', out], { stdio: 'ignore' });
  const metricsLines = () => {
    const runDir = runDirUnder(out);
    const metrics = runDir && path.join(runDir, 'metrics.jsonl');
    return metrics && existsSync(metrics) ? readFileSync(metrics, 'utf8').split('\n').filter(Boolean) : [];
  };
  // Kill in the middle of epoch 2: after its first training record, before it ends.
  await waitForChild(() => metricsLines().some((line) => line.includes('"kind":"train","epoch":2')), child, 'epoch 2 to start');
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  const runDir = runDirUnder(out)!;
  const lines = readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean);
  for (const line of lines) JSON.parse(line);
  assert.ok(!existsSync(path.join(runDir, 'summary.json')), 'the killed run never finished');
  // checkpoints/weights/ holds each epoch's weights: no temporary file there either.
  assert.ok(readdirSync(path.join(runDir, 'checkpoints'), { recursive: true }).map(String).filter((name) => name !== 'weights').every((name) => name.endsWith('.ckpt')), 'no temporary checkpoint left behind');

  const resumed = cli(['run', '--resume', runDir]);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, /resuming at epoch 2, batch 0/);
  const summary = JSON.parse(readFileSync(path.join(runDir, 'summary.json'), 'utf8'));
  assert.equal(summary.epochs, 4);
  assert.equal(summary.status, 'completed');
  const epochs = readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line)).filter((record) => record.kind === 'epoch');
  assert.deepEqual(epochs.map((record) => record.epoch), [1, 2, 3, 4]);
});

test('Ctrl-C writes a checkpoint and exits; the run resumes from it', async () => {
  const directory = temporaryDirectory();
  const file = tinyExperiment(directory, { epochs: 2, count: 2400 });
  const out = path.join(directory, 'runs');
  const child = spawn(process.execPath, [aexp, 'run', file, '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  await waitForChild(() => {
    const runDir = runDirUnder(out);
    return Boolean(runDir && existsSync(path.join(runDir, 'metrics.jsonl')) && readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').includes('"kind":"train"'));
  }, child, 'the first training record');
  child.kill('SIGINT');
  const code = await new Promise((resolve) => child.once('exit', resolve));
  assert.equal(code, 130, stderr);
  assert.match(stderr, /stopped at epoch 1, batch \d+\n/);
  assert.match(stderr, /\nresume with: aexp run --resume \S+/);
  const runDir = runDirUnder(out)!;
  assert.ok(existsSync(path.join(runDir, 'checkpoints', 'last.ckpt')));
  const resumed = cli(['run', '--resume', runDir]);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.equal(JSON.parse(readFileSync(path.join(runDir, 'summary.json'), 'utf8')).epochs, 2);
});
