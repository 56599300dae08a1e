/**
 * The repository stands alone: no comment or doc sends a reader to the project's design notes or
 * dataset notes, which live outside it. A fact they hold is stated where it is used, or the text
 * points at something inside the repository (a README section, a test).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const root = path.resolve(__dirname, '..', '..');
// Spelled so that this file's own text does not match it.
const OUTSIDE_DOCUMENT = /\b(?:BACKENDS|MODELS|DESIGN|VIEWS|SCALE|SOURCES)\.md\b|VSCODE[-_]TESTING|shared\/docs/;

test('no tracked file names a document outside the repository', () => {
  const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' }).split('\0').filter(Boolean);
  assert.ok(tracked.length > 0, 'git ls-files lists the repository');
  const offending: string[] = [];
  for (const file of tracked) {
    const absolute = path.join(root, file);
    if (!existsSync(absolute)) continue;
    const bytes = readFileSync(absolute);
    if (bytes.includes(0)) continue;
    bytes.toString('utf8').split('\n').forEach((line, index) => {
      const match = OUTSIDE_DOCUMENT.exec(line);
      if (match) offending.push(`${file}:${index + 1}: ${match[0]}`);
    });
  }
  assert.deepEqual(offending, [], `these lines point outside the repository; state the fact instead:\n${offending.join('\n')}`);
});
