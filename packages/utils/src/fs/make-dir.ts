/**
 * Making a directory and its missing parents, with the error that says why it cannot be
 * made. Node's recursive mkdir reports a directory it cannot make because its filesystem
 * is read-only as ENOENT (it gives up on the first error and reports the one of the
 * deepest path), which reads as "a parent is missing" where the truth is EROFS or EACCES.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * The error of making `dir`, once a recursive mkdir failed with `error`: for ENOENT, the
 * error of making the first missing directory on its own (EROFS, EACCES...); a directory
 * that could be made now (another process's just appeared) leaves `undefined`: try again.
 */
function causeOf(dir: string, error: unknown): unknown {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return error;
  let missing = dir;
  for (let parent = dirname(missing); parent !== missing && !existsSync(parent); ) {
    missing = parent;
    parent = dirname(missing);
  }
  try {
    mkdirSync(missing);
  } catch (cause) {
    return (cause as NodeJS.ErrnoException).code === 'EEXIST' ? undefined : cause;
  }
  return undefined;
}

/** Makes `dir` and its missing parents (see the module); throws Node's error of the cause. */
export function makeDirSync(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    const cause = causeOf(dir, error);
    if (cause !== undefined) throw cause;
    mkdirSync(dir, { recursive: true });
  }
}

/** `makeDirSync`, the recursive mkdir off the JS thread. */
export async function makeDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    const cause = causeOf(dir, error);
    if (cause !== undefined) throw cause;
    await mkdir(dir, { recursive: true });
  }
}
