/**
 * Runs each step in order, every one even when an earlier one fails, then rethrows the
 * first failure: closing what was opened, where one failed close must not leave the rest
 * open.
 */
export async function runAll(steps: ReadonlyArray<() => Promise<void> | void>): Promise<void> {
  let failure: { error: unknown } | undefined;
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      failure ??= { error };
    }
  }
  if (failure) throw failure.error;
}
