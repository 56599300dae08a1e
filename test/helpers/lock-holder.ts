/**
 * A child process for tests: on the line `go` from stdin, tries to take a run folder's lock and
 * prints one JSON line, {"won":true} or {"refused":"<message>"}. A winner holds the lock until
 * its stdin closes, then exits without calling release (the exit hook must free the folder).
 * Usage: node --import tsx test/helpers/lock-holder.ts <folder> <heartbeatMs> <staleAfterMs> <takeoverPauseMs>
 */
import { createInterface } from 'node:readline';
import { RunLockedError, acquireRunLock } from '../../runtime/run-lock';

const [folder, heartbeatMs, staleAfterMs, takeoverPauseMs] = process.argv.slice(2);
const lines = createInterface({ input: process.stdin });
process.stdout.write('ready\n');
lines.on('line', (line) => {
  if (line !== 'go') return;
  try {
    acquireRunLock(folder, { heartbeatMs: Number(heartbeatMs), staleAfterMs: Number(staleAfterMs), takeoverPauseMs: Number(takeoverPauseMs) });
    process.stdout.write(`${JSON.stringify({ won: true })}\n`);
  } catch (error) {
    if (!(error instanceof RunLockedError)) throw error;
    process.stdout.write(`${JSON.stringify({ refused: error.message })}\n`);
    process.exit(0);
  }
});
lines.on('close', () => process.exit(0));
