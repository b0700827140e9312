/**
 * The index files of a large memory, written in the background: a CLI command whose close
 * left them due (`Memory.checkpointDeferred`, from `carma.backgroundCheckpointFrom`
 * fragments) starts `aios memory checkpoint` as a detached process at a lower CPU
 * priority, and returns at once instead of writing them (half a minute at 1M fragments).
 * Until that process is done, commands replay the changes since the files; one that
 * finds it still writing leaves the files to it (carma's checkpoint lock).
 */
import { spawn } from 'node:child_process';
import { setPriority } from 'node:os';
import type { GlobalOptions } from './commands/shared.js';

/** Nice value of the background process: after the commands at the prompt. */
const BACKGROUND_PRIORITY = 10;

/**
 * Starts `aios memory checkpoint` on `home` with the command's global flags; its pid, or
 * undefined when it could not be started.
 */
export function startBackgroundCheckpoint(
  globals: GlobalOptions,
  home: string,
): number | undefined {
  const script = process.argv[1];
  if (!script) return undefined;
  const args = [
    script,
    '--home',
    home,
    ...(globals.config ? ['--config', globals.config] : []),
    ...(globals.native ? ['--native', globals.native] : []),
    'memory',
    'checkpoint',
  ];
  try {
    const child = spawn(process.execPath, args, { detached: true, stdio: 'ignore' });
    // A process that cannot start leaves the files to the next command's close.
    child.on('error', () => undefined);
    if (child.pid !== undefined) {
      try {
        setPriority(child.pid, BACKGROUND_PRIORITY);
      } catch {
        // it runs at the same priority
      }
    }
    child.unref();
    return child.pid;
  } catch {
    // as above: the next command's close leaves them due again
    return undefined;
  }
}
