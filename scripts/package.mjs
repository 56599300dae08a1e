// Builds the .vsix: bundled (no node_modules), with the runtime bundle and its wasm files. The
// `webgpu` package carries Dawn binaries for five platforms (132 MB), so each .vsix is made for one
// target (vsce --target) and carries only that platform's binary, beside the runtime bundle
// (runtime/backends/select.ts looks there first). A universal .vsix without WebGPU covers other platforms.
//
//   npm run package                 this machine's platform
//   npm run package -- linux-arm64  one target
//   npm run package -- --all        every target, plus the universal one
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const staging = path.join(root, '.package');
const out = path.join(root, 'artifacts', 'package');
const version = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version;

/** vsce target → the webgpu package's binary folder. */
const WEBGPU_BINARIES = {
  'linux-x64': 'linux-x64',
  'linux-arm64': 'linux-arm64',
  'darwin-x64': 'darwin-universal',
  'darwin-arm64': 'darwin-universal',
  'win32-x64': 'win32-x64',
  'win32-arm64': 'win32-arm64',
};

const args = process.argv.slice(2);
const requested = args.filter((arg) => !arg.startsWith('--'));
const targets = args.includes('--all') ? [...Object.keys(WEBGPU_BINARIES), 'universal'] : requested.length ? requested : [`${process.platform}-${process.arch}`];
for (const target of targets) {
  if (target !== 'universal' && !WEBGPU_BINARIES[target]) {
    console.error(`unknown target ${target}: one of ${Object.keys(WEBGPU_BINARIES).join(', ')}, universal`);
    process.exit(2);
  }
}

// --skip-build packages dist/ as it is (the tests do, while other tests use dist/).
if (!args.includes('--skip-build')) for (const script of ['build-native.mjs', 'build.mjs']) execFileSync(process.execPath, [path.join(root, 'scripts', script)], { stdio: 'inherit' });
else if (!existsSync(path.join(root, 'dist', 'extension', 'extension.js'))) throw new Error('dist/ is missing: run npm run build');
mkdirSync(out, { recursive: true });
const vsce = path.join(path.dirname(require.resolve('@vscode/vsce/package.json')), 'vsce');
const withoutMaps = (source) => !source.endsWith('.map');

const sizes = [];
for (const target of targets) {
  const stage = path.join(staging, target);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  for (const name of ['package.json', 'README.md', '.vscodeignore', 'media']) cpSync(path.join(root, name), path.join(stage, name), { recursive: true });
  for (const part of ['extension', 'runtime', 'native', 'webview']) {
    if (existsSync(path.join(root, 'dist', part))) cpSync(path.join(root, 'dist', part), path.join(stage, 'dist', part), { recursive: true, filter: withoutMaps });
  }
  // The native addon is built here, for this machine's platform: only that package carries it.
  if (target !== `${process.platform}-${process.arch}`) rmSync(path.join(stage, 'dist', 'native'), { recursive: true, force: true });
  // The wasm backend runs single-threaded in Node: the threaded binary is never loaded.
  rmSync(path.join(stage, 'dist', 'runtime', 'tfjs-backend-wasm-threaded-simd.wasm'), { force: true });
  if (target !== 'universal') {
    const webgpu = path.dirname(require.resolve('webgpu/package.json'));
    const binaries = path.join(webgpu, 'dist', WEBGPU_BINARIES[target]);
    if (!existsSync(binaries)) throw new Error(`the webgpu package has no ${WEBGPU_BINARIES[target]} binaries at ${binaries}`);
    const destination = path.join(stage, 'dist', 'webgpu');
    for (const name of ['index.js', 'package.json', 'LICENSE.md']) cpSync(path.join(webgpu, name), path.join(destination, name));
    cpSync(binaries, path.join(destination, 'dist', WEBGPU_BINARIES[target]), { recursive: true });
  }
  const file = path.join(out, target === 'universal' ? `latent-lab-${version}.vsix` : `latent-lab-${version}-${target}.vsix`);
  execFileSync(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--skip-license', ...(target === 'universal' ? [] : ['--target', target]), '--out', file], { cwd: stage, stdio: 'inherit' });
  const unpacked = readdirSync(stage, { recursive: true }).map((name) => path.join(stage, name)).filter((name) => statSync(name).isFile()).reduce((sum, name) => sum + statSync(name).size, 0);
  sizes.push({ target, file: path.relative(root, file), vsix: statSync(file).size, unpacked });
}
rmSync(staging, { recursive: true, force: true });
const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
console.log('\n.vsix sizes:');
for (const { target, file, vsix, unpacked } of sizes) console.log(`  ${target.padEnd(12)} ${mb(vsix).padStart(8)} (staged ${mb(unpacked)})  ${file}`);
