/**
 * Work that must reach every item even when one item's part fails: a run's end goes to each of
 * its cells though one was deleted mid-run or had an output edit refused, so no execution is left
 * running. No `vscode` here: tested in plain Node.
 */

/** Runs `step` on each item in order, going on past failures, then throws the first (several: an AggregateError). */
export async function settleEach<T>(items: Iterable<T>, step: (item: T) => Promise<void>): Promise<void> {
  const errors: unknown[] = [];
  for (const item of [...items]) {
    try {
      await step(item);
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, `${errors.length} of the steps failed`);
}
