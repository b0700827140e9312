import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Every file and folder under `dir`, in name order, one line each: the path, its size,
 * modification time and the SHA-256 of its contents (a folder: its path and mtime). Two
 * snapshots are equal only if nothing under `dir` was written, created or removed, for
 * tests that something left a tree untouched.
 */
export function treeSnapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (at: string) => {
    for (const name of readdirSync(at).sort()) {
      const path = join(at, name);
      const info = statSync(path);
      if (info.isDirectory()) {
        out.push(`${path}/ ${info.mtimeMs}`);
        walk(path);
      } else {
        const hash = createHash('sha256').update(readFileSync(path)).digest('hex');
        out.push(`${path} ${info.size} ${info.mtimeMs} ${hash}`);
      }
    }
  };
  walk(dir);
  return out;
}
