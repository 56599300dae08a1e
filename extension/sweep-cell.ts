/**
 * The notebook's sweep cell: running it offers to run the sweep here (`aexp sweep`, a queue of
 * runs) or on Slurm (`aexp sweep --slurm`, when `sbatch` is on this machine's PATH: the cluster's
 * login node, under Remote-SSH), and the cell shows one progress line per run until the sweep
 * ends, then the summary table. The CLI bundle beside the extension's does the work, as a child
 * process; stopping the cell stops every run with a checkpoint (or cancels the Slurm jobs).
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import * as vscode from 'vscode';
import type { DisposableStore } from './dispose';

export type SweepTarget = 'here' | 'slurm';

export interface SweepSettings {
  backend?: string;
  dataDir?: string;
}

/** The CLI bundle: dist/runtime/cli.js beside this bundle's dist/extension/. */
const CLI = path.join(__dirname, '..', 'runtime', 'cli.js');
/** How often a Slurm sweep's status is read while the cell shows it. */
const SLURM_POLL_MS = 5000;

function sbatchAvailable(): boolean {
  return spawnSync('sh', ['-c', 'command -v sbatch'], { stdio: 'ignore' }).status === 0;
}

/** The cell's text from the CLI's lines: the first line, the latest line of each run (by index), the sweep's line. */
export class SweepProgress {
  private header: string | undefined;
  private readonly runs = new Map<number, string>();
  private overall: string | undefined;
  private readonly notes: string[] = [];

  add(line: string): void {
    const run = /^run (\d+)\b/.exec(line);
    if (run) this.runs.set(Number(run[1]), line);
    else if (line.startsWith('sweep:')) this.overall = line;
    else if (this.header === undefined) this.header = line;
    else this.notes.push(line);
  }

  text(): string {
    return [this.header, ...[...this.runs].sort(([a], [b]) => a - b).map(([, line]) => line), this.overall, ...this.notes].filter((line): line is string => Boolean(line)).join('\n');
  }
}

export class SweepCells {
  private disposed = false;

  constructor(
    private readonly controller: vscode.NotebookController,
    private readonly settings: () => SweepSettings,
    private readonly runsFolder: (notebook: vscode.NotebookDocument) => string,
    private readonly log: vscode.LogOutputChannel,
    store: DisposableStore,
  ) {
    // A Slurm sweep's status is polled until its tasks end: the poll stops when the extension does.
    store.add({ dispose: () => (this.disposed = true) });
    store.add(vscode.commands.registerCommand('latentLab.runSweep', (cell?: vscode.NotebookCell, target?: SweepTarget) => {
      const notebook = vscode.window.activeNotebookEditor?.notebook;
      const chosen = cell ?? notebook?.getCells().find((candidate) => (candidate.metadata.aexp as { kind?: string } | undefined)?.kind === 'sweep');
      if (!chosen) {
        // From the command palette: say why nothing starts.
        void vscode.window.showInformationMessage(notebook ? `Latent Lab: ${path.basename(notebook.uri.fsPath)} has no sweep cell (a \`\`\`sweep cell with grid, random or seeds).` : 'Latent Lab: Run Sweep runs the sweep cell of the notebook in the active editor; open one first.');
        return undefined;
      }
      return target ? this.start(chosen, target) : this.offer(chosen);
    }));
  }

  /** Asks where to run the sweep (Slurm offered only where sbatch is), then runs it. */
  async offer(cell: vscode.NotebookCell): Promise<void> {
    // Called without waiting (running a cell): what fails here is logged, never an unhandled rejection.
    try {
      if (!vscode.workspace.isTrusted) {
        this.refuseUntrusted(cell);
        return;
      }
      const choices: (vscode.QuickPickItem & { target: SweepTarget })[] = [{ label: 'Run the sweep here', description: 'aexp sweep: a queue of runs on this machine', target: 'here' }];
      if (sbatchAvailable()) choices.push({ label: 'Submit the sweep to Slurm', description: 'aexp sweep --slurm: a job array', target: 'slurm' });
      const pick = await vscode.window.showQuickPick(choices, { title: `Run the sweep of ${path.basename(cell.notebook.uri.fsPath)}?` });
      if (pick) await this.start(cell, pick.target);
    } catch (error) {
      this.log.warn(`the sweep cell could not run: ${(error as Error).message}`);
    }
  }

