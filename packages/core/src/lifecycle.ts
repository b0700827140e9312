/** Things to close before the process exits on SIGINT / SIGTERM (no lost writes). */
interface Closable {
  close(): Promise<void>;
}

/** How long a command that stops by itself may take after the signal before it is closed. */
const STOP_GRACE_MS = 10_000;

const open = new Set<Closable>();
const interrupt = new AbortController();
let installed = false;
let stopping = false;
let exitCode: number | undefined;
let stoppable = 0;

/** True once SIGINT / SIGTERM arrived: errors of the interrupted command are not reported. */
export function shuttingDown(): boolean {
  return stopping;
}

/** 130 after SIGINT, 143 after SIGTERM, undefined while no signal arrived. */
export function signalExitCode(): number | undefined {
  return exitCode;
}

function closeAllAndExit(code: number): void {
  void Promise.allSettled([...open].map((c) => c.close())).then(() => process.exit(code));
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      const code = signal === 'SIGINT' ? 130 : 143;
      if (stopping) {
        // A second signal: stop now (the cores are still closed first).
        process.stderr.write(`aios: ${signal} again, closing now…\n`);
        closeAllAndExit(exitCode ?? code);
        return;
      }
      stopping = true;
      exitCode = code;
      if (stoppable > 0) {
        // The running command stops at its next safe point, reports and closes by itself.
        process.stderr.write(`aios: ${signal}, closing after the current step…\n`);
        interrupt.abort(signal);
        setTimeout(() => closeAllAndExit(code), STOP_GRACE_MS).unref();
        return;
      }
      process.stderr.write(`aios: ${signal}, closing…\n`);
      closeAllAndExit(code);
    });
  }
}

/** Closes `closable` on SIGINT / SIGTERM before exiting; returns the function that untracks it. */
export function closeOnSignal(closable: Closable): () => void {
  install();
  open.add(closable);
  return () => {
    open.delete(closable);
  };
}

/**
 * For a command that can stop part-way and still leave everything consistent (ingest): while
 * registered, SIGINT / SIGTERM abort `signal` instead of closing the process, and the command
 * stops at its next safe point, reports what it did and returns; the exit status is then
 * 130 / 143. A second signal, or no stop within 10 s, closes the cores and exits as usual.
 */
export function stopOnSignal(): { signal: AbortSignal; release: () => void } {
  install();
  stoppable++;
  let released = false;
  return {
    signal: interrupt.signal,
    release: () => {
      if (!released) stoppable--;
      released = true;
    },
  };
}

/**
 * Keeps a long-running service (`aios serve`, `aios ui`, `aios mcp`) until SIGINT/SIGTERM
 * (or until `ended` settles, when the service can end by itself), then closes it: it
 * finishes what runs and stops. Should that take too long, the lifecycle closes it anyway
 * before exiting.
 */
export async function runUntilStopped(
  service: Closable,
  options: { ended?: Promise<unknown>; onStop?: () => void } = {},
): Promise<void> {
  const untrack = closeOnSignal(service);
  const stop = stopOnSignal();
  try {
    await new Promise<void>((resolve) => {
      if (stop.signal.aborted) return resolve();
      stop.signal.addEventListener('abort', () => resolve(), { once: true });
      void options.ended?.then(
        () => resolve(),
        () => resolve(),
      );
    });
    options.onStop?.();
    await service.close();
  } finally {
    stop.release();
    untrack();
  }
}
