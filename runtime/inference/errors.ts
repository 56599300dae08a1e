/** The errors that cross between the inference worker and its client, by name. */
import type { SerializedError } from '../protocol';

/** A request that was cancelled (its signal), or replaced by a newer decode before it started. */
export class CancelledError extends Error {
  override name = 'CancelledError';
  constructor(readonly reason: 'cancelled' | 'replaced' | 'closed', message?: string) {
    super(message ?? (reason === 'replaced' ? 'replaced by a newer decode before it started' : reason === 'closed' ? 'the inference worker was closed' : 'cancelled'));
  }
}

/** A model that cannot answer a request, e.g. decode a free latent point; the message says why. */
export class CannotDecodeError extends Error {
  override name = 'CannotDecodeError';
}

/** A request whose values do not fit the open run (an index past the split, a code of the wrong size). */
export class InferenceRequestError extends Error {
  override name = 'InferenceRequestError';
}

/** An error from the worker, rebuilt on the main thread with the worker's name, message and stack. */
export class InferenceError extends Error {
  constructor(serialized: SerializedError) {
    super(serialized.message);
    this.name = serialized.name;
    if (serialized.stack !== undefined) this.stack = serialized.stack;
  }
}

/** The most of a message (and twice that of a stack) that crosses to the main thread. */
const MESSAGE_LIMIT = 4000;

function bounded(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit)}… (${text.length - limit} more characters)`;
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) return { name: error.name, message: bounded(error.message, MESSAGE_LIMIT), ...(error.stack === undefined ? {} : { stack: bounded(error.stack, 2 * MESSAGE_LIMIT) }) };
  return { name: 'Error', message: bounded(String(error), MESSAGE_LIMIT) };
}
