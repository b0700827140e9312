import { AiosError } from '@aios/utils';

/** Throws `ABORTED` once the caller's signal has fired: long operations check it between steps. */
export function aborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new AiosError('ABORTED', `${what} cancelled`);
}
