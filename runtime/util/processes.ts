/**
 * Whether a process of this host still runs, for deciding that a lock or a temporary file was left
 * behind by a process that died (a kill, a crash, a power cut).
 */
import { readFileSync } from 'node:fs';

/**
 * True while `pid` names a running process on this host. A process of another user counts as
 * running (EPERM); a zombie (killed, not yet reaped by its parent) counts as dead.
 */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return readProcessStat(pid)?.state !== 'Z';
}

/**
 * When `pid` started, in clock ticks since boot (Linux only; undefined elsewhere or when it does
 * not run). Stored next to a pid so that a later process given the same pid is not mistaken for it.
 */
export function processStartTicks(pid: number): number | undefined {
  return readProcessStat(pid)?.startTicks;
}

function readProcessStat(pid: number): { state: string; startTicks: number } | undefined {
  if (process.platform !== 'linux') return undefined;
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: the fields after it follow the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const startTicks = Number(fields[19]);
  return { state: fields[0], startTicks };
}
