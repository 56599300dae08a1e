// Runs the extension's integration tests inside a real VS Code: code-server from npm, driven by
// Debian's Chromium through playwright-core (the VS Code test packages download from hosts CI cannot reach). Two instances:
// one trusting the workspace (the main suite), one not (the untrusted-workspace suite).
// Screenshots land in artifacts/vscode/. scripts/setup-code-server.sh installs what this needs.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { format } from 'node:util';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tools = path.join(root, '.vscode-test');
const node24 = path.join(tools, 'node-24.21.0', 'bin');
const codeServer = path.join(tools, 'code-server', 'lib', 'node_modules', 'code-server', 'out', 'node', 'entry.js');
// bench/views runs its own suites (the folder of their compiled index.js) in the trusted instance only, with its own artifacts folder.
const suites = process.env.LATENT_LAB_VSCODE_SUITES ? path.resolve(process.env.LATENT_LAB_VSCODE_SUITES) : path.join(root, 'dist', 'test', 'vscode');
const artifacts = process.env.LATENT_LAB_VSCODE_ARTIFACTS ? path.resolve(process.env.LATENT_LAB_VSCODE_ARTIFACTS) : path.join(root, 'artifacts', 'vscode');
const scratch = path.join(root, '.test-tmp', `vscode-${process.pid}`);
const TIMEOUT_MS = 15 * 60 * 1000;

