/**
 * The Latent Explorer's own runtime process. The training runtime's main thread reads its IPC
 * channel only between batches, so a decode sent there waits behind a training step; this one
 * never trains, and answers the explorer alone, on its own thread (no inference worker: that is
 * for a runtime that trains). It is started on the explorer's first request, told the runs
 * folders the explorer lists (it opens run folders inside them only, and writes nothing), started
 * again when that list changes, and stopped when the view goes away or has asked nothing for a
 * while.
 */
import type * as vscode from 'vscode';
import { EXPLORER_RUNTIME_ARGUMENTS, explorerInitialize, explorerRuntimeEnv } from './explorer-runtime-start';
import { RuntimeProcess } from './runtimeProcess';

/** A view that has asked nothing for this long gives its runtime (TF.js, models, datasets) back. */
export const EXPLORER_IDLE_MS = 5 * 60_000;

export interface ExplorerRuntimePlace {
  /** The runtime's working folder: relative settings (the dataset folder) resolve against it. */
  folder: string;
  /** The runs folders the explorer lists; the runtime opens run folders inside them only. */
  roots: string[];
  dataDir?: string;
}

export class ExplorerRuntime implements vscode.Disposable {
  private current: { process: RuntimeProcess; ready: Promise<RuntimeProcess>; roots: string } | undefined;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly serverScript: string, private readonly log: vscode.LogOutputChannel, private readonly place: () => ExplorerRuntimePlace) {}

  /** The explorer's runtime, started if it is not running or its runs folders changed. */
  runtime(): Promise<RuntimeProcess> {
    this.touch();
    const { folder, roots, dataDir } = this.place();
    const key = JSON.stringify(roots);
    if (this.current && !this.current.process.exited && this.current.roots === key) return this.current.ready;
    this.current?.process.dispose();
    if (roots.length === 0) {
      this.current = undefined;
      return Promise.reject(new Error('the Latent Explorer has no runs folder to read: open a workspace folder'));
    }
    const runtimeProcess = new RuntimeProcess(this.serverScript, { cwd: folder, env: explorerRuntimeEnv(), execArgv: EXPLORER_RUNTIME_ARGUMENTS }, this.log);
    const ready = runtimeProcess.request(explorerInitialize(roots, dataDir)).then(() => runtimeProcess, (error: Error) => {
      runtimeProcess.dispose();
      throw error;
    });
    this.current = { process: runtimeProcess, ready, roots: key };
    return ready;
  }

  /** For tests: the explorer runtime's process id, while one runs. */
  get pid(): number | undefined {
    return this.current && !this.current.process.exited ? this.current.process.pid : undefined;
  }

  /** Ends the runtime, if one runs; the next request starts another. */
  stop(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.current?.process.dispose();
    this.current = undefined;
  }

  private touch(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.stop(), EXPLORER_IDLE_MS);
  }

  dispose(): void {
    this.stop();
  }
}
