import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { OutgoingRequest, RuntimeMessage, RuntimeNotification, RuntimeRequestResults, RuntimeRequestType, SerializedError } from '../../runtime/protocol';

/** A response as the typed client sees it: the result type its request's type names. */
export type Answer<T extends RuntimeRequestType> = { ok: true; result: RuntimeRequestResults[T] } | { ok: false; error: SerializedError };

/** The bundled runtime server, as the extension forks it. */
export const SERVER = path.resolve(__dirname, '..', '..', 'dist', 'runtime', 'server.js');

/** A minimal client of the runtime's protocol, as the extension will have. */
export class Client {
  readonly notifications: RuntimeNotification[] = [];
  private next = 1;
  private readonly waiting = new Map<number, (message: RuntimeMessage) => void>();
  private readonly listeners: ((message: RuntimeNotification) => void)[] = [];
  constructor(readonly child: ChildProcess) {
    child.on('message', (message: RuntimeMessage) => {
      if (message.type === 'response') {
        this.waiting.get(message.id)?.(message);
        this.waiting.delete(message.id);
      } else {
        this.notifications.push(message);
        for (const listener of this.listeners) listener(message);
      }
    });
  }
  /** A well-formed request; the answer's result has the type `RuntimeRequestResults` names for it. */
  request<R extends OutgoingRequest>(request: R): Promise<Answer<R['type']>> {
    return this.send(request) as Promise<Answer<R['type']>>;
  }
  /** Anything at all, as a hostile or broken client might send it. */
  send(request: Record<string, unknown>): Promise<RuntimeMessage & { type: 'response' }> {
    const id = this.next++;
    return new Promise((resolve) => {
      this.waiting.set(id, (message) => resolve(message as RuntimeMessage & { type: 'response' }));
      this.child.send({ ...request, id });
    });
  }
  raw(message: unknown): Promise<RuntimeMessage> {
    return new Promise((resolve) => {
      this.waiting.set(-1, resolve);
      this.child.send(message as object);
    });
  }
  /** Resolves at the run's first progress event. */
  firstProgress(runId: string): Promise<void> {
    const isProgress = (message: RuntimeNotification) => message.type === 'event' && message.runId === runId && message.event.type === 'progress';
    return new Promise((resolve) => {
      if (this.notifications.some(isProgress)) resolve();
      else this.listeners.push((message) => isProgress(message) && resolve());
    });
  }

  runEnded(runId: string): Promise<RuntimeNotification & { type: 'runEnded' }> {
    return new Promise((resolve) => {
      const found = this.notifications.find((message) => message.type === 'runEnded' && message.runId === runId);
      if (found) resolve(found as RuntimeNotification & { type: 'runEnded' });
      else this.listeners.push((message) => message.type === 'runEnded' && message.runId === runId && resolve(message));
    });
  }
}

