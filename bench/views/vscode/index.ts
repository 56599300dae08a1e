/** The runner VS Code loads for the views benchmark (extensionTestsPath): mocha over views.bench.js beside it. */
import path from 'node:path';
import Mocha from 'mocha';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', timeout: 20 * 60_000, color: false, reporter: 'spec' });
  mocha.addFile(path.join(__dirname, 'views.bench.js'));
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} benchmark(s) failed`)) : resolve()));
  });
}
