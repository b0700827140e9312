import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AiosError } from '@aios/utils';
import { testImplementations } from '@aios/utils/testing';
import { describe, expect, it } from 'vitest';
import { readEntry } from './read-entry.js';
import { noise, snapPath } from './testing/fixtures.js';
import { freshRepo, SMALL_CHUNKS, tempBase } from './testing/repo-fixture.js';
import type { BackupProgress } from './types.js';

const base = tempBase('aios-backup-stream-');

/** `data` as a stream of uneven pieces, as a pipe hands them over. */
async function* pieces(data: Buffer): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (let i = 0; at < data.length; i++) {
    const n = [1, 4093, 65_536, 300_001][i % 4] as number;
    yield data.subarray(at, at + n);
    at += n;
  }
}

async function collect(data: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const p of data) parts.push(p);
  return Buffer.concat(parts);
}

describe.each(testImplementations())('streamed entries (%s)', (impl) => {
  it('grows the total of the progress with the stream: done never passes it', async () => {
    const dump = noise(1_500_000, 11);
    const { src, repo } = await freshRepo(base(), impl, { files: { 'a.txt': noise(300_000, 2) } });
    const seen: BackupProgress[] = [];
    await repo.backup([src], {
      streams: [{ path: 'postgres/aios.sql', open: () => pieces(dump) }],
      onProgress: (p) => seen.push(p),
    });
    for (const p of seen) expect(p.bytesDone).toBeLessThanOrEqual(p.bytesTotal);
    const last = seen.at(-1);
    expect(last).toMatchObject({ phase: 'done', filesDone: last?.filesTotal });
    expect(last?.bytesDone).toBe(last?.bytesTotal);
    expect(last?.bytesTotal).toBeGreaterThanOrEqual(300_000 + dump.length);
    // The dump's bytes show as it streams, not all at its end.
    expect(seen.filter((p) => p.currentPath === 'postgres/aios.sql').length).toBeGreaterThan(1);
  });

  it('cut like the same bytes in a file, restored, read back and deduplicated', async () => {
    const dump = Buffer.concat([noise(2_500_000, 7), Buffer.alloc(700_000, 'x'), noise(9, 3)]);
    const { dir, src, repo } = await freshRepo(base(), impl, { files: { 'a.txt': noise(10, 1) } });
    const asFile = join(src, 'dump.sql');
    writeFileSync(asFile, dump);
    const fromFile = await repo.backup([asFile]);
    const path = 'postgres/aios.sql';
    const first = await repo.backup([src], {
      excludes: ['dump.sql'],
      streams: [{ path, open: () => pieces(dump) }],
    });
    const snap = await repo.loadSnapshot(first.snapshot.id);
    const entry = snap.entries.find((e) => e.path === path);
    const fileEntry = (await repo.loadSnapshot(fromFile.snapshot.id)).entries.find(
      (e) => e.path === snapPath(asFile),
    );
    expect(entry).toMatchObject({ type: 'file', size: dump.length, mode: 0o600 });
    // The same boundaries and ids as the file: nothing of the stream was stored again.
    expect(entry?.chunks).toEqual(fileEntry?.chunks);
    expect(first.snapshot.summary.bytesNew).toBeLessThan(100);
    expect(snap.entries.find((e) => e.path === 'postgres')).toMatchObject({ type: 'dir' });
    const paths = snap.entries.map((e) => e.path);
    expect(paths).toEqual([...paths].sort());

    const reader = await readEntry(repo, first.snapshot.id, path);
    expect((await collect(reader.data)).equals(dump)).toBe(true);
    await repo.restore(first.snapshot.id, join(dir, 'out'));
    expect(readFileSync(join(dir, 'out', path)).equals(dump)).toBe(true);
    expect((await repo.verify({ readData: 100 })).ok).toBe(true);

    // The same bytes again add no chunk; one changed byte is one modified entry.
    const again = await repo.backup([src], {
      excludes: ['dump.sql'],
      streams: [{ path, open: () => pieces(dump) }],
    });
    expect(again.snapshot.summary.chunksNew).toBe(0);
    const changed = Buffer.from(dump);
    changed[1_000_000] = (changed[1_000_000] as number) ^ 1;
    const third = await repo.backup([src], {
      excludes: ['dump.sql'],
      streams: [{ path, chunker: SMALL_CHUNKS, open: () => pieces(changed) }],
    });
    expect(third.snapshot.summary.bytesNew).toBeLessThanOrEqual(SMALL_CHUNKS.maxSize * 2);
    expect((await repo.diff(again.snapshot.id, third.snapshot.id)).modified).toEqual([path]);
  });

  it('a stream that fails leaves no snapshot; paths are checked', async () => {
    const { src, repo } = await freshRepo(base(), impl, { files: { 'a.txt': noise(10, 1) } });
    const failing = async function* () {
      yield noise(9_000_000, 2);
      throw new AiosError('DUMP_FAILED', 'the dump stopped');
    };
    await expect(
      repo.backup([src], { streams: [{ path: 'db/x.sql', open: failing }] }),
    ).rejects.toMatchObject({ code: 'DUMP_FAILED' });
    expect(await repo.snapshots()).toEqual([]);
    expect((await repo.verify({ readData: 100 })).ok).toBe(true);
    await expect(
      repo.backup([src], { streams: [{ path: '../x.sql', open: () => pieces(noise(1, 1)) }] }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(
      repo.backup([src], {
        streams: [{ path: snapPath(join(src, 'a.txt')), open: () => pieces(noise(1, 1)) }],
      }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    const ok = await repo.backup([src]);
    await expect(readEntry(repo, ok.snapshot.id, 'db/x.sql')).rejects.toMatchObject({
      code: 'ENTRY_NOT_FOUND',
    });
  });
});
