/**
 * A reader that goes away (`aios memory list | head -1`) closes the pipe the CLI writes
 * to: the next write fails with EPIPE, which Node raises as an uncaught error with a stack
 * trace. Instead, what is still to be printed is dropped and the command finishes its work
 * (an ingest stores every file, the cores close as usual); an interactive loop stops
 * reading, as nobody sees its answers any more.
 */
let closed = false;

/** Whether standard output lost its reader. */
export function outputClosed(): boolean {
  return closed || process.stdout.destroyed;
}

/**
 * Waits until what was printed reached standard output (or failed to), and tells whether
 * its reader is gone. A loop that only awaits settled promises (a chat over piped
 * questions, answered offline) never lets a write fail otherwise: its output piles up
 * in memory, and a reader gone is noticed only at the end.
 */
export async function outputGone(): Promise<boolean> {
  if (outputClosed()) return true;
  await new Promise<void>((resolve) => {
    process.stdout.write('', () => resolve());
  });
  return outputClosed();
}

function quiet(stream: NodeJS.WriteStream): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
    closed = true;
    // Later writes go nowhere instead of failing again.
    stream.write = (() => true) as NodeJS.WriteStream['write'];
  });
}

export function dropOutputWhenClosed(): void {
  quiet(process.stdout);
  quiet(process.stderr);
}
