/**
 * Which processes a pid can be checked for. A host name alone does not say: containers sharing a
 * volume often share a host name too, yet each sees its own pids (another container's live
 * process looks dead from here). So "this host" means the same host name, the same boot of the
 * same kernel (`/proc/sys/kernel/random/boot_id`) and the same PID namespace
 * (`/proc/self/ns/pid`); only a process with this identity may be judged by its pid. Where the
 * two files do not exist (not Linux), the host name is all there is.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import os from 'node:os';

export const HOST_NAME = os.hostname();

/** A short hash of the host name, boot id and PID namespace: equal for processes that see each other's pids. */
export const HOST_IDENTITY = createHash('sha256').update([HOST_NAME, readOrEmpty(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()), readOrEmpty(() => readlinkSync('/proc/self/ns/pid'))].join('\n')).digest('hex').slice(0, 16);

function readOrEmpty(read: () => string): string {
  try {
    return read();
  } catch {
    return '';
  }
}
