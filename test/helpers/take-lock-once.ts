/**
 * A child process for tests: tries once to take a run folder's lock and prints one line, `won` or
 * the error's message, then exits (releasing a lock it won). A parent can give it a time limit,
 * so that an attempt that never returns fails the test instead of hanging it.
 * Usage: node --import tsx test/helpers/take-lock-once.ts <folder>
 */
import { acquireRunLock } from '../../runtime/run-lock';

try {
  acquireRunLock(process.argv[2]).release();
  process.stdout.write('won\n');
} catch (error) {
  process.stdout.write(`${(error as Error).message}\n`);
}
