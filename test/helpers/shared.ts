import { existsSync } from 'node:fs';
import path from 'node:path';

/** The read-only datasets beside the repository (../shared/data); tests skip when it is absent. */
export const SHARED_DATA = path.resolve(__dirname, '..', '..', '..', 'shared', 'data');

export function sharedData(...parts: string[]): string | undefined {
  const target = path.join(SHARED_DATA, ...parts);
  return existsSync(target) ? target : undefined;
}

export function skipMessage(...parts: string[]): string {
  return `${path.join(SHARED_DATA, ...parts)} is absent: this test needs the shared datasets beside the repository`;
}
