import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { initRepository, type Repository } from '../repository.js';
import { makeTree } from './fixtures.js';

/** Small chunks and packs, so that a few MB of test data span many of each. */
export const SMALL_CHUNKS = { minSize: 16 * 1024, avgSize: 64 * 1024, maxSize: 256 * 1024 };
export const SMALL_PACK = 1024 * 1024;

/** A temp directory for one test file (made before its tests, removed after them). */
export function tempBase(prefix: string): () => string {
  let base = '';
  beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), prefix));
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));
  return () => base;
}

export interface RepoFixture {
  /** A directory of the test's own, holding `src` and `repo`. */
  dir: string;
  /** The source: a `makeTree` tree, or the files asked for. */
  src: string;
  repo: Repository;
}

export interface SourceOptions {
  /** The seed of the `makeTree` tree. */
  seed?: number;
  /** These files (name to content) instead of a `makeTree` tree. */
  files?: Record<string, Buffer>;
}

/**
 * A new empty repository (small chunks and packs) and a source tree, in a directory of
 * their own under `base`: a test that uses it depends on no other test.
 */
export async function freshRepo(
  base: string,
  impl: 'native' | 'js',
  source: SourceOptions = {},
): Promise<RepoFixture> {
  const dir = mkdtempSync(join(base, `${impl}-`));
  const src = join(dir, 'src');
  mkdirSync(src, { recursive: true });
  if (source.files) {
    for (const [name, data] of Object.entries(source.files)) writeFileSync(join(src, name), data);
  } else makeTree(src, source.seed ?? 1);
  const repo = await initRepository(join(dir, 'repo'), {
    native: impl,
    chunker: SMALL_CHUNKS,
    packSize: SMALL_PACK,
  });
  return { dir, src, repo };
}
