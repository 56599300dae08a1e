// Builds the native addon (native/, N-API + BLAS) with node-gyp when its sources changed. The
// `native` backend is optional: when the build cannot run (no C++ compiler, no OpenBLAS headers)
// this says so in one line and succeeds, unless AEXP_REQUIRE_NATIVE=1 (CI) makes it an error.
// On Debian, as root, it installs libopenblas-dev with apt when the headers are missing.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const native = path.join(root, 'native');
const output = path.join(native, 'build', 'Release', 'latent_lab_native.node');
const required = process.env.AEXP_REQUIRE_NATIVE === '1';

function giveUp(message) {
  if (required) {
    console.error(`native addon: ${message}`);
    process.exit(1);
  }
  console.log(`native addon not built (the native backend will be unavailable): ${message}`);
  process.exit(0);
}

const sources = [path.join(native, 'binding.gyp'), ...readdirSync(path.join(native, 'src')).map((name) => path.join(native, 'src', name))];
if (existsSync(output) && sources.every((source) => statSync(source).mtimeMs <= statSync(output).mtimeMs)) process.exit(0);

if (process.platform === 'linux') {
  const headers = ['/usr/include/cblas.h', '/usr/include/x86_64-linux-gnu/cblas.h', '/usr/include/aarch64-linux-gnu/cblas.h', '/usr/include/openblas/cblas.h'];
  if (!headers.some((file) => existsSync(file))) {
    const canApt = process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
    if (!canApt) giveUp('it needs OpenBLAS: sudo apt-get install libopenblas-dev, then npm run build:native');
    console.log('installing libopenblas-dev with apt-get for the native addon');
    const install = () => spawnSync('apt-get', ['install', '-y', '-q', 'libopenblas-dev'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
    if (!install() && !(spawnSync('apt-get', ['update', '-q'], { stdio: 'ignore' }).status === 0 && install())) giveUp('apt-get could not install libopenblas-dev');
  }
}

// Node's own headers: npm passes its nodedir setting; run directly, use the ones beside this node.
const nodedir = process.env.npm_config_nodedir || (existsSync(path.resolve(process.execPath, '..', '..', 'include', 'node', 'node_api.h')) ? path.resolve(process.execPath, '..', '..') : undefined);
const nodeGyp = path.join(path.dirname(createRequire(import.meta.url).resolve('node-gyp/package.json')), 'bin', 'node-gyp.js');
try {
  execFileSync(process.execPath, [nodeGyp, 'rebuild', '--silent', ...(nodedir ? [`--nodedir=${nodedir}`] : [])], { cwd: native, stdio: ['ignore', 'inherit', 'inherit'] });
} catch (error) {
  giveUp(`node-gyp failed (${error.message.split('\n')[0]})`);
}
console.log(`native addon built: ${path.relative(root, output)}`);
