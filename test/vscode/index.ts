/**
 * The test runner VS Code loads (extensionTestsPath): mocha over the compiled suites beside it.
 * LATENT_LAB_TEST_SUITE picks the suite: the trusted instance runs notebook.test.js, then every other
 * suite but untrusted.test.js, which the instance started without --disable-workspace-trust runs, and
 * reload.test.js, which reloads its window and so has an instance of its own.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import Mocha from 'mocha';

export function run(): Promise<void> {
  // LATENT_LAB_TEST_GREP (through scripts/test-vscode.mjs) runs only the tests whose names match.
  const mocha = new Mocha({ ui: 'tdd', timeout: 180_000, color: false, reporter: 'spec', ...(process.env.LATENT_LAB_TEST_GREP ? { grep: process.env.LATENT_LAB_TEST_GREP } : {}) });
  const wanted = process.env.LATENT_LAB_TEST_SUITE ?? 'notebook';
  // notebook.test.js goes first: it checks that activation alone starts no runtime.
  const others = wanted === 'notebook' ? readdirSync(__dirname).filter((name) => name.endsWith('.test.js') && !['notebook.test.js', 'untrusted.test.js', 'reload.test.js'].includes(name)).sort() : [];
  for (const file of [`${wanted}.test.js`, ...others]) mocha.addFile(path.join(__dirname, file));
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} test(s) failed`)) : resolve()));
  });
}
