/** Waiting on a child process the tests started: a condition, or the child's exit, whichever comes first. */
import type { ChildProcess } from 'node:child_process';

export function waitForChild(condition: () => boolean, child: ChildProcess, what: string, timeoutMs = 120_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      if (condition()) {
        clearInterval(timer);
        resolve();
      } else if (child.exitCode !== null || Date.now() - started > timeoutMs) {
        clearInterval(timer);
        reject(new Error(`gave up waiting for ${what}`));
      }
    }, 50);
  });
}
