/**
 * The Latent Explorer, host side: a webview view in the Latent Lab side bar. It lists the run
 * folders under the runs folders, asks the runtime (started on demand) to encode a split of the
 * chosen run and project it, and routes the page's hovers and drags to the runtime's inference
 * worker: at most one decode in flight per view, the newest waiting one replacing the one before.
 * It follows the notebook's current run unless the person picked another, and reads the points
 * again when a followed run's checkpoint changes. It reads nothing in an untrusted workspace.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { ExploreRequest, RuntimeRequestResults } from '../runtime/protocol';
import { RUN_FILES } from '../runtime/run-folder';
import type { ExplorerChoice, ExplorerRun, ExploreResult, ExploreSplit, HostMessage, PageMessage } from './explorer-protocol';
import type { ExplorerCache } from './explorer-cache';
import { LatestWins } from './latest-wins';
import { listRuns, runChoiceLabels, runFolderAt } from './runs-index';
import type { RuntimeProcess } from './runtimeProcess';
import { pageHtml, webviewOptions } from './webview-page';

export const EXPLORER_VIEW_ID = 'latentLab.explorer';
/** The most points a split shows (the whole of MNIST's train and test splits). */
export const POINT_LIMIT = 70_000;
/** What the runtime's UMAP takes at most (runtime/explore-service.ts UMAP_LIMIT), for the progress line. */
const UMAP_POINTS = 5000;
/** A changed checkpoint is read once the writes around it settle. */
const CHECKPOINT_SETTLE_MS = 500;
const SPLITS: readonly ExploreSplit[] = ['test', 'train', 'all'];
/** The most examples one lasso shows (the page asks for no more). */
export const LASSO_LIMIT = 48;
const UNTRUSTED = 'The Latent Explorer reads run folders and runs their models, which a workspace you have not trusted could have written; trust this workspace to explore its runs.';

export interface ExplorerHost {
  /** The runs folders to list. */
  roots(): string[];
  /** The explorer's runtime, started if it is not running. */
  runtime(): Promise<RuntimeProcess>;
  /** The view is gone: its runtime may stop (the next request starts it again). */
  release(): void;
  /** Points computed before, kept across window reloads. */
  cache: ExplorerCache;
  /** The run folder of the notebook in front (its last or current run). */
  currentRun(): string | undefined;
  /** Fires when the notebook in front or its run changes. */
  onCurrentRunChange: vscode.Event<unknown>;
}

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

/** The page's message if it has the shape the protocol says, else why not. */
export function parsePageMessage(value: unknown): PageMessage | string {
  if (typeof value !== 'object' || value === null) return 'a message must be an object';
  const message = value as Record<string, unknown>;
  const vector = (candidate: unknown) => Array.isArray(candidate) && candidate.length > 0 && candidate.length <= 4096 && candidate.every((item) => typeof item === 'number' && Number.isFinite(item));
  const choice = (candidate: unknown) => {
    const given = candidate as Record<string, unknown> | undefined;
    return typeof given === 'object' && given !== null && typeof given.runDir === 'string' && typeof given.checkpoint === 'string' && /^(last|best|epoch-\d+)$/.test(given.checkpoint) && SPLITS.includes(given.split as ExploreSplit)
      && (given.projection === undefined || given.projection === 'pca' || given.projection === 'umap');
  };
  const label = (candidate: unknown) => candidate === undefined || (Number.isInteger(candidate) && (candidate as number) >= 0);
  switch (message.type) {
    case 'ready':
      return (message.choice === undefined || choice(message.choice)) && typeof message.follow === 'boolean' ? (message as unknown as PageMessage) : 'ready needs follow and, if any, a choice of run, checkpoint and split';
    case 'choose':
      return choice(message.choice) && typeof message.follow === 'boolean' ? (message as unknown as PageMessage) : 'choose needs a run folder, a checkpoint (last, best, epoch-N) and a split (test, train, all)';
    case 'example':
      return Number.isInteger(message.index) && (message.index as number) >= 0 ? (message as unknown as PageMessage) : 'example needs an index';
    case 'decode':
      return vector(message.z) && label(message.label) ? (message as unknown as PageMessage) : 'decode needs a latent vector of finite numbers';
    case 'decodeClasses':
      return vector(message.z) ? (message as unknown as PageMessage) : 'decodeClasses needs a latent vector of finite numbers';
    case 'lasso':
      return Array.isArray(message.indices) && message.indices.length <= LASSO_LIMIT && message.indices.every((index) => Number.isInteger(index) && index >= 0) ? (message as unknown as PageMessage) : `lasso needs at most ${LASSO_LIMIT} example indices`;
    case 'interpolate':
      return vector(message.from) && vector(message.to) && Number.isInteger(message.steps) && (message.steps as number) >= 2 && (message.steps as number) <= 64 && (message.method === 'lerp' || message.method === 'slerp') && label(message.label)
        ? (message as unknown as PageMessage) : 'interpolate needs two latent vectors, 2 to 64 steps and lerp or slerp';
    default:
      return `unknown message type ${JSON.stringify(message.type)}`;
  }
}

