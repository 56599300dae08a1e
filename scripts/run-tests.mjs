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
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
