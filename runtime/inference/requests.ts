/**
 * An inference's typed requests, each one line over `request`: the worker's client and the
 * in-thread inference differ only in how a request is carried out.
 */
import type { InferenceOptions, InferenceRequestBody, InferenceRequestOf, InferenceRequestType, InferenceResults } from './protocol';

export abstract class InferenceRequests {
  protected abstract request<T extends InferenceRequestType>(body: InferenceRequestOf<T>, options?: InferenceOptions, channel?: string): Promise<InferenceResults[T]>;

  open(request: InferenceRequestBody<'open'>, options?: InferenceOptions): Promise<InferenceResults['open']> {
    return this.request<'open'>({ ...request, type: 'open' }, options);
  }

  encode(request: InferenceRequestBody<'encode'>, options?: InferenceOptions): Promise<InferenceResults['encode']> {
    return this.request<'encode'>({ ...request, type: 'encode' }, options);
  }

  example(request: InferenceRequestBody<'example'>, options?: InferenceOptions): Promise<InferenceResults['example']> {
    return this.request<'example'>({ ...request, type: 'example' }, options);
  }

  /** A decode replaces a waiting decode of its channel (default `decode`): one per view, say. */
  decode(request: InferenceRequestBody<'decode'>, options: InferenceOptions & { channel?: string } = {}): Promise<InferenceResults['decode']> {
    return this.request<'decode'>({ ...request, type: 'decode' }, options, options.channel ?? 'decode');
  }

  interpolate(request: InferenceRequestBody<'interpolate'>, options?: InferenceOptions): Promise<InferenceResults['interpolate']> {
    return this.request<'interpolate'>({ ...request, type: 'interpolate' }, options);
  }

  traverse(request: InferenceRequestBody<'traverse'>, options?: InferenceOptions): Promise<InferenceResults['traverse']> {
    return this.request<'traverse'>({ ...request, type: 'traverse' }, options);
  }

  memory(options?: InferenceOptions): Promise<InferenceResults['memory']> {
    return this.request<'memory'>({ type: 'memory' }, options);
  }
}
