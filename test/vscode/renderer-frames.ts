/**
 * A notebook renderer's element as the page shows it: renderers draw in nested webview frames, so
 * the tests ask every frame (evaluateInFrames) and poll until the output is drawn as they expect,
 * for it may be drawn again while the notebook settles.
 */
import { evaluateInFrames } from './support';

/** The first non-null value of `expression` that `accept` takes; the error names `what` and the last value seen. */
export async function frameState<State>(expression: string, what: string, accept: (state: State) => boolean, timeoutMs: number): Promise<State> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const last = (await evaluateInFrames(expression)) as State | null;
    if (last && accept(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the page shows ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Runs `expression` until it answers true, which it does once it found its element and acted on it. */
export async function actInFrames(expression: string, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await evaluateInFrames(expression)) !== true) {
    if (Date.now() > deadline) throw new Error(`could not ${what}: its element is not on the page`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
