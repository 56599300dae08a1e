/**
 * The runtime child process, owned by the extension: forked lazily, stderr routed to the
 * runtime's LogOutputChannel, killed on dispose. Messages from it are validated before use.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as vscode from 'vscode';
import type { RuntimeMessage, RuntimeNotification, RuntimeRequest, RuntimeRequestResults, SerializedError } from '../runtime/protocol';

/** Distributes `Omit` over a union, so each request keeps its own fields. */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export class RuntimeError extends Error {
  constructor(error: SerializedError) {
    super(error.message);
    this.name = error.name;
    if (error.stack) this.stack = error.stack;
  }
}

function isRuntimeMessage(message: unknown): message is RuntimeMessage {
  if (typeof message !== 'object' || message === null) return false;
  const candidate = message as { type?: unknown; id?: unknown; runId?: unknown };
  switch (candidate.type) {
    case 'response': return typeof candidate.id === 'number';
    case 'event': case 'runEnded': return typeof candidate.runId === 'string';
    case 'exploreProgress': return typeof (candidate as { token?: unknown }).token === 'string';
    case 'log': return true;
    default: return false;
  }
}

export class RuntimeProcess implements vscode.Disposable {
  private readonly child: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private readonly notificationEmitter = new vscode.EventEmitter<RuntimeNotification>();
  private readonly exitEmitter = new vscode.EventEmitter<{ code: number | null; signal: NodeJS.Signals | null; expected: boolean }>();
  private listeners = 0;
  readonly onNotification = this.counted(this.notificationEmitter.event);
  readonly onExit = this.counted(this.exitEmitter.event);
  private disposed = false;
  exited = false;

  constructor(serverScript: string, options: { cwd: string; env: NodeJS.ProcessEnv; execArgv?: readonly string[] }, private readonly log: vscode.LogOutputChannel) {
    this.child = fork(serverScript, [], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      execArgv: [...(options.execArgv ?? [])],
    });
    log.info(`runtime started (pid ${this.child.pid})`);
    const forward = (stream: NodeJS.ReadableStream | null, level: 'info' | 'warn') => {
      let buffered = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        buffered += chunk;
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) if (line.trim()) log[level](line);
      });
    };
    forward(this.child.stdout, 'info');
    forward(this.child.stderr, 'warn');
    this.child.on('message', (message: unknown) => this.receive(message));
    this.child.on('exit', (code, signal) => {
      this.exited = true;
      const expected = this.disposed;
      if (!expected) log.error(`runtime exited unexpectedly (code ${code}, signal ${signal})`);
      for (const { reject } of this.pending.values()) reject(new Error(`the runtime exited (code ${code}, signal ${signal}) before answering`));
      this.pending.clear();
      this.exitEmitter.fire({ code, signal, expected });
      if (expected) this.disposeEmitters();
    });
    this.child.on('error', (error) => log.error(`runtime process error: ${error.message}`));
  }

  /** How many listeners onNotification and onExit have: a run that ends must leave none of its own behind. */
  get listenerCount(): number {
    return this.listeners;
  }

  private counted<T>(event: vscode.Event<T>): vscode.Event<T> {
    return (listener, thisArgs, disposables) => {
      const subscription = event(listener, thisArgs);
      this.listeners++;
      let disposed = false;
      const counted = new vscode.Disposable(() => {
        if (disposed) return;
        disposed = true;
        this.listeners--;
        subscription.dispose();
      });
      disposables?.push(counted);
      return counted;
    };
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private receive(message: unknown): void {
    if (!isRuntimeMessage(message)) {
      this.log.warn(`ignored a malformed message from the runtime: ${JSON.stringify(message).slice(0, 200)}`);
      return;
    }
    if (message.type === 'response') {
      const waiter = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (!waiter) return;
      if (message.ok) waiter.resolve(message.result);
      else waiter.reject(new RuntimeError(message.error));
      return;
    }
    if (message.type === 'log') this.log[message.level === 'warning' ? 'warn' : message.level](message.message);
    this.notificationEmitter.fire(message);
  }

  /** Sends a request; resolves with the result its type has (RuntimeRequestResults), rejects with the runtime's error. */
  request<R extends WithoutId<RuntimeRequest>>(request: R): Promise<RuntimeRequestResults[R['type']]> {
    if (this.exited) return Promise.reject(new Error('the runtime is not running'));
    const id = this.nextId++;
    return new Promise<RuntimeRequestResults[R['type']]>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.child.send({ ...request, id } as RuntimeRequest, (error) => {
        if (error) {
          this.pending.delete(id);
          reject(error);
        }
      });
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.exited) this.disposeEmitters();
    else {
      // Ask for a clean stop (running trainings write their checkpoint), then make sure. Until it
      // exits, the runtime still reports, so a stopped run's end reaches its notebook.
      this.request({ type: 'shutdown' }).catch(() => undefined);
      const child = this.child;
      setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }, 6000).unref();
    }
    this.log.info('runtime stopped');
  }

  private disposeEmitters(): void {
    this.notificationEmitter.dispose();
    this.exitEmitter.dispose();
  }
}
