/**
 * Run folders lose nothing and lie about nothing, tested with real `aexp` processes: killed at an
 * epoch boundary and mid-epoch, resumed; two processes on one folder; resumes that must fail
 * before they write; Ctrl-C during the backend check; the memory check on a folder dataset.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { PNG } from 'pngjs';
import type { MetricsRecord } from '../../runtime/protocol';
import { temporaryPathFor } from '../../runtime/util/atomic-file';
import { tinyExperiment } from '../helpers/experiments';
import { waitForChild } from '../helpers/child-wait';
import { temporaryDirectory } from '../helpers/temp';

const root = path.resolve(__dirname, '..', '..');
const aexp = path.join(root, 'bin', 'aexp.js');

function cli(args: string[], env: NodeJS.ProcessEnv = {}, cwd = root) {
  return spawnSync(process.execPath, [aexp, ...args], { cwd, encoding: 'utf8', env: { ...process.env, ...env } });
}

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line.trim());
}

function onlyRunDir(parent: string): string {
  const names = existsSync(parent) ? readdirSync(parent) : [];
  assert.equal(names.length, 1, `one run folder in ${parent}: ${names}`);
  return path.join(parent, names[0]);
}

function records(runDir: string): MetricsRecord[] {
  return readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as MetricsRecord);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}


// tinyExperiment: 1080 training sprites in batches of 32 (34 steps an epoch), a train record every 5 steps.
const STEPS_PER_EPOCH = 34;

for (const [where, killAt, resumesAt] of [
  ['at an epoch boundary (its record written, its checkpoint not)', 'epoch-end:2', 'epoch 2, batch 0'],
  ['mid-epoch', `step:${STEPS_PER_EPOCH + 16}`, 'epoch 2, batch 0'],
] as const) {
  test(`a run SIGKILLed ${where} resumes; metrics.jsonl then holds each step and epoch exactly once`, () => {
    const directory = temporaryDirectory();
    const file = tinyExperiment(directory, { epochs: 3 });
    const out = path.join(directory, 'runs');
    const killed = cli(['run', file, '--out', out], { AEXP_TEST_KILL_AT: killAt });
    assert.equal(killed.signal, 'SIGKILL', killed.stderr);
    const runDir = onlyRunDir(out);
    const resumed = cli(['run', '--resume', runDir]);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stderr, new RegExp(`resuming at ${resumesAt}`));
    const all = records(runDir);
    assert.deepEqual(all.filter((record) => record.kind === 'epoch').map((record) => record.epoch), [1, 2, 3]);
    const steps = all.filter((record) => record.kind === 'train').map((record) => record.step);
    const expected = Array.from({ length: Math.floor((3 * STEPS_PER_EPOCH) / 5) }, (_, index) => 5 * (index + 1));
    assert.deepEqual(steps, expected, 'every logged step once, in order');
  });
}

test('a run killed before its first checkpoint says so on --resume, in one line', () => {
  const directory = temporaryDirectory();
  const file = tinyExperiment(directory, { epochs: 1 });
  const out = path.join(directory, 'runs');
  const killed = cli(['run', file, '--out', out], { AEXP_TEST_KILL_AT: 'step:10' });
  assert.equal(killed.signal, 'SIGKILL', killed.stderr);
  const runDir = onlyRunDir(out);
  // What a process killed while writing its first checkpoint leaves: a temporary file of a dead pid of this host identity.
  const dead = spawnSync(process.execPath, ['-e', '']).pid!;
  const leftover = temporaryPathFor(path.join(runDir, 'checkpoints', 'last.ckpt')).replace(`~${process.pid}.tmp`, `~${dead}.tmp`);
  mkdirSync(path.dirname(leftover), { recursive: true });
  writeFileSync(leftover, 'half a checkpoint');
  const resumed = cli(['run', '--resume', runDir]);
  assert.equal(resumed.status, 1, resumed.stderr);
  assert.equal(lines(resumed.stderr).length, 1, resumed.stderr);
  assert.equal(resumed.stderr.trim(), `aexp: ${runDir}: this run was stopped before its first checkpoint was written (nothing to resume); start it again with aexp run ${file}`);
  assert.ok(!existsSync(leftover), 'the resume swept the dead writer\'s temporary file');
});

test('a resume that fails (a damaged checkpoint, a changed model or optimizer) rewrites nothing and says why in one line naming the file', () => {
  const directory = temporaryDirectory();
  const out = path.join(directory, 'runs');
  const first = cli(['run', tinyExperiment(directory, { epochs: 1 }), '--out', out]);
  assert.equal(first.status, 0, first.stderr);
  const runDir = onlyRunDir(out);
  const kept = ['config.json', 'outputs.json', 'summary.json', 'metrics.jsonl'];
  const before = kept.map((name) => readFileSync(path.join(runDir, name)));
  const unchanged = (what: string) => kept.forEach((name, index) => assert.ok(readFileSync(path.join(runDir, name)).equals(before[index]), `${what}: ${name} is unchanged`));
  const checkpoint = path.join(runDir, 'checkpoints', 'last.ckpt');
  const good = readFileSync(checkpoint);

  // The snapshot's model no longer fits the checkpoint's weights.
  const snapshot = path.join(runDir, 'experiment.aexp');
  const text = readFileSync(snapshot, 'utf8');
  writeFileSync(snapshot, text.replace('latent: 4', 'latent: 5'));
  const changed = cli(['run', '--resume', runDir, '--epochs', '2']);
  assert.equal(changed.status, 1, changed.stderr);
  assert.equal(lines(changed.stderr).filter((line) => line.startsWith('aexp:')).length, 1, changed.stderr);
  assert.match(changed.stderr, new RegExp(`^aexp: ${escape(checkpoint)}: checkpoint weight \\d+ has shape \\[.*\\], the model expects \\[.*\\] \\(the model built from ${escape(snapshot)} does not fit it\\)$`, 'm'));
  unchanged('a changed model');

  // The snapshot's optimizer (sgd) cannot take the checkpoint's state (adam's).
  writeFileSync(snapshot, text.replace('log_every: 5', 'log_every: 5\noptimizer: sgd'));
  const optimizer = cli(['run', '--resume', runDir, '--epochs', '2']);
  assert.equal(optimizer.status, 1, optimizer.stderr);
  unchanged('a changed optimizer');
  assert.equal(lines(optimizer.stderr).filter((line) => line.startsWith('aexp:')).length, 1, optimizer.stderr);
  assert.match(optimizer.stderr, new RegExp(`^aexp: ${escape(checkpoint)}: its optimizer state is adam's, this run uses sgd \\(the train cell of ${escape(snapshot)} does not fit it\\)$`, 'm'));
  writeFileSync(snapshot, text);

  // One flipped byte in the middle of the weights.
  const damaged = Buffer.from(good);
  damaged[damaged.length >> 1] ^= 0xff;
  writeFileSync(checkpoint, damaged);
  const corrupt = cli(['run', '--resume', runDir, '--epochs', '2']);
  assert.equal(corrupt.status, 1, corrupt.stderr);
  assert.equal(lines(corrupt.stderr).length, 1, corrupt.stderr);
  assert.equal(corrupt.stderr.trim(), `aexp: ${checkpoint}: checksum mismatch (the file is damaged)`);
  unchanged('a damaged checkpoint');
  assert.ok(readFileSync(checkpoint).equals(damaged), 'the damaged checkpoint is left as found, for a person to look at');
});

test('a run folder whose metrics.jsonl or checkpoints/ is a symbolic link is refused on --resume in one line naming it; nothing outside is written', () => {
  const directory = temporaryDirectory();
  const out = path.join(directory, 'runs');
  const first = cli(['run', tinyExperiment(directory, { epochs: 1 }), '--out', out]);
  assert.equal(first.status, 0, first.stderr);
  const runDir = onlyRunDir(out);
  const outside = path.join(directory, 'outside');
  mkdirSync(outside);
  const snapshotOf = (folder: string) => readdirSync(folder, { recursive: true }).map(String).sort().map((name) => [name, statSync(path.join(folder, name)).isFile() ? readFileSync(path.join(folder, name), 'utf8') : '/']);

  // A repository ships the folder with one entry pointing elsewhere: the resume refuses it in one line and writes nothing there.
  const refusedThroughLink = (entry: string) => {
    renameSync(entry, path.join(outside, path.basename(entry)));
    symlinkSync(path.join(outside, path.basename(entry)), entry);
    const before = snapshotOf(outside);
    const resumed = cli(['run', '--resume', runDir, '--epochs', '2']);
    assert.equal(resumed.status, 1, resumed.stderr);
    assert.equal(lines(resumed.stderr).length, 1, resumed.stderr);
    assert.equal(resumed.stderr.trim(), `aexp: ${entry}: a symbolic link; refusing to write through it (a run folder holds only its own files and folders)`);
    assert.deepEqual(snapshotOf(outside), before, 'nothing outside was created or changed');
    rmSync(entry);
    renameSync(path.join(outside, path.basename(entry)), entry);
  };
  refusedThroughLink(path.join(runDir, 'metrics.jsonl'));
  refusedThroughLink(path.join(runDir, 'checkpoints'));
});

test('two processes never train into one run folder: a second one is told who holds it, in one line, and exits 1', async () => {
  const directory = temporaryDirectory();
  const out = path.join(directory, 'runs');
  const trainer = spawn(process.execPath, [aexp, 'run', tinyExperiment(directory, { epochs: 30 }), '--out', out], { stdio: ['ignore', 'ignore', 'pipe'] });
  trainer.stderr!.resume();
  const firstRecord = () => {
    const names = existsSync(out) ? readdirSync(out) : [];
    const metrics = names.length === 1 ? path.join(out, names[0], 'metrics.jsonl') : '';
    return metrics !== '' && existsSync(metrics) && readFileSync(metrics, 'utf8').includes('"kind":"epoch"');
  };
  try {
    await waitForChild(firstRecord, trainer, 'the first epoch');
    const runDir = onlyRunDir(out);
    const config = readFileSync(path.join(runDir, 'config.json'));
    const second = cli(['run', '--resume', runDir]);
    assert.equal(second.status, 1, second.stderr);
    assert.equal(lines(second.stderr).length, 1, second.stderr);
    assert.match(second.stderr.trim(), new RegExp(`^aexp: ${escape(runDir)} is in use by pid ${trainer.pid} on host \\S+ since \\S+Z \\(heartbeat \\d+ s ago\\)$`));
    assert.ok(readFileSync(path.join(runDir, 'config.json')).equals(config), 'the refused process wrote nothing');
    trainer.kill('SIGINT');
    assert.equal(await new Promise((resolve) => trainer.once('exit', resolve)), 130);
    assert.ok(!existsSync(path.join(runDir, 'lock.json')), 'the lock goes with its holder');
    // Now free, the folder resumes.
    const resumed = cli(['run', '--resume', runDir, '--epochs', '2']);
    assert.equal(resumed.status, 0, resumed.stderr);
  } finally {
    trainer.kill('SIGKILL');
  }
});

test('Ctrl-C during the backend check stops it with one line and exit 130, before any run folder exists', async () => {
  const directory = temporaryDirectory();
  const file = path.join(directory, 'conv.aexp');
  // A conv model whose gradient check (one step on wasm, one on the pure-JS cpu backend) takes seconds.
  writeFileSync(file, '```data\ndataset: sprites\nsize: 48\ncount: 200\nbatch: 16\n```\n\n```model\nkind: vae\nlatent: 8\nencoder: [conv 32 k3 s1 relu, conv 32 k3 s2 relu, conv 32 k3 s2 relu, dense 128 relu]\n```\n\n```train\nepochs: 1\n```\n');
  const out = path.join(directory, 'runs');
  // A fresh verdict cache, so that the check runs.
  const child = spawn(process.execPath, [aexp, 'run', file, '--backend', 'wasm', '--out', out], { cwd: directory, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, AEXP_CACHE_DIR: path.join(directory, 'cache') } });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  await waitForChild(() => /checking the wasm backend against cpu/.test(stderr), child, 'the backend check to start');
  child.kill('SIGINT');
  const code = await new Promise((resolve) => child.once('exit', resolve));
  assert.equal(code, 130, stderr);
  const said = lines(stderr).filter((line) => line.startsWith('aexp:'));
  assert.deepEqual(said, ['aexp: interrupted while checking the wasm backend against cpu'], stderr);
  assert.doesNotMatch(stderr, /^\s+at /m, 'no stack trace');
  assert.ok(!existsSync(out), 'no run folder was created');
  assert.ok(!existsSync(path.join(directory, 'cache', 'backend-checks.json')), 'no verdict was recorded for a check that did not finish');
});

test('a folder dataset without `size` is checked for memory at its real shape before the model is built', () => {
  const directory = temporaryDirectory();
  for (const label of ['a', 'b']) {
    mkdirSync(path.join(directory, 'images', label), { recursive: true });
    for (let index = 0; index < 3; index++) {
      const png = new PNG({ width: 28, height: 28 });
      png.data.fill(index * 60);
      writeFileSync(path.join(directory, 'images', label, `${index}.png`), PNG.sync.write(png));
    }
  }
  const file = path.join(directory, 'wide.aexp');
  writeFileSync(file, '```data\ndataset: folder\npath: images\nbatch: 2\n```\n\n```model\nkind: ae\nlatent: 8\nencoder: [dense 100000000 relu]\n```\n\n```train\nepochs: 1\n```\n');
  const validated = cli(['validate', file], {}, directory);
  assert.equal(validated.status, 0, `without a size, validation cannot know the input's shape: ${validated.stderr}`);
  const result = cli(['run', file, '--backend', 'cpu', '--out', path.join(directory, 'runs')], {}, directory);
  assert.equal(result.status, 1, result.stderr);
  assert.equal(lines(result.stderr).filter((line) => /error/.test(line)).length, 1, result.stderr);
  assert.match(result.stderr, /wide\.aexp:10:11: error: the model needs about [\d.]+ GB \(.*`dense 100000000 relu`\); this process can use at most [\d.]+ GB$/m);
  assert.ok(!existsSync(path.join(directory, 'runs')), 'no run folder');
});
