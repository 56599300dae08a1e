/**
 * The test runner VS Code loads (extensionTestsPath): mocha over the compiled suites beside it.
 * LATENT_LAB_TEST_SUITE picks the suite: the trusted instance runs notebook.test.js, the instance
 * started without --disable-workspace-trust runs untrusted.test.js.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import Mocha from 'mocha';

export function run(): Promise<void> {
  // LATENT_LAB_TEST_GREP (through scripts/test-vscode.mjs) runs only the tests whose names match.
  const mocha = new Mocha({ ui: 'tdd', timeout: 180_000, color: false, reporter: 'spec', ...(process.env.LATENT_LAB_TEST_GREP ? { grep: process.env.LATENT_LAB_TEST_GREP } : {}) });
  const wanted = process.env.LATENT_LAB_TEST_SUITE ?? 'notebook';
  for (const file of readdirSync(__dirname).filter((name) => name === `${wanted}.test.js`)) mocha.addFile(path.join(__dirname, file));
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} test(s) failed`)) : resolve()));
  });
}