  /** An untrusted workspace's experiment is never trained or submitted, whoever asks: the cell says why. */
  private refuseUntrusted(cell: vscode.NotebookCell): void {
    const execution = this.controller.createNotebookCellExecution(cell);
    execution.start(Date.now());
    void execution.replaceOutput(new vscode.NotebookCellOutput([vscode.NotebookCellOutputItem.text('The sweep does not run in an untrusted workspace: trust the folder (Manage Workspace Trust) to run it.')]));
    execution.end(false, Date.now());
  }

  async start(cell: vscode.NotebookCell, target: SweepTarget): Promise<void> {
    if (!vscode.workspace.isTrusted) {
      this.refuseUntrusted(cell);
      return;
    }
    // The CLI reads the file: what the cell shows is what it runs.
    if (cell.notebook.isDirty) await cell.notebook.save();
    const file = cell.notebook.uri.fsPath;
    const settings = this.settings();
    const common = ['--out', this.runsFolder(cell.notebook), ...(settings.backend ? ['--backend', settings.backend] : []), ...(settings.dataDir ? ['--data-dir', settings.dataDir] : [])];
    const execution = this.controller.createNotebookCellExecution(cell);
    execution.start(Date.now());
    const show = (text: string) => execution.replaceOutput(new vscode.NotebookCellOutput([vscode.NotebookCellOutputItem.text(text)]));
    try {
      if (target === 'here') {
        const progress = new SweepProgress();
        const code = await this.cli(['sweep', file, ...common], execution.token, (line) => {
          progress.add(line);
          void show(progress.text());
        }, (child) => child.kill('SIGINT'));
        const summary = await this.capture(['sweep', file, '--summary', ...common]);
        await show(`${progress.text()}\n\n${summary}`);
        execution.end(code === 0, Date.now());
        return;
      }
      const lines: string[] = [];
      const submitted = await this.cli(['sweep', file, '--slurm', ...common], execution.token, (line) => lines.push(line), () => undefined);
      if (submitted !== 0) {
        await show(lines.join('\n'));
        execution.end(false, Date.now());
        return;
      }
      let cancelled = false;
      const cancellation = execution.token.onCancellationRequested(() => {
        cancelled = true;
        void this.capture(['sweep', file, '--cancel', ...common]);
      });
      try {
        // Until the tasks end, the notebook closes or the extension stops: the jobs go on in Slurm either way.
        while (!this.disposed && !cell.notebook.isClosed) {
          const status = await this.capture(['sweep', file, '--status', ...common]);
          await show(`${lines.join('\n')}\n\n${status}`);
          if (cancelled || !/\b(pending|running)\b/.test(status.split('\n').pop() ?? '')) break;
          await new Promise((resolve) => setTimeout(resolve, SLURM_POLL_MS));
        }
      } finally {
        cancellation.dispose();
      }
      execution.end(!cancelled, Date.now());
    } catch (error) {
      await show(`could not run the sweep: ${(error as Error).message}`);
      execution.end(false, Date.now());
    }
  }

  /** Runs the CLI, each stderr line to `onLine`; resolves with its exit status. */
  private cli(args: string[], token: vscode.CancellationToken, onLine: (line: string) => void, stop: (child: ChildProcess) => void): Promise<number | null> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, ...args], { cwd: path.dirname(args[1]), env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let buffered = '';
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => {
        buffered += chunk;
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) if (line.trim()) onLine(line);
      });
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => chunk.split('\n').filter((line) => line.trim()).forEach(onLine));
      const cancel = token.onCancellationRequested(() => stop(child));
      child.on('error', reject);
      child.on('exit', (code) => {
        cancel.dispose();
        if (buffered.trim()) onLine(buffered);
        this.log.info(`aexp ${args.slice(0, 1).join(' ')} ${path.basename(args[1])} ${args.slice(2).join(' ')}: exit ${code}`);
        resolve(code);
      });
    });
  }

  /** Runs the CLI and answers its stdout (or its stderr's last line when it fails). */
  private capture(args: string[]): Promise<string> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [CLI, ...args], { cwd: path.dirname(args[1]), env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      child.on('error', (error) => resolve(error.message));
      child.on('exit', (code) => resolve(code === 0 ? stdout.trimEnd() : stderr.trim().split('\n').pop() ?? `exit ${code}`));
    });
  }
}
