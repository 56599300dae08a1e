// Builds the native addon (native/, N-API + BLAS) with node-gyp when its sources changed. The
// `native` backend is optional: when the build cannot run (no C++ compiler, make, Python or OpenBLAS
// headers) this says so in one line, with the command that fixes it, and succeeds, unless
// AEXP_REQUIRE_NATIVE=1 (CI) makes it an error. `npm run demo` runs it first, so a newcomer's first
// training uses the fastest backend the machine has, or is told why not.
// On Debian, as root, it installs libopenblas-dev with apt when the headers are missing.
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, statSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const native = path.join(root, 'native');
const output = path.join(native, 'build', 'Release', 'latent_lab_native.node');
const required = process.env.AEXP_REQUIRE_NATIVE === '1';
const debian = existsSync('/etc/debian_version');

function giveUp(why, fix) {
  const line = `native backend unavailable: ${why}${fix ? ` (${fix}, then npm run build:native)` : ''}`;
  if (required) {
    console.error(line);
    process.exit(1);
  }
  console.log(`${line}; CPU training will use wasm`);
  process.exit(0);
}

/** Whether `name` is an executable on PATH (looked up here: a missing `sh` must not look like a missing compiler). */
function hasCommand(name) {
  const suffixes = process.platform === 'win32' ? ['.exe', '.cmd', '.bat', ''] : [''];
  for (const folder of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    for (const suffix of suffixes) {
      try {
        accessSync(path.join(folder, name + suffix), constants.X_OK);
        return true;
      } catch {
        // not in this folder
      }
    }
  }
  return false;
}

/** The system package that provides something, as a command for this system, or a plain description. */
function install(debianPackages, otherwise) {
  return debian ? `sudo apt install ${debianPackages}` : otherwise;
}

/** What node-gyp needs besides Node: checked first, because its own failure is a page of log. */
function checkToolchain() {
  if (process.platform === 'win32') return;
  if (process.platform === 'darwin') {
    if (!hasCommand('c++') || !hasCommand('make')) giveUp('the Xcode command line tools are not installed', 'xcode-select --install');
    return;
  }
  // gyp's Makefiles compile with $CXX, make's default being g++.
  const compiler = process.env.CXX?.trim().split(/\s+/)[0] || 'g++';
  if (!hasCommand(compiler)) giveUp(`the C++ compiler ${compiler} is not installed`, install('build-essential', 'install g++ and make'));
  if (!hasCommand('make')) giveUp('make is not installed', install('build-essential', 'install make'));
  const python = process.env.npm_config_python || process.env.PYTHON;
  if (!(python ? existsSync(python) || hasCommand(python) : hasCommand('python3') || hasCommand('python'))) giveUp('node-gyp needs Python 3, which is not installed', install('python3', 'install Python 3'));
}

function checkBlas() {
  if (process.platform !== 'linux') return;
  const headers = ['/usr/include/cblas.h', '/usr/include/x86_64-linux-gnu/cblas.h', '/usr/include/aarch64-linux-gnu/cblas.h', '/usr/include/openblas/cblas.h'];
  if (headers.some((file) => existsSync(file))) return;
  const canApt = process.getuid?.() === 0 && hasCommand('apt-get');
  if (!canApt) giveUp('libopenblas-dev is not installed', install('libopenblas-dev', 'install OpenBLAS with its headers'));
  console.log('installing libopenblas-dev with apt-get for the native addon');
  const aptInstall = () => spawnSync('apt-get', ['install', '-y', '-q', 'libopenblas-dev'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
  if (!aptInstall() && !(spawnSync('apt-get', ['update', '-q'], { stdio: 'ignore' }).status === 0 && aptInstall())) giveUp('apt-get could not install libopenblas-dev', 'sudo apt install libopenblas-dev');
}

const sources = [path.join(native, 'binding.gyp'), ...readdirSync(path.join(native, 'src')).map((name) => path.join(native, 'src', name))];
if (existsSync(output) && sources.every((source) => statSync(source).mtimeMs <= statSync(output).mtimeMs)) process.exit(0);

checkToolchain();
checkBlas();

// Node's own headers: npm passes its nodedir setting; run directly, use the ones beside this node.
const nodedir = process.env.npm_config_nodedir || (existsSync(path.resolve(process.execPath, '..', '..', 'include', 'node', 'node_api.h')) ? path.resolve(process.execPath, '..', '..') : undefined);
let nodeGyp;
try {
  nodeGyp = path.join(path.dirname(createRequire(import.meta.url).resolve('node-gyp/package.json')), 'bin', 'node-gyp.js');
} catch {
  giveUp('node-gyp, a development dependency, is not installed', 'npm ci');
}
console.log('building the native addon (C++ with OpenBLAS; again only when native/ changes)');
try {
  execFileSync(process.execPath, [nodeGyp, 'rebuild', '--silent', ...(nodedir ? [`--nodedir=${nodedir}`] : [])], { cwd: native, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
} catch (error) {
  const log = `${error.stdout ?? ''}\n${error.stderr ?? ''}`;
  if (required) console.error(log);
  const first = log.split('\n').find((line) => /error/i.test(line))?.trim() ?? error.message.split('\n')[0];
  giveUp(`node-gyp could not build it: ${first}`, undefined);
}
console.log(`native addon built: ${path.relative(root, output)}`);
