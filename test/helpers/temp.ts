import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';

/** A fresh folder on disk, removed when the test file ends. */
export function temporaryDirectory(prefix = 'aexp-test-'): string {
  const directory = mkdtempSync(path.join(os.tmpdir(), prefix));
  after(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}
