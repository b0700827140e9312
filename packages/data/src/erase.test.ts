import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestStore, storeTargets } from './test-support.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'aios-data-erase-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Whether any of the database's files holds `text` (UTF-8) anywhere in its bytes. */
function filesHold(path: string, text: string): string[] {
  const needle = Buffer.from(text);
  return [path, `${path}-wal`, `${path}-journal`].filter(
    (p) => existsSync(p) && readFileSync(p).includes(needle),
  );
}

const vector = (seed: number) => Float32Array.from({ length: 8 }, (_, i) => Math.sin(seed + i));

describe.each(storeTargets())('erasing a namespace (%s)', (impl) => {
  // The bytes left in files are SQLite's; on PostgreSQL the same erasure is checked
  // through the store (compact is VACUUM FULL there).
  const files = impl !== 'postgres';
  it('removes its fragments, vectors, history (deleted fragments too) and sources; compact leaves no byte of them', async () => {
    const path = join(dir, `${impl}-erase.db`);
    const store = await openTestStore(impl, path);
    const secret = [
      'Secret alpha: the vault code is 4417.',
      'Secret beta: the spare key is under the blue pot.',
      'Secret gamma, deleted before the erasure.',
      'Secret delta, ingested from a file and deleted.',
      'Secret epsilon, an older version of beta.',
    ];
    const change = (text: string, namespace?: string) => ({
      kind: 'add',
      data: { version: 1, text, ...(namespace ? { namespace } : {}) },
    });
    await store.fragments.put([
      {
        id: 'a',
        namespace: 'private',
        text: secret[0] as string,
        vector: vector(1),
        change: change(secret[0] as string),
      },
      {
        id: 'b',
        namespace: 'private',
        text: secret[4] as string,
        vector: vector(2),
        change: change(secret[4] as string),
      },
      {
        id: 'c',
        namespace: 'private',
        text: secret[2] as string,
        vector: vector(3),
        change: change(secret[2] as string, 'private'),
      },
      {
        id: 'd',
        namespace: 'private',
        text: secret[3] as string,
        vector: vector(4),
        change: change(secret[3] as string),
      },
      {
        id: 'k',
        namespace: 'public',
        text: 'Public: the shop opens at nine.',
        vector: vector(5),
        change: change('Public: the shop opens at nine.', 'public'),
      },
    ]);
    await store.fragments.put(
      [
        {
          id: 'b',
          namespace: 'private',
          text: secret[1] as string,
          change: { kind: 'update', data: { version: 2, text: secret[1] } },
        },
      ],
      { keepVectors: true },
    );
    // Deleted before the erasure: c's history names its namespace, d's source record names it.
    await store.fragments.delete(['c', 'd'], {
      changes: [
        { kind: 'delete', data: { text: secret[2] } },
        { kind: 'delete', data: { text: secret[3] } },
      ],
    });
    const source = {
      namespace: 'private',
      path: '/notes/s.md',
      contentHash: 'h',
      size: 1,
      modifiedAt: 1,
      ingestedAt: 1,
    };
    await store.sources.put(source);
    await store.sources.put({ ...source, namespace: 'public', path: '/notes/p.md' });
    await store.sources.putPieces([
      { namespace: 'private', path: '/notes/s.md', pieceHash: 'p1', fragmentId: 'd' },
      { namespace: 'public', path: '/notes/p.md', pieceHash: 'p1', fragmentId: 'k' },
    ]);
    await store.compact();
    if (files) for (const text of secret) expect(filesHold(path, text), text).not.toEqual([]);

    const erased = await store.fragments.eraseNamespace('private');
    expect(erased).toMatchObject({
      namespace: 'private',
      fragments: 2,
      vectors: 2,
      history: 7,
      sources: 1,
      sourcePieces: 1,
    });
    expect([...erased.ids].sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(erased.since).toBeTypeOf('number');
    expect(await store.fragments.count({ namespace: 'private' })).toBe(0);
    for (const id of ['a', 'b', 'c', 'd']) {
      expect((await store.fragments.history(id)).map((c) => [c.kind, c.data])).toEqual([
        ['erase', null],
      ]);
    }
    // What another process follows: every erased fragment changed after the erasure began.
    const { ids } = await store.fragments.changedSince(0);
    expect(ids).toEqual(expect.arrayContaining(['a', 'b', 'c', 'd']));
    // The other namespace is untouched.
    expect((await store.fragments.get('k'))?.text).toBe('Public: the shop opens at nine.');
    expect(await store.fragments.history('k')).toHaveLength(1);
    expect((await store.sources.list()).map((s) => s.namespace)).toEqual(['public']);
    expect(await store.sources.piecesOf(['k'])).toHaveLength(1);

    const compacted = await store.compact();
    expect(compacted.checkpointed).toBe(true);
    expect(compacted.pagesAfter).toBeLessThanOrEqual(compacted.pagesBefore);
    if (files) for (const text of secret) expect(filesHold(path, text), text).toEqual([]);
    if (files) expect(filesHold(path, 'Public: the shop opens at nine.')).not.toEqual([]);
    expect(await store.integrityCheck()).toBe('ok');
    await store.close();
    if (files) for (const text of secret) expect(filesHold(path, text), text).toEqual([]);
  });

  it('keeps the history of an id given that now lives in another namespace; checks its input', async () => {
    const store = await openTestStore(impl, join(dir, `${impl}-erase-input.db`));
    await store.fragments.put([
      { id: 'x', namespace: 'a', text: 'in a', change: { kind: 'add', data: { text: 'in a' } } },
      { id: 'y', namespace: 'b', text: 'in b', change: { kind: 'add', data: { text: 'in b' } } },
    ]);
    const erased = await store.fragments.eraseNamespace('a', { ids: ['y', 'never-existed'] });
    expect(erased.ids).toEqual(['x']);
    expect(await store.fragments.history('y')).toHaveLength(1);
    expect(await store.fragments.history('never-existed')).toEqual([]);
    const nothing = await store.fragments.eraseNamespace('empty');
    expect(nothing).toMatchObject({ fragments: 0, history: 0, ids: [], since: null });
    await expect(store.fragments.eraseNamespace('')).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await expect(
      store.fragments.eraseNamespace('a', { ids: [1 as unknown as string] }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(store.transaction(() => store.compact())).rejects.toMatchObject({
      code: 'DATA_IN_TRANSACTION',
    });
    await store.close();
  });
});
