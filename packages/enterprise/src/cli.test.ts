import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testImplementations } from '@aios/utils/testing';
import type * as Sqlite3Wasm from 'node-sqlite3-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { runAios, serveAios } from './test-support/cli.js';

const { Database } = createRequire(import.meta.url)('node-sqlite3-wasm') as typeof Sqlite3Wasm;

function rawSql(path: string, sql: string): void {
  const db = new Database(path);
  try {
    // The wasm VFS has no shared memory: a WAL database opens in exclusive locking mode.
    db.exec('PRAGMA locking_mode = EXCLUSIVE');
    db.exec(sql);
  } finally {
    db.close();
  }
}

const homes: string[] = [];
afterAll(() => {
  for (const home of homes) rmSync(home, { recursive: true, force: true });
});
function newHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'aios-enterprise-cli-'));
  homes.push(home);
  return home;
}

describe.each(testImplementations())(
  'aios keys, audit and serve (%s)',
  { timeout: 300_000 },
  (impl) => {
    const env = { AIOS_NATIVE: impl };

    it('creates, lists and revokes keys; the key is printed once and stored nowhere', async () => {
      const home = newHome();
      const created = runAios(
        home,
        ['keys', 'create', '--name', 'ops', '--scope', 'admin', 'chat'],
        env,
      );
      expect(created.code, created.stderr).toBe(0);
      const key = created.stdout.trim();
      expect(key).toMatch(/^aios_sk_[a-z2-7]{10}_[A-Za-z0-9_-]{43}$/);
      const id = key.split('_')[2] as string;
      const list = runAios(home, ['keys', 'list', '--json'], env);
      expect(JSON.parse(list.stdout)).toMatchObject([
        { id, scopes: ['admin', 'chat'], revokedAt: null },
      ]);
      expect(list.stdout).not.toContain(key.slice(-43));
      const bad = runAios(home, ['keys', 'create', '--name', 'x', '--scope', 'root'], env);
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toMatch(/^aios: .*root.*\[INVALID_INPUT\]/);
      expect(runAios(home, ['keys', 'revoke', id], env).code).toBe(0);
      expect(
        JSON.parse(runAios(home, ['keys', 'list', '--json'], env).stdout)[0].revokedAt,
      ).not.toBeNull();
      const missing = runAios(home, ['keys', 'revoke', 'aaaaaaaaaa'], env);
      expect(missing.stderr).toMatch(/\[KEY_NOT_FOUND\]/);
    });

    const tampering: Array<[string, string, RegExp]> = [
      [
        'edited',
        "UPDATE audit_log SET outcome = 'denied' WHERE seq = 2",
        /audit entry 2: .*\(edited\)/,
      ],
      ['deleted', 'DELETE FROM audit_log WHERE seq = 2', /audit entry 2: .*\(deleted\)/],
      [
        'inserted',
        "INSERT INTO audit_log (seq, at, action, outcome, details, prev_hash, hash) SELECT 4, at, 'keys.create', 'ok', '{}', hash, hash FROM audit_log WHERE seq = 3",
        /audit entry 4: .*\(inserted\)/,
      ],
      [
        'reordered',
        'UPDATE audit_log SET seq = -seq WHERE seq IN (2, 3); UPDATE audit_log SET seq = CASE seq WHEN -2 THEN 3 ELSE 2 END WHERE seq < 0',
        /audit entry 2: .*\(reordered\)/,
      ],
    ];
    it.each(tampering)('aios audit verify names the first %s entry', (_what, sql, expected) => {
      const home = newHome();
      for (const name of ['a', 'b', 'c']) {
        expect(runAios(home, ['keys', 'create', '--name', name, '--scope', 'chat'], env).code).toBe(
          0,
        );
      }
      const ok = runAios(home, ['audit', 'verify'], env);
      expect(ok.stdout, `exit ${ok.code}: ${ok.stderr}`).toMatch(/intact: 3 entries/);
      rawSql(join(home, 'aios.db'), sql);
      const broken = runAios(home, ['audit', 'verify'], env);
      expect(broken.code).not.toBe(0);
      expect(broken.stderr).toMatch(expected);
      expect(broken.stderr).toMatch(/\[AUDIT_BROKEN\]\n$/);
    });

    it('refuses a second server on one home and a public address without a key', async () => {
      const home = newHome();
      const refused = runAios(home, ['serve', '--host', '0.0.0.0', '--port', '0'], env);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/\[BIND_NEEDS_KEY\]/);
      const first = await serveAios(home, [], env);
      try {
        const live = await fetch(`${first.url}/livez`);
        expect(await live.json()).toEqual({ status: 'ok' });
        const second = runAios(home, ['serve', '--port', '0'], env);
        expect(second.code).not.toBe(0);
        expect(second.stderr).toMatch(/a server already runs on .*\[SERVER_RUNNING\]/);
        // The CLI works beside a native server (its store is shared); a js store is one process's
        // alone, and the CLI says who holds it instead of waiting or corrupting it.
        const key = runAios(
          home,
          ['keys', 'create', '--name', 'beside', '--scope', 'memory:read'],
          env,
        );
        if (impl === 'js') {
          expect(key.stderr).toMatch(/in use by process \d+ \(aios serve.*\[DATA_BUSY\]/);
          return;
        }
        expect(key.code, key.stderr).toBe(0);
        const status = () =>
          fetch(`${first.url}/v1/status`, {
            headers: { authorization: `Bearer ${key.stdout.trim()}` },
          });
        for (let i = 0; i < 3; i++) expect((await status()).status).toBe(200);
        // The server has read the key for each request: a revocation by the CLI holds at the
        // very next one all the same.
        const revoked = runAios(
          home,
          ['keys', 'revoke', key.stdout.trim().split('_')[2] ?? ''],
          env,
        );
        expect(revoked.code, revoked.stderr).toBe(0);
        const refused = await status();
        expect(refused.status).toBe(401);
        expect(await refused.json()).toMatchObject({ error: { details: { reason: 'revoked' } } });
      } finally {
        first.child.kill('SIGTERM');
        await first.exited;
      }
      expect(first.stderr()).toMatch(/stopped/);
    });
  },
);