/** The checkpoints a run folder keeps: last, best, then each epoch whose weights it kept. */
export function checkpointsOf(runDir: string): string[] {
  const folder = path.join(runDir, RUN_FILES.checkpoints);
  const names = (where: string) => {
    try {
      return readdirSync(where);
    } catch {
      return [];
    }
  };
  const top = names(folder);
  const epochs = new Set<number>();
  for (const name of [...top, ...names(path.join(folder, 'weights'))]) {
    const epoch = /^epoch-0*(\d+)\.ckpt$/.exec(name);
    if (epoch) epochs.add(Number(epoch[1]));
  }
  return [...['last', 'best'].filter((name) => top.includes(`${name}.ckpt`)), ...[...epochs].sort((a, b) => b - a).map((epoch) => `epoch-${epoch}`)];
}

/**
 * Why `folder` cannot be explored, or undefined when it can: the explorer opens only a run under
 * the runs folders (its runtime opens no other), once it has a checkpoint.
 */
export async function exploreRefusal(folder: string, roots: readonly string[]): Promise<string | undefined> {
  const run = await runFolderAt(folder, roots);
  if (typeof run === 'string') return run;
  if (checkpointsOf(run.runDir).length === 0) return `the run ${run.experiment}/${path.basename(run.runDir)} has no checkpoint yet: the explorer shows it once its first epoch is saved.`;
  return undefined;
}

