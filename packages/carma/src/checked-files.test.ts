import {
  existsSync,
  mkdtempSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECKED_SUFFIX, loadChecked, SETTLED_MS } from './checked-files.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'carma-checked-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Whether `loadChecked` told the load that `path` was verified before. */
const verified = (path: string) => loadChecked(path, async (v) => v);

describe('records of full checks', () => {
  it('trusts a settled file until anything writes to it or replaces it', async () => {
    const fresh = join(dir, 'fresh.bin');
    writeFileSync(fresh, 'just written');
    // Changed a moment ago: checked in full every time, and not recorded.
    expect(await verified(fresh)).toBe(false);
    expect(await verified(fresh)).toBe(false);
    expect(existsSync(fresh + CHECKED_SUFFIX)).toBe(false);

    const path = join(dir, 'index-1.bin');
    writeFileSync(path, 'the bytes of an index file');
    await sleep(SETTLED_MS + 200);
    expect(await verified(path)).toBe(false);
    expect(existsSync(path + CHECKED_SUFFIX)).toBe(true);
    expect(await verified(path)).toBe(true);

    // Same size, modification time set back: the change time still tells.
    const { atime, mtime } = statSync(path);
    writeFileSync(path, 'THE bytes of an index file');
    utimesSync(path, atime, mtime);
    expect(await verified(path)).toBe(false);

    // Replaced by another file with the same bytes and times: another inode.
    const other = join(dir, 'other.bin');
    writeFileSync(other, 'THE bytes of an index file');
    utimesSync(other, atime, mtime);
    renameSync(other, path);
    expect(await verified(path)).toBe(false);

    // A record that is not one is no record.
    writeFileSync(path + CHECKED_SUFFIX, '{ not json');
    expect(await verified(path)).toBe(false);
    // A missing file is never verified.
    expect(await verified(join(dir, 'missing.bin'))).toBe(false);
  });

  it('reads a file again in full when it changes while it is read', async () => {
    const path = join(dir, 'index-2.bin');
    writeFileSync(path, 'settled bytes');
    await sleep(SETTLED_MS + 200);
    await verified(path);
    const told: boolean[] = [];
    const result = await loadChecked(path, async (v) => {
      told.push(v);
      if (v) writeFileSync(path, 'changed bytes');
      return v;
    });
    expect(told).toEqual([true, false]);
    expect(result).toBe(false);
  });
});
