/** Things to close before the process exits on SIGINT / SIGTERM (no lost writes). */
interface Closable {
  close(): Promise<void>;
}

const open = new Set<Closable>();
let installed = false;
let stopping = false;

/** True once SIGINT / SIGTERM arrived: errors of the interrupted command are not reported. */
export function shuttingDown(): boolean {
  return stopping;
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      stopping = true;
      process.stderr.write(`aios: ${signal}, closing…\n`);
      const code = signal === 'SIGINT' ? 130 : 143;
      void Promise.allSettled([...open].map((c) => c.close())).then(() => process.exit(code));
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