/** The view's provider and the owner of everything the view uses. */
export class ExplorerView implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private readonly store: vscode.Disposable[] = [];
  private viewStore: vscode.Disposable[] = [];
  private runs: ExplorerRun[] = [];
  private choice: ExplorerChoice | undefined;
  private follow = true;
  /** The points last computed, sent again when the view is shown again (nothing recomputed). */
  private points: { choice: ExplorerChoice; result: ExploreResult; time: number } | undefined;
  private computing: Promise<void> | undefined;
  private tokens = 0;
  /** Pointer moves: one decode in flight, the newest waiting. */
  private readonly decodes = new LatestWins<Extract<PageMessage, { type: 'decode' }>>((message) => this.decode(message));
  private watcher: { runDir: string; watcher: vscode.FileSystemWatcher } | undefined;
  private settleTimer: NodeJS.Timeout | undefined;
  /** For tests: what the page sent and what the host answered, by type. */
  readonly counts = { explore: 0, decode: 0, decodeSent: 0 };

  constructor(private readonly bundle: vscode.Uri, private readonly host: ExplorerHost) {
    this.store.push(vscode.workspace.onDidGrantWorkspaceTrust(() => void this.sendRuns()));
    this.store.push(host.onCurrentRunChange(() => void this.followCurrent()));
  }

  /** For tests: the points the view shows, as the runtime answered them. */
  get result(): ExploreResult | undefined {
    return this.points?.result;
  }

  /** For tests: what the view shows now. */
  get state(): { choice?: ExplorerChoice; follow: boolean; points?: number; visible: boolean } {
    return { choice: this.choice, follow: this.follow, points: this.points?.result.count, visible: this.view?.visible ?? false };
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    for (const disposable of this.viewStore.splice(0)) disposable.dispose();
    this.view = view;
    view.webview.options = webviewOptions(this.bundle);
    view.webview.html = pageHtml({ title: 'Latent Explorer', rootId: 'explorer-root', script: view.webview.asWebviewUri(vscode.Uri.joinPath(this.bundle, 'explorer.js')).toString(), cspSource: view.webview.cspSource });
    this.viewStore.push(view.webview.onDidReceiveMessage((value) => void this.receive(value)));
    this.viewStore.push(view.onDidDispose(() => {
      if (this.view === view) {
        this.view = undefined;
        this.host.release();
      }
      for (const disposable of this.viewStore.splice(0)) disposable.dispose();
    }));
  }

  /** Shows the view on `runDir` if given (Explore Latent Space from a run folder or a notebook); the same run shown again is not recomputed. */
  async show(runDir?: string): Promise<void> {
    const changed = runDir !== undefined && runDir !== this.choice?.runDir;
    if (changed) {
      this.follow = runDir === this.host.currentRun();
      this.choice = { runDir, checkpoint: 'last', split: this.choice?.split ?? 'test', ...(this.choice?.projection ? { projection: this.choice.projection } : {}) };
    }
    await vscode.commands.executeCommand(`${EXPLORER_VIEW_ID}.focus`);
    if (changed && this.view) {
      await this.sendRuns();
      await this.compute();
    }
  }

  private post(message: HostMessage): void {
    void this.view?.webview.postMessage(message);
  }

  /** A message from the page, checked before use; answered once it is handled (tests await it). */
  async receive(value: unknown): Promise<void> {
    const message = parsePageMessage(value);
    if (typeof message === 'string') {
      this.post({ type: 'notice', message: `Latent Lab ignored a message from the explorer: ${message}` });
      return;
    }
    if (message.type === 'ready') return this.ready(message);
    if (message.type === 'choose') return this.choose(message);
    if (!vscode.workspace.isTrusted) return;
    // A page can ask about a point before any run is chosen (the host lost its choice, or none was listed): nothing to ask then.
    const target = this.target();
    if (!target) return;
    switch (message.type) {
      case 'example':
        await this.ask({ type: 'exploreExample', runDir: target.runDir, checkpoint: target.checkpoint, split: target.split, index: message.index }, (result) => this.post({ type: 'example', result }));
        return;
      case 'decode':
        this.counts.decode++;
        this.decodes.push(message);
        return;
      case 'decodeClasses': {
        const classes = this.points?.result.model.classes ?? 0;
        if (classes === 0) return;
        const z = message.z;
        await this.ask({ type: 'exploreDecode', runDir: target.runDir, checkpoint: target.checkpoint, view: 'classes', z: Array.from({ length: classes }, () => z), labels: Array.from({ length: classes }, (_, label) => label) }, (images) => this.post({ type: 'classes', images }));
        return;
      }
      case 'lasso':
        await this.lasso(message.indices);
        return;
      case 'interpolate':
        await this.ask({ type: 'exploreInterpolate', runDir: target.runDir, checkpoint: target.checkpoint, from: message.from, to: message.to, steps: message.steps, method: message.method, ...(message.label === undefined ? {} : { label: message.label }) }, (images) => this.post({ type: 'strip', images }));
    }
  }

  private async choose(message: Extract<PageMessage, { type: 'choose' }>): Promise<void> {
    if (!this.runs.some((run) => run.runDir === message.choice.runDir)) return;
    this.follow = message.follow;
    this.choice = this.follow ? this.followedChoice(message.choice) : message.choice;
    this.watch();
    await this.sendRuns();
    await this.compute();
  }

  /** The run, checkpoint and split the shown points came from, else the chosen ones; none before a choice. */
  private target(): ExplorerChoice | undefined {
    return this.points?.choice ?? this.choice;
  }

  /** The inputs of the lassoed examples, asked one by one and sent together. */
  private async lasso(indices: number[]): Promise<void> {
    const shown = this.points?.choice;
    if (!shown) return;
    const inputs: Buffer[] = [];
    let shape: [number, number, number] | undefined;
    for (const index of indices) {
      await this.ask({ type: 'exploreExample', runDir: shown.runDir, checkpoint: shown.checkpoint, split: shown.split, index }, (example) => {
        inputs.push(Buffer.from(example.input, 'base64'));
        shape = example.shape;
      });
    }
    if (shape && inputs.length === indices.length) this.post({ type: 'lasso', indices, images: { count: inputs.length, shape, pixels: Buffer.concat(inputs).toString('base64') } });
  }

  private async decode(message: Extract<PageMessage, { type: 'decode' }>): Promise<void> {
    const target = this.target();
    if (!target) return;
    this.counts.decodeSent++;
    return this.ask({ type: 'exploreDecode', runDir: target.runDir, checkpoint: target.checkpoint, view: 'pointer', z: [message.z], ...(message.label === undefined ? {} : { labels: [message.label] }) }, (images) => this.post({ type: 'decoded', z: message.z, images }));
  }

  private async ask<R extends WithoutId<ExploreRequest>>(request: R, answer: (result: RuntimeRequestResults[R['type']]) => void): Promise<void> {
    try {
      const runtime = await this.host.runtime();
      answer(await runtime.request(request));
    } catch (error) {
      if ((error as Error).name !== 'CancelledError') this.post({ type: 'notice', message: (error as Error).message });
    }
  }

  private async ready(message: Extract<PageMessage, { type: 'ready' }>): Promise<void> {
    if (!vscode.workspace.isTrusted) {
      this.post({ type: 'untrusted', message: UNTRUSTED });
      return;
    }
    // A page shown again keeps what it chose; a host that lost its own (a reload) takes the page's.
    if (!this.choice && message.choice) {
      this.choice = message.choice;
      this.follow = message.follow;
    }
    this.choice ??= this.followedChoice();
    await this.sendRuns();
    if (this.points && this.choice && sameChoice(this.points.choice, this.choice)) this.post({ type: 'points', choice: this.points.choice, result: this.points.result });
    else await this.compute();
  }

  private followedChoice(fallback?: ExplorerChoice): ExplorerChoice | undefined {
    const current = this.host.currentRun();
    const projection = fallback?.projection ?? this.choice?.projection;
    if (this.follow && current) return { runDir: current, checkpoint: 'last', split: fallback?.split ?? this.choice?.split ?? 'test', ...(projection ? { projection } : {}) };
    return fallback ?? this.choice ?? (this.runs[0] ? { runDir: this.runs[0].runDir, checkpoint: this.runs[0].checkpoints[0], split: 'test' } : undefined);
  }

  private async followCurrent(): Promise<void> {
    // Before the view was ever shown there is nothing to follow: its page takes the current run when it says ready.
    if (!this.follow || !vscode.workspace.isTrusted || !this.view) return;
    const next = this.followedChoice();
    if (!next) return;
    if (this.choice && sameChoice(next, this.choice)) {
      if (this.view) this.checkpointChanged();
      return;
    }
    this.choice = next;
    this.watch();
    if (!this.view) return;
    await this.sendRuns();
    await this.compute();
  }

  private async sendRuns(): Promise<void> {
    if (!this.view) return;
    if (!vscode.workspace.isTrusted) {
      this.post({ type: 'untrusted', message: UNTRUSTED });
      return;
    }
    const rows = await listRuns(this.host.roots());
    const labels = runChoiceLabels(rows);
    this.runs = rows.map((row) => ({ runDir: row.runDir, label: labels.get(row.runDir)!, checkpoints: checkpointsOf(row.runDir) })).filter((run) => run.checkpoints.length > 0);
    this.choice = this.follow ? this.followedChoice() : this.choice ?? this.followedChoice();
    this.watch();
    this.post({ type: 'runs', runs: this.runs, choice: this.choice, follow: this.follow });
  }

  /** Encodes and projects the chosen split; one computation at a time, the latest choice wins. */
  private async compute(): Promise<void> {
    const choice = this.choice;
    if (!choice || !this.view || !vscode.workspace.isTrusted) return;
    if (this.computing) {
      await this.computing;
      if (this.points && this.choice && sameChoice(this.points.choice, this.choice)) return this.post({ type: 'points', choice: this.points.choice, result: this.points.result });
    }
    const work = (async () => {
      // Shown before (a window reload since, or another run chosen in between) and its checkpoint unchanged: nothing is encoded again.
      const time = checkpointTime(choice.runDir) ?? 0;
      const kept = await this.host.cache.read(choice);
      if (kept) {
        this.points = { choice, result: kept, time };
        if (this.choice && sameChoice(choice, this.choice)) this.post({ type: 'points', choice, result: kept });
        return;
      }
      this.post({ type: 'busy', message: `Encoding the ${choice.split} split of ${path.basename(choice.runDir)} (${choice.checkpoint})${choice.projection === 'umap' ? ', then a UMAP layout (a minute or so)' : ''}…` });
      this.counts.explore++;
      try {
        const runtime = await this.host.runtime();
        const token = `explorer-${++this.tokens}`;
        const listening = runtime.onNotification((message) => {
          if (message.type === 'exploreProgress' && message.token === token) this.post({ type: 'busy', message: `UMAP of the ${choice.split} split's means (at most ${UMAP_POINTS} points): ${Math.round((100 * message.done) / message.total)}%…` });
        });
        const { projection, ...target } = choice;
        const result = await runtime.request({ type: 'explore', ...target, limit: POINT_LIMIT, ...(projection === 'umap' ? { projection, token } : {}) }).finally(() => listening.dispose());
        this.points = { choice, result, time };
        if (this.choice && sameChoice(choice, this.choice)) this.post({ type: 'points', choice, result });
        // The kept copy only saves time: a storage that cannot be written leaves the view as it is.
        await this.host.cache.write(choice, result).catch(() => undefined);
      } catch (error) {
        this.post({ type: 'notice', message: (error as Error).message });
      }
    })();
    this.computing = work;
    await work;
    if (this.computing === work) this.computing = undefined;
  }

  /**
   * A `last` checkpoint that changed (an epoch landed) is read again: the file watcher says so for
   * any writer, and each status of the notebook's run has its time looked at, since a watcher's
   * events can lag or be dropped on a busy machine.
   */
  private watch(): void {
    const runDir = this.choice?.runDir;
    if (this.watcher?.runDir === runDir) return;
    this.watcher?.watcher.dispose();
    this.watcher = undefined;
    if (!runDir || !vscode.workspace.isTrusted) return;
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(runDir), `${RUN_FILES.checkpoints}/last.ckpt`));
    watcher.onDidChange(() => this.checkpointChanged());
    watcher.onDidCreate(() => this.checkpointChanged());
    this.watcher = { runDir, watcher };
  }

  private checkpointChanged(): void {
    const choice = this.choice;
    if (choice?.checkpoint !== 'last') return;
    const time = checkpointTime(choice.runDir);
    if (time === undefined || this.settleTimer || this.computing || (this.points && sameChoice(this.points.choice, choice) && this.points.time >= time)) return;
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      this.points = undefined;
      void this.sendRuns().then(() => this.compute());
    }, CHECKPOINT_SETTLE_MS);
  }

  dispose(): void {
    clearTimeout(this.settleTimer);
    this.watcher?.watcher.dispose();
    for (const disposable of [...this.viewStore.splice(0), ...this.store.splice(0)]) disposable.dispose();
  }
}

/** When a run folder's last checkpoint was written, if it has one. */
function checkpointTime(runDir: string): number | undefined {
  try {
    return statSync(path.join(runDir, RUN_FILES.checkpoints, 'last.ckpt')).mtimeMs;
  } catch {
    return undefined;
  }
}

function sameChoice(a: ExplorerChoice, b: ExplorerChoice): boolean {
  return a.runDir === b.runDir && a.checkpoint === b.checkpoint && a.split === b.split && (a.projection ?? 'pca') === (b.projection ?? 'pca');
}
