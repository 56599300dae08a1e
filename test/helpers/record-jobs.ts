/**
 * A child process for tests: prints `ready`, and on the line `go` from stdin records `count` jobs
 * in a sweep's folder (job ids `<prefix>-0` … `<prefix>-<count - 1>`), as that many `aexp sweep
 * --slurm` submissions would, then prints `done` and exits.
 * Usage: node --import tsx test/helpers/record-jobs.ts <sweep folder> <prefix> <count>
 */
import { createInterface } from 'node:readline';
import { recordJob } from '../../runtime/sweep/sweep-folder';

const [folder, prefix, count] = process.argv.slice(2);
const lines = createInterface({ input: process.stdin });
process.stdout.write('ready\n');
lines.on('line', (line) => {
  if (line !== 'go') return;
  for (let index = 0; index < Number(count); index++) recordJob(folder, { jobId: `${prefix}-${index}`, indices: [index], submitted: new Date().toISOString(), script: 'sweep.sbatch' });
  process.stdout.write('done\n');
  process.exit(0);
});
