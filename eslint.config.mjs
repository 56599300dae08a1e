import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.aexp/**', '.cache/**', 'artifacts/**', '.test-tmp/**', '.scratch/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.mjs', '**/*.cjs', 'bin/**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', require: 'readonly', __dirname: 'readonly', fetch: 'readonly', setTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'separate-type-imports' }],
    },
  },
  {
    // The engine runs headless (CLI, child process): it must never reach for the editor or the browser.
    files: ['runtime/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: 'runtime/ must not depend on vscode; talk to the extension through runtime/protocol.ts.' }],
        patterns: [
          { group: ['**/extension/**', '../extension/*'], message: 'runtime/ must not import extension code.' },
          { group: ['**/webview/**', '../webview/*'], message: 'runtime/ must not import webview code.' },
        ],
      }],
      'no-restricted-globals': ['error', 'window', 'document', 'navigator'],
    },
  },
  {
    // The extension host must stay light and responsive: it talks to the engine only through the
    // runtime process, and may use the pure format modules (parser, schema) but never TF.js.
    files: ['extension/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['@tensorflow/*'], message: 'TF.js runs in the runtime process, never in the extension host.' },
          { group: ['../runtime/*', '!../runtime/protocol', '!../runtime/cells', '!../runtime/run-folder', '!../runtime/views-data', '!../runtime/run-lock', '!../runtime/format', '!../runtime/backends', '../runtime/backends/*', '!../runtime/backends/names', '!../runtime/data', '../runtime/data/*', '!../runtime/data/cache'], message: 'extension/ may import only runtime/protocol, runtime/cells, runtime/run-folder, runtime/views-data, runtime/run-lock (readRunLock), runtime/backends/names, runtime/data/cache and runtime/format/*.' },
          { group: ['**/webview/**', '../webview/*'], message: 'extension/ must not import webview code; use a protocol module.' },
        ],
      }],
    },
  },
  {
    // Browser code (notebook renderers, panels): it runs in a webview, where neither the editor's API
    // nor Node exists. It knows the host only through the protocol modules, and only their types.
    files: ['webview/**/*.ts'],
    languageOptions: { globals: { window: 'readonly', document: 'readonly', getComputedStyle: 'readonly', URL: 'readonly', Blob: 'readonly', MutationObserver: 'readonly' } },
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: 'webview/ runs in a browser: talk to the extension through extension/renderer-protocol.ts.' }],
        patterns: [
          { group: ['node:*', 'fs', 'path', 'os', 'child_process', 'crypto', 'worker_threads'], message: 'webview/ runs in a browser: no Node modules.' },
          { group: ['**/extension/*', '!**/extension/renderer-protocol', '!**/extension/images-protocol', '!**/extension/runs-panel-protocol', '!**/extension/explorer-protocol', '**/runtime/*', '!**/runtime/protocol'], message: 'webview/ may import only the protocol modules (extension/renderer-protocol, extension/images-protocol, extension/runs-panel-protocol, extension/explorer-protocol, runtime/protocol), and only their types.' },
          { group: ['**/extension/renderer-protocol', '**/extension/images-protocol', '**/runtime/protocol'], allowTypeImports: true, message: 'protocol modules are imported with `import type` only.' },
        ],
      }],
    },
  },
);
