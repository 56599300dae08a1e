// Bundles the runtime (CLI + IPC server) with esbuild and copies the wasm binaries next to the bundle,
// because the wasm backend looks for them beside the script that loads it.
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'dist', 'runtime');
mkdirSync(out, { recursive: true });

/** What every bundle shares: Node, CommonJS, sources resolved from the repository root. */
const node = { absWorkingDir: root, bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'warning' };

await esbuild.build({
  ...node,
  entryPoints: { cli: 'runtime/cli.ts', server: 'runtime/server.ts', 'inference-worker': 'runtime/inference/worker.ts', 'explore-umap': 'runtime/explore-umap.ts' },
  outdir: out,
  sourcemap: true,
  // TF.js registers backends, kernels and gradients by side-effect imports that its package.json
  // files mark as side-effect free; honouring that would drop the cpu backend and all gradients.
  ignoreAnnotations: true,
  // Optional native backends: loaded only where a person installed them.
  external: ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'webgpu'],
});

// The extension host side: one CommonJS bundle; `vscode` is provided by the editor.
await esbuild.build({
  ...node,
  entryPoints: { extension: 'extension/extension.ts' },
  outdir: path.join(root, 'dist', 'extension'),
  sourcemap: true,
  external: ['vscode'],
});

// Browser code: the notebook renderers are ES modules (VS Code loads them with import()); the
// panels' and the side-bar view's pages load as modules too.
await esbuild.build({
  absWorkingDir: root,
  bundle: true,
  platform: 'browser',
  target: 'es2022',
  format: 'esm',
  logLevel: 'warning',
  entryPoints: { chart: 'webview/chart/renderer.ts', images: 'webview/images/renderer.ts', runs: 'webview/runs/main.ts', explorer: 'webview/explorer/main.ts' },
  outdir: path.join(root, 'dist', 'webview'),
  sourcemap: true,
  minify: true,
  // Icons (codicons) go into the page as inline SVG: bundled as text.
  loader: { '.svg': 'text' },
});

// Integration tests that run inside VS Code (scripts/test-vscode.mjs loads them there).
const suites = readdirSync(path.join(root, 'test', 'vscode')).filter((name) => name.endsWith('.ts')).map((name) => `test/vscode/${name}`);
await esbuild.build({
  ...node,
  entryPoints: suites,
  outdir: path.join(root, 'dist', 'test', 'vscode'),
  sourcemap: true,
  external: ['vscode', 'mocha'],
});

// The throughput benchmark, bundled so that it can run on a GPU machine without the sources.
await esbuild.build({
  ...node,
  entryPoints: { throughput: 'bench/throughput/ours.ts' },
  outdir: path.join(root, 'dist', 'bench'),
  ignoreAnnotations: true,
  external: ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'webgpu'],
});

// The native addon, when scripts/build-native.mjs could build it, goes beside the runtime bundle.
const addon = path.join(root, 'native', 'build', 'Release', 'latent_lab_native.node');
rmSync(path.join(root, 'dist', 'native'), { recursive: true, force: true });
if (existsSync(addon)) {
  mkdirSync(path.join(root, 'dist', 'native'), { recursive: true });
  copyFileSync(addon, path.join(root, 'dist', 'native', 'latent_lab_native.node'));
}

const require = createRequire(import.meta.url);
const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
for (const file of readdirSync(wasmDir).filter((name) => name.endsWith('.wasm'))) {
  copyFileSync(path.join(wasmDir, file), path.join(out, file));
  copyFileSync(path.join(wasmDir, file), path.join(root, 'dist', 'bench', file));
}
