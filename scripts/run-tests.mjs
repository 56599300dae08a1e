// Runs every test/**/*.test.ts with node:test through tsx (Node 20's --test takes no globs).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';

const filter = process.argv.slice(2);
const files = readdirSync('test', { recursive: true })
  .map(String)
  .filter((name) => name.endsWith('.test.ts'))
  // test/vscode/ runs inside VS Code (scripts/test-vscode.mjs), not in plain Node.
  .filter((name) => !name.startsWith(`vscode${path.sep}`))
  .filter((name) => filter.length === 0 || filter.some((part) => name.includes(part)))
  .map((name) => path.join('test', name))
  .sort();
// A filter that matches nothing would otherwise hand node --test no files, and it then runs every test it can find.
if (filter.length > 0 && files.length === 0) {
  process.stderr.write(`no test file under test/ matches ${filter.map((part) => JSON.stringify(part)).join(' or ')} (give a part of its path below test/, e.g. cli/run-verbs)\n`);
  process.exit(2);
}
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
