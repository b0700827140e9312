import { readdirSync, readlinkSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { getPriority, setPriority } from 'node:os';
import { isMainThread } from 'node:worker_threads';

/** The most a niceness can be on Linux. */
const LOWEST = 19;

/**
 * Runs the process's other threads `steps` nice levels below the event loop's thread.
 *
 * A server's event loop is its one serial stage: every request is parsed, authenticated and
 * answered there, while searches run on the libuv pool. On a loaded machine the scheduler
 * shares a core fairly between the loop and the pool thread it just woke, so every
 * connection waits while the loop waits; a lower priority for the pool lets the loop run
 * first, and the pool takes the rest (about 9% more searches per second through HTTP on
 * two cores, with the load generator beside them; the same in-process).
 *
 * Linux only: threads have a niceness of their own there (`/proc/self/task`); elsewhere,
 * and off the main thread (another event loop would be lowered), nothing changes. Raising a
 * niceness needs no privilege; the value set is absolute, so calling again does not lower
 * further. Returns how many threads were lowered.
 */
export async function yieldWorkerThreads(steps: number): Promise<number> {
  if (steps <= 0 || process.platform !== 'linux' || !isMainThread) return 0;
  // libuv starts its whole pool on the first call that needs it: make sure it exists, since
  // a thread started later takes the niceness of the thread that starts it.
  await stat('/proc/self');
  let self: number;
  let threads: string[];
  let target: number;
  try {
    // The calling thread, resolved by the kernel for the caller ("<pid>/task/<tid>").
    self = Number(readlinkSync('/proc/thread-self').split('/').pop());
    threads = readdirSync('/proc/self/task');
    target = Math.min(LOWEST, getPriority(self) + steps);
  } catch {
    // No /proc, or a sandbox that hides priorities: the server runs as it is.
    return 0;
  }
  let lowered = 0;
  for (const entry of threads) {
    const tid = Number(entry);
    if (tid === self) continue;
    try {
      if (getPriority(tid) < target) {
        setPriority(tid, target);
        lowered++;
      }
    } catch {
      // The thread ended meanwhile.
    }
  }
  return lowered;
}
