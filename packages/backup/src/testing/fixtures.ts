import { createHash } from 'node:crypto';
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

/** Deterministic pseudo-random bytes (xorshift32). */
export function noise(length: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = (s >>> 24) & 0xff;
  }
  return out;
}

/** A small mixed tree: text, binary, empty, nested, a large file, a symlink. */
export function makeTree(root: string, seed = 1): void {
  mkdirSync(join(root, 'docs', 'deep', 'er'), { recursive: true });
  mkdirSync(join(root, 'empty-dir'), { recursive: true });
  mkdirSync(join(root, 'cache'), { recursive: true });
  writeFileSync(join(root, 'readme.txt'), 'hello backup\n'.repeat(100));
  writeFileSync(join(root, 'empty.bin'), '');
  writeFileSync(join(root, 'docs', 'a.bin'), noise(70_000, seed));
  writeFileSync(join(root, 'docs', 'deep', 'er', 'b.txt'), 'nested '.repeat(5000));
  writeFileSync(join(root, 'big.bin'), noise(3 * 1024 * 1024 + 123, seed + 1));
  writeFileSync(join(root, 'cache', 'skip.tmp'), 'excluded');
  writeFileSync(join(root, 'notes.log'), 'excluded too');
  symlinkSync('docs/a.bin', join(root, 'link-to-a'));
}

/** Map of relative path -> content digest (files), link target (symlinks) or 'dir'. */
export function describeTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const abs = join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      const s = lstatSync(abs);
      if (s.isSymbolicLink()) out[r] = `-> ${readlinkSync(abs)}`;
      else if (s.isDirectory()) {
        out[r] = 'dir';
        visit(abs, r);
      } else out[r] = createHash('sha256').update(readFileSync(abs)).digest('hex');
    }
  };
  visit(root, '');
  return out;
}

/** The snapshot path of an absolute source path. */
export function snapPath(abs: string): string {
  return abs.replace(/^\/+/, '');
}
