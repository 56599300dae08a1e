/**
 * The .vsix as a person installs it: packaged for this platform, unpacked, and its runtime run
 * from the unpacked folder alone (no node_modules), as VS Code would run it.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { tinyExperiment } from '../helpers/experiments';
import { temporaryDirectory } from '../helpers/temp';

const root = path.resolve(__dirname, '..', '..');

test('npm run package builds a bundled .vsix whose runtime trains on its own, on wasm and on its native addon, and finds its WebGPU binary', { timeout: 300_000 }, (context) => {
  const target = `${process.platform}-${process.arch}`;
  if (target !== 'linux-x64') return context.skip(`this test unpacks the linux-x64 package; this machine is ${target}`);
  const python = spawnSync('python3', ['--version']);
  if (python.status !== 0) return context.skip('python3 (for its zipfile module) is not installed');
  // dist/ is built before the unit tests run (npm test); rebuilding it here would race the tests that fork it.
  execFileSync(process.execPath, [path.join(root, 'scripts', 'package.mjs'), target, '--skip-build'], { cwd: root, stdio: 'pipe' });
  const version = (JSON.parse(execFileSync('node', ['-p', 'JSON.stringify(require("./package.json"))'], { cwd: root, encoding: 'utf8' })) as { version: string }).version;
  const vsix = path.join(root, 'artifacts', 'package', `latent-lab-${version}-${target}.vsix`);
  assert.ok(existsSync(vsix), vsix);
  assert.ok(statSync(vsix).size < 20e6, `${(statSync(vsix).size / 1e6).toFixed(1)} MB`);

  const unpacked = temporaryDirectory();
  execFileSync('python3', ['-m', 'zipfile', '-e', vsix, unpacked]);
  const extension = path.join(unpacked, 'extension');
  const files = readdirSync(extension, { recursive: true }).map(String);
  const addon = existsSync(path.join(root, 'dist', 'native', 'latent_lab_native.node')) ? ['dist/native/latent_lab_native.node'] : [];
  for (const expected of ['package.json', 'dist/extension/extension.js', 'dist/runtime/server.js', 'dist/runtime/cli.js', 'dist/runtime/tfjs-backend-wasm-simd.wasm', 'dist/webview/chart.js', `dist/webgpu/dist/${target}/dawn.node`, ...addon]) {
    assert.ok(files.includes(expected), `${expected} is in the package`);
  }
  assert.ok(!files.some((file) => file.includes('node_modules') || file.endsWith('.map') || file.startsWith('test') || file.startsWith('dist/bench')), 'no node_modules, source maps, tests or benchmarks');
  assert.ok(!files.some((file) => /(darwin|win32|arm64)/.test(file)), 'only this platform\'s WebGPU binary');

  const directory = temporaryDirectory();
  const cli = path.join(extension, 'dist', 'runtime', 'cli.js');
  const trained = spawnSync(process.execPath, [cli, 'run', tinyExperiment(directory, { epochs: 1, count: 300 }), '--backend', 'wasm', '--out', path.join(directory, 'runs')], { cwd: directory, encoding: 'utf8', env: { ...process.env, NODE_PATH: '' } });
  assert.equal(trained.status, 0, trained.stderr);
  assert.ok(existsSync(path.join(trained.stdout.trim(), 'summary.json')));
  if (addon.length > 0) {
    // The packaged addon carries OpenBLAS inside (a static link): it needs no libopenblas on the person's machine.
    const packagedAddon = path.join(extension, 'dist', 'native', 'latent_lab_native.node');
    const needed = spawnSync('ldd', [packagedAddon], { encoding: 'utf8' });
    if (needed.status === 0) assert.doesNotMatch(needed.stdout, /openblas/i, needed.stdout);
    const native = spawnSync(process.execPath, [cli, 'run', tinyExperiment(directory, { epochs: 1, count: 300 }), '--backend', 'native', '--out', path.join(directory, 'runs')], { cwd: directory, encoding: 'utf8', env: { ...process.env, NODE_PATH: '' } });
    assert.equal(native.status, 0, native.stderr);
    assert.match(native.stderr, /on native/, native.stderr);
  }
  // This machine has only a software Vulkan adapter: the packaged Dawn must load and say so.
  const webgpu = spawnSync(process.execPath, [cli, 'run', tinyExperiment(directory, { epochs: 1, count: 300 }), '--backend', 'webgpu', '--out', path.join(directory, 'runs')], { cwd: directory, encoding: 'utf8' });
  assert.doesNotMatch(webgpu.stderr, /needs the optional "webgpu" package/, webgpu.stderr);
  assert.ok(webgpu.status === 0 ? /on webgpu/.test(webgpu.stderr) : /adapter/.test(webgpu.stderr), webgpu.stderr);
});