for (const [what, where] of [['code-server', codeServer], ['Node 24', path.join(node24, 'node')], ['Chromium', '/usr/bin/chromium'], ['the extension bundle', path.join(root, 'dist', 'extension', 'extension.js')]]) {
  if (!existsSync(where)) {
    console.error(`test:vscode needs ${what} at ${where}: run bash scripts/setup-code-server.sh and npm run build`);
    process.exit(1);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

function makeWorkspace() {
  const workspace = path.join(scratch, 'workspace');
  mkdirSync(workspace, { recursive: true });
  for (const name of readdirSync(path.join(root, 'samples')).filter((file) => file.endsWith('.aexp'))) cpSync(path.join(root, 'samples', name), path.join(workspace, name));
  const experiment = (title, epochs, count, modelExtra = '') => `---\ntitle: ${title}\nseed: 3\n---\n\n# ${title}\n\n\`\`\`data\ndataset: sprites\nsize: 16\ncount: ${count}\nbatch: 32\n\`\`\`\n\n\`\`\`model\nkind: vae\nlatent: 4\nencoder: [dense 64 relu]\n${modelExtra}\`\`\`\n\n\`\`\`train\nepochs: ${epochs}\n\`\`\`\n\n\`\`\`reconstruct\ncount: 8\n\`\`\`\n`;
  writeFileSync(path.join(workspace, 'tiny.aexp'), experiment('Tiny', 1, 600));
  writeFileSync(path.join(workspace, 'long.aexp'), experiment('Long', 200, 6000));
  writeFileSync(path.join(workspace, 'broken.aexp'), experiment('Broken', 1, 600).replace('latent: 4\n', 'latnet: 4\n'));
  return workspace;
}

async function waitForHealth(port, child) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error('code-server did not answer /healthz within 60 s');
}

async function runInstance(workspace, { suite, trusted }) {
  const port = await freePort();
  const home = path.join(scratch, `home-${suite}`);
  mkdirSync(home, { recursive: true });
  const configFile = path.join(home, 'config.yaml');
  writeFileSync(configFile, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  const flags = ['--config', configFile, '--user-data-dir', path.join(home, 'user-data'), '--extensions-dir', path.join(home, 'extensions'), '--disable-telemetry', '--disable-update-check', '--disable-getting-started-override', '--ignore-last-opened', '--vscode-option', 'enable-smoke-test-driver'];
  if (trusted) flags.push('--disable-workspace-trust');
  const env = {
    ...process.env,
    PATH: `${node24}${path.delimiter}${process.env.PATH}`,
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_DATA_HOME: path.join(home, '.local', 'share'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    // Backend verdicts and datasets: keep the person's real cache out of the tests.
    AEXP_CACHE_DIR: path.join(home, 'latent-lab-cache'),
    LATENT_LAB_TEST_SUITE: suite,
    ...(process.env.LATENT_LAB_TEST_GREP ? { LATENT_LAB_TEST_GREP: process.env.LATENT_LAB_TEST_GREP } : {}),
    LATENT_LAB_ARTIFACTS: artifacts,
  };
  const child = spawn(path.join(node24, 'node'), [codeServer, ...flags, workspace], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let serverLog = '';
  child.stdout.on('data', (chunk) => { serverLog += chunk; });
  child.stderr.on('data', (chunk) => { serverLog += chunk; });
  let browser;
  let watcher;
  try {
    await waitForHealth(port, child);
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    let finish;
    const exited = new Promise((resolve) => { finish = resolve; });
    await page.exposeFunction('codeAutomationLog', (type, args) => {
      const line = format(...(Array.isArray(args) ? args : [args]));
      // The workbench's own chatter about accounts and galleries it cannot reach offline is noise here.
      if (/\[AgentHost\]|\[AccountPolicyGate\]|\[ChatModelSelection\]|open-vsx\.org|authentication provider|^\s+at /.test(line)) return;
      process.stdout.write(`${line}\n`);
    });
    await page.exposeFunction('codeAutomationExit', (code) => finish(code));
    // The tests ask for screenshots by writing request-<name>; this answers with <name>.png and done-<name>.
    mkdirSync(artifacts, { recursive: true });
    let busy = false;
    watcher = setInterval(async () => {
      if (busy) return;
      busy = true;
      try {
        for (const request of readdirSync(artifacts).filter((file) => file.startsWith('request-'))) {
          const name = request.slice('request-'.length);
          const body = readFileSync(path.join(artifacts, request), 'utf8');
          let result = 'ok';
          const asked = body ? JSON.parse(body) : undefined;
          if (asked?.evaluate) {
            // An expression run in every frame (notebook outputs live in nested webview frames): the first answer that is not null.
            let answer = { value: null };
            for (const frame of page.frames()) {
              const value = await frame.evaluate(asked.evaluate).catch((error) => ({ error: error.message.split('\n')[0] }));
              if (value === null || value === undefined || (typeof value === 'object' && 'error' in value)) continue;
              answer = { value };
              break;
            }
            result = JSON.stringify(answer);
          } else if (asked) {
            // A click the way a person makes it: on the element whose accessible name starts so.
            const { click, button, press } = asked;
            try {
              if (press) await page.keyboard.press(press);
              else await page.locator(`[aria-label^="${click.replace(/"/g, '\\"')}"]:visible`).first().click({ timeout: 10_000, button: button ?? 'left' });
            } catch (error) {
              result = `could not ${press ? `press ${press}` : `click "${click}"`}: ${error.message.split('\n')[0]}`;
            }
          } else {
            // Let the notebook render the outputs it was just given.
            await new Promise((resolve) => setTimeout(resolve, 1500));
            await page.screenshot({ path: path.join(artifacts, `${name}.png`) });
          }
          unlinkSync(path.join(artifacts, request));
          // Written whole, then renamed: the test reads done-<name> as soon as it exists.
          writeFileSync(path.join(artifacts, `partial-done-${name}`), result);
          renameSync(path.join(artifacts, `partial-done-${name}`), path.join(artifacts, `done-${name}`));
        }
      } catch (error) {
        process.stdout.write(`screenshot failed: ${error.message}\n`);
      } finally {
        busy = false;
      }
    }, 200);
    const remote = (file) => `vscode-remote://127.0.0.1:${port}${file}`;
    const payload = [['extensionDevelopmentPath', remote(root)], ['extensionTestsPath', remote(path.join(suites, 'index.js'))], ['skipWelcome', 'true']];
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
    const timeout = new Promise((resolve) => setTimeout(() => resolve('timeout'), TIMEOUT_MS).unref());
    const code = await Promise.race([exited, timeout]);
    if (code === 'timeout') {
      await page.screenshot({ path: path.join(artifacts, `timeout-${suite}.png`) }).catch(() => undefined);
      throw new Error(`the ${suite} suite did not finish within ${TIMEOUT_MS / 60000} minutes`);
    }
    return code;
  } catch (error) {
    process.stdout.write(`code-server output:\n${serverLog.slice(-4000)}\n`);
    throw error;
  } finally {
    clearInterval(watcher);
    await browser?.close().catch(() => undefined);
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}

rmSync(artifacts, { recursive: true, force: true });
const workspace = makeWorkspace();
let failed = false;
// The reload suite reloads its window, which starts its tests again: an instance of its own.
const instances = [{ suite: 'notebook', trusted: true }, ...(process.env.LATENT_LAB_VSCODE_SUITES ? [] : [{ suite: 'reload', trusted: true }, { suite: 'untrusted', trusted: false }])];
for (const instance of instances) {
  // A repository's own settings naming folders, which an untrusted window must ignore.
  if (!instance.trusted) {
    mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
    writeFileSync(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'latentLab.runsFolder': '../runs-chosen-by-the-repository', 'latentLab.datasetCacheFolder': '../datasets-chosen-by-the-repository' }));
  }
  const started = Date.now();
  process.stdout.write(`\n── ${instance.suite} suite in code-server (${instance.trusted ? 'trusted' : 'untrusted'} workspace) ──\n`);
  const code = await runInstance(workspace, instance);
  process.stdout.write(`── ${instance.suite}: exit ${code} after ${((Date.now() - started) / 1000).toFixed(0)} s ──\n`);
  if (code !== 0) failed = true;
}
for (const file of readdirSync(artifacts).filter((name) => name.startsWith('done-'))) unlinkSync(path.join(artifacts, file));
rmSync(scratch, { recursive: true, force: true });
process.stdout.write(`screenshots: ${readdirSync(artifacts).filter((name) => name.endsWith('.png')).map((name) => path.relative(root, path.join(artifacts, name))).join(', ')}\n`);
process.exit(failed ? 1 : 0);
