/**
 * A real one-node Slurm cluster for a test file: munge (when none runs yet), slurmctld and slurmd
 * on this machine, as root, with every file of theirs in a temporary folder and their own ports. useSlurmCluster starts it in
 * the test file's `before` and stops it in its `after` by the pids it wrote (never by name).
 * Without root or Slurm's binaries it is a skip reason.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';

export interface SlurmCluster {
  /** The environment Slurm's commands need (SLURM_CONF). */
  env: NodeJS.ProcessEnv;
  folder: string;
}

const INSTALL = 'the Slurm test needs root and Slurm: apt-get install -y slurmctld slurmd slurm-client munge';
const MUNGE_PID = '/run/munge/munged.pid';

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` } }).status === 0;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function pidIn(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(condition: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function stopByPid(pid: number | undefined): Promise<void> {
  if (pid === undefined || !alive(pid)) return;
  process.kill(pid, 'SIGTERM');
  await waitFor(() => !alive(pid), `process ${pid} to stop`, 30_000).catch(() => process.kill(pid, 'SIGKILL'));
}

/**
 * For a test file: the cluster started before its tests and stopped after them. The getter gives
 * the cluster, or the one line saying why there is none (what to install) for `context.skip`.
 */
export function useSlurmCluster(): () => SlurmCluster | string {
  let cluster: SlurmCluster | string = 'the Slurm cluster was not started';
  const stops: (() => Promise<void>)[] = [];
  before(async () => {
    cluster = await startSlurmCluster(stops);
  });
  after(async () => {
    for (const stop of stops.reverse()) await stop();
  });
  return () => cluster;
}

/** Starts the cluster, or returns why it cannot; `stops` receives what stops each part, in order. */
async function startSlurmCluster(stops: (() => Promise<void>)[]): Promise<SlurmCluster | string> {
  if (process.getuid?.() !== 0) return INSTALL.replace('needs root and Slurm', 'runs as root only (it starts slurmctld and slurmd)');
  const missing = ['munged', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'scontrol', 'scancel'].filter((command) => !onPath(command));
  if (missing.length > 0) return `${INSTALL} (missing: ${missing.join(', ')})`;
  const sbin = { PATH: `${process.env.PATH}:/usr/sbin:/sbin` };

  // munge: one per machine; a running one is used and left running.
  if (!(pidIn(MUNGE_PID) !== undefined && alive(pidIn(MUNGE_PID)!))) {
    mkdirSync('/run/munge', { recursive: true });
    spawnSync('chown', ['-R', 'munge:munge', '/etc/munge', '/var/lib/munge', '/var/log/munge', '/run/munge']);
    const started = spawnSync('su', ['-s', '/bin/sh', 'munge', '-c', 'munged'], { encoding: 'utf8', env: { ...process.env, ...sbin } });
    if (started.status !== 0) return `munged did not start (${started.stderr.trim()}); ${INSTALL}`;
    const pid = pidIn(MUNGE_PID);
    stops.push(() => stopByPid(pid));
  }

  const folder = mkdtempSync(path.join(os.tmpdir(), 'slurm-'));
  for (const name of ['state', 'spool', 'log']) mkdirSync(path.join(folder, name));
  const host = os.hostname();
  const conf = path.join(folder, 'slurm.conf');
  writeFileSync(conf, [
    'ClusterName=lab',
    `SlurmctldHost=${host}`,
    `SlurmctldPort=${await freePort()}`,
    `SlurmdPort=${await freePort()}`,
    'SlurmUser=root',
    'SlurmdUser=root',
    `StateSaveLocation=${folder}/state`,
    `SlurmdSpoolDir=${folder}/spool`,
    `SlurmctldPidFile=${folder}/slurmctld.pid`,
    `SlurmdPidFile=${folder}/slurmd.pid`,
    `SlurmctldLogFile=${folder}/log/ctld.log`,
    `SlurmdLogFile=${folder}/log/d.log`,
    'ProctrackType=proctrack/linuxproc',
    'TaskPlugin=task/none',
    'AuthType=auth/munge',
    'SchedulerType=sched/backfill',
    'SelectType=select/cons_tres',
    'SelectTypeParameters=CR_Core',
    'ReturnToService=2',
    // Ended jobs stay in scontrol's memory long enough for the test to ask how they ended.
    'MinJobAge=600',
    `NodeName=${host} CPUs=${os.availableParallelism()} RealMemory=${Math.floor((os.totalmem() / 1024 ** 2) * 0.8)} State=UNKNOWN`,
    `PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP`,
    '',
  ].join('\n'));
  const env = { ...process.env, ...sbin, SLURM_CONF: conf };
  const cluster: SlurmCluster = { env, folder };
  stops.push(async () => {
    await stopByPid(pidIn(path.join(folder, 'slurmctld.pid')));
    await stopByPid(pidIn(path.join(folder, 'slurmd.pid')));
    rmSync(folder, { recursive: true, force: true });
  });
  for (const daemon of ['slurmctld', 'slurmd']) {
    const started = spawnSync(daemon, ['-f', conf], { encoding: 'utf8', env });
    if (started.status !== 0) throw new Error(`${daemon} did not start: ${started.stderr.trim()} (see ${folder}/log)`);
  }
  await waitFor(() => spawnSync('sinfo', ['-h', '-o', '%t'], { encoding: 'utf8', env }).stdout?.trim() === 'idle', 'the Slurm node to be idle', 60_000);
  return cluster;
}

