/**
 * The lease files this process holds, removed by an exit hook when the process ends
 * without releasing them (a clean exit that skipped a close). A process killed outright
 * leaves its files behind; they are stale then, and the next taker clears them.
 */
import { unlinkSync } from 'node:fs';

/** Lease file -> whether it is still this process's to remove. */
const held = new Map<string, () => boolean>();
let hooked = false;

function releaseAll(): void {
  for (const [path, owned] of held) {
    try {
      if (owned()) unlinkSync(path);
    } catch {
      // already gone
    }
  }
  held.clear();
}

export function rememberHeld(path: string, owned: () => boolean): void {
  if (!hooked) {
    hooked = true;
    process.on('exit', releaseAll);
  }
  held.set(path, owned);
}

export function forgetHeld(path: string): void {
  held.delete(path);
}
