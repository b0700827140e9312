import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestStore, storeTargets } from './test-support.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'aios-data-sources-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const piece = (path: string, pieceHash: string, fragmentId: string, namespace = 'documents') => ({
  namespace,
  path,
  pieceHash,
  fragmentId,
});

describe.each(storeTargets())('the source index (%s)', (impl) => {
  it('records sources and their pieces, looks pieces up by fragment, removes a source whole', async () => {
    const path = join(dir, `${impl}-index.db`);
    const store = await openTestStore(impl, path);
    const source = {
      namespace: 'documents',
      path: '/notes/a.md',
      contentHash: null,
      size: 10,
      modifiedAt: 1000,
      ingestedAt: 2000,
    };
    await store.sources.put(source);
    await store.sources.put({ ...source, path: '/notes/b.md' });
    await store.sources.put({ ...source, namespace: 'demo', path: '/demo/x.md' });
    await store.sources.put({ ...source, contentHash: 'h1', size: 12 });
    expect(await store.sources.get('documents', '/notes/a.md')).toEqual({
      ...source,
      contentHash: 'h1',
      size: 12,
    });
    expect((await store.sources.list()).map((s) => `${s.namespace}:${s.path}`)).toEqual([
      'demo:/demo/x.md',
      'documents:/notes/a.md',
      'documents:/notes/b.md',
    ]);
    expect((await store.sources.list({ namespace: 'demo' })).map((s) => s.path)).toEqual([
      '/demo/x.md',
    ]);

    expect(
      await store.sources.putPieces([
        piece('/notes/a.md', 'p1', 'f1'),
        piece('/notes/a.md', 'p2', 'f2'),
        piece('/notes/b.md', 'p1', 'f1'),
      ]),
    ).toBe(3);
    // A piece recorded again points at the fragment given.
    await store.sources.putPieces([piece('/notes/a.md', 'p2', 'f3')]);
    expect(await store.sources.pieces('documents', '/notes/a.md')).toEqual([
      piece('/notes/a.md', 'p1', 'f1'),
      piece('/notes/a.md', 'p2', 'f3'),
    ]);
    expect(await store.sources.piecesOf(['f1', 'nope'])).toEqual([
      piece('/notes/a.md', 'p1', 'f1'),
      piece('/notes/b.md', 'p1', 'f1'),
    ]);
    expect(
      await store.sources.removePieces([
        { namespace: 'documents', path: '/notes/a.md', pieceHash: 'p1' },
      ]),
    ).toBe(1);
    expect(await store.sources.remove('documents', '/notes/a.md')).toBe(true);
    expect(await store.sources.remove('documents', '/notes/a.md')).toBe(false);
    expect(await store.sources.get('documents', '/notes/a.md')).toBeUndefined();
    expect(await store.sources.pieces('documents', '/notes/a.md')).toEqual([]);
    expect(await store.sources.pieces('documents', '/notes/b.md')).toHaveLength(1);
    await store.close();

    const other = await openTestStore(impl, path);
    expect((await other.sources.list()).length).toBe(2);
    await other.close();
  });

  it('finds the fragments whose metadata names a file as their source, oldest first', async () => {
    const store = await openTestStore(impl, join(dir, `${impl}-from.db`));
    const at = 1_700_000_000_000;
    await store.fragments.put([
      {
        id: 'b',
        text: 'two',
        namespace: 'documents',
        metadata: { source: '/a.md' },
        createdAt: at + 2,
      },
      {
        id: 'a',
        text: 'one',
        namespace: 'documents',
        metadata: { source: '/a.md', line: 1 },
        createdAt: at + 1,
      },
      {
        id: 'c',
        text: 'other file',
        namespace: 'documents',
        metadata: { source: '/b.md' },
        createdAt: at,
      },
      {
        id: 'd',
        text: 'other namespace',
        namespace: 'notes',
        metadata: { source: '/a.md' },
        createdAt: at,
      },
      {
        id: 'e',
        text: 'not a path',
        namespace: 'documents',
        metadata: { source: 7 },
        createdAt: at,
      },
      {
        id: 'f',
        text: 'no source',
        namespace: 'documents',
        metadata: { title: '/a.md' },
        createdAt: at,
      },
    ]);
    expect(await store.sources.fragmentsFrom('documents', '/a.md')).toEqual(['a', 'b']);
    expect(await store.sources.fragmentsFrom('notes', '/a.md')).toEqual(['d']);
    expect(await store.sources.fragmentsFrom('documents', '7')).toEqual([]);
    expect(await store.sources.fragmentsFrom('documents', '/none.md')).toEqual([]);
    await expect(store.sources.fragmentsFrom('documents', '')).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await store.close();
  });

  it('refuses a missing namespace or path with INVALID_INPUT', async () => {
    const store = await openTestStore(impl, join(dir, `${impl}-bad.db`));
    await expect(store.sources.get(undefined as unknown as string, '/a')).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await expect(
      store.sources.putPieces([{ namespace: 'n', path: '', pieceHash: 'p', fragmentId: 'f' }]),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await store.close();
  });
});
