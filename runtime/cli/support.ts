/** What every `aexp` verb shares: usage errors, argument parsing, and the checks of a run-folder argument. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';

/** The command line itself is wrong: exit status 2. */
export class UsageError extends Error {}

/** A run folder that cannot be used: exit status 1, one line. */
export class RunFolderError extends Error {
  override name = 'RunFolderError';
}

/** parseArgs's own errors (an unknown flag, a flag without its value) are usage errors. */
export function parseArguments<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    if (String((error as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS')) throw new UsageError(`${(error as Error).message.replace(/\. To specify a positional argument.*$/s, '')}; aexp --help shows the usage`);
    throw error;
  }
}

export function isFolder(file: string): boolean {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false;
  }
}

/**
 * A run folder named on the command line, checked before anything reads it: a missing folder or
 * config.json is a usage error, a config.json that does not parse is a broken run folder.
 */
export function checkRunFolder(folder: string, flag: string): void {
  if (!existsSync(folder)) throw new UsageError(`${flag}${folder}: no such run folder`);
  if (!isFolder(folder)) throw new UsageError(`${flag}${folder}: not a folder; give the run folder (it holds config.json)`);
  const config = path.join(folder, 'config.json');
  if (!existsSync(config)) throw new UsageError(`${flag}${folder}: not a run folder (it has no config.json)`);
  try {
    JSON.parse(readFileSync(config, 'utf8'));
  } catch (error) {
    throw new RunFolderError(`${config}: not valid JSON (${(error as Error).message})`);
  }
}

/** A positive whole number given to `flag`, or undefined when absent. */
export function positiveInteger(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!(Number.isInteger(number) && number > 0)) throw new UsageError(`${flag} must be a positive whole number, not "${value}"`);
  return number;
}
