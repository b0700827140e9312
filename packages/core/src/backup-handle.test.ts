import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDataStore } from '@aios/data';
import { loadConfig } from '@aios/utils';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { BackupHandle } from './backup-handle.js';

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function setup(impl: string) {
  const home = mkdtempSync(join(tmpdir(), 'aios-backup-handle-'));
  roots.push(home);
  const { config } = loadConfig({ cwd: home, env: { AIOS_HOME: home, AIOS_NATIVE: impl } });
  return { home, config };
}

const fragment = (id: string) => ({ id, text: `fragment ${id}` });

describe.each(testImplementations())('BackupHandle and the database (%s)', (impl) => {
  it('snapshots a consistent copy of the open database, never its live WAL', async () => {
    const { home, config } = setup(impl);
    writeFileSync(join(home, 'note.txt'), 'kept beside the database\n');
    const data = await openDataStore({ path: config.data.path, native: impl });
    await data.fragments.put([fragment('before-1'), fragment('before-2')]);
    const handle = new BackupHandle(config, undefined, undefined, (target) =>
      data.snapshotTo(target),
    );
    const { snapshot } = await handle.create();
    await data.fragments.put([fragment('after')]); // not in the snapshot
    const repo = await handle.open();
    const paths = (await repo.loadSnapshot(snapshot.id)).entries.map((e) => e.path);
    expect(paths.some((p) => p.endsWith('/.database-copy/aios.db'))).toBe(true);
    expect(
      paths.filter((p) => /\/aios\.db(-wal|-shm)?$/.test(p) && !p.includes('.database-copy')),
    ).toEqual([]);
    expect(existsSync(join(home, '.database-copy'))).toBe(false); // staged only for the run
    await data.close();

    rmSync(config.data.path);
    rmSync(join(home, 'note.txt'));
    const restored = await handle.restore(snapshot.id);
    expect(restored.errors).toEqual([]);
    expect(readdirSync(home)).not.toContain('.database-copy');
    expect(existsSync(join(home, 'note.txt'))).toBe(true);
    const back = await openDataStore({ path: config.data.path, native: impl });
    expect(await back.integrityCheck()).toBe('ok');
    expect((await back.fragments.list()).map((f) => f.id).sort()).toEqual(['before-1', 'before-2']);
    await back.close();
  });

  it('opens the database briefly when the caller has not, and skips a home without one', async () => {
    const { home, config } = setup(impl);
    const handle = new BackupHandle(config);
    const empty = await handle.create();
    const repo = await handle.open();
    const emptyPaths = (await repo.loadSnapshot(empty.snapshot.id)).entries.map((e) => e.path);
    expect(emptyPaths.some((p) => p.includes('aios.db'))).toBe(false);
    expect(existsSync(config.data.path)).toBe(false); // a backup does not create a database

    const data = await openDataStore({ path: config.data.path, native: impl });
    await data.fragments.put([fragment('only')]);
    await data.close();
    const { snapshot } = await handle.create();
    const target = join(home, 'elsewhere');
    await handle.restore(snapshot.id, target);
    // The target is a home of its own: the database where a home keeps it.
    expect(readdirSync(target)).toEqual(['aios.db']);
    const opened = await openDataStore({ path: join(target, 'aios.db'), native: impl });
    expect((await opened.fragments.list()).map((f) => f.id)).toEqual(['only']);
    await opened.close();
  });

  it('discards a snapshot that did not get the database, and says why', async () => {
    const { config } = setup(impl);
    const data = await openDataStore({ path: config.data.path, native: impl });
    await data.fragments.put([fragment('needed')]);
    await data.close();
    const handle = new BackupHandle({
      ...config,
      backup: { ...config.backup, excludes: ['.database-copy/'] },
    });
    await expect(handle.create()).rejects.toMatchObject({ code: 'BACKUP_INCOMPLETE' });
    expect(await (await handle.open()).snapshots()).toEqual([]);
  });

  it('a verify that read no pack data does not make the backup count as verified', async () => {
    const { home, config } = setup(impl);
    writeFileSync(join(home, 'note.txt'), 'something to back up\n');
    const handle = new BackupHandle(config);
    await handle.create();
    expect((await handle.lastBackup())?.verified).toBeNull();
    expect((await handle.verify(0)).checkedPacks).toBe(0);
    expect(await handle.lastBackup()).toMatchObject({
      verified: null,
      detail: expect.stringContaining('structure only'),
    });
    expect((await handle.verify()).checkedPacks).toBe(1); // the default reads a share of packs
    expect((await handle.lastBackup())?.verified).toBe(true);
  });

  it('maps a snapshot of a moved home onto the current one; never replaces an open database', async () => {
    const { home, config } = setup(impl);
    const data = await openDataStore({ path: config.data.path, native: impl });
    await data.fragments.put([fragment('kept')]);
    await data.close();
    writeFileSync(join(home, 'note.txt'), 'beside the database\n');
    const { snapshot } = await new BackupHandle(config).create();

    const moved = `${home}-moved`;
    roots.push(moved);
    renameSync(home, moved);
    const { config: movedConfig } = loadConfig({
      cwd: moved,
      env: { AIOS_HOME: moved, AIOS_NATIVE: impl },
    });
    const handle = new BackupHandle(movedConfig);
    rmSync(join(moved, 'note.txt'));
    const open = await openDataStore({ path: movedConfig.data.path, native: impl });
    await expect(handle.restore(snapshot.id)).rejects.toMatchObject({ code: 'DATA_BUSY' });
    await open.fragments.put([fragment('written while the restore was refused')]);
    await open.close();
    expect(existsSync(join(moved, 'note.txt'))).toBe(false); // nothing was touched

    const restored = await handle.restore(snapshot.id);
    expect(restored).toMatchObject({ target: moved, applied: true, errors: [] });
    expect(readFileSync(join(moved, 'note.txt'), 'utf8')).toBe('beside the database\n');
    expect(readdirSync(moved).filter((n) => n.startsWith('.restore-'))).toEqual([]);
    const back = await openDataStore({ path: movedConfig.data.path, native: impl });
    expect((await back.fragments.list()).map((f) => f.id)).toEqual(['kept']);
    await back.close();
  });
});
