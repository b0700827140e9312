import { invalidInput } from '@aios/utils';
import type { ApiKeyRecord, ApiKeyRepository } from './access-types.js';
import { chain } from './awaitable.js';
import type { StoreContext } from './context.js';
import type { SqlRow } from './driver.js';
import { num, numOrNull } from './rows.js';
import { UnchangedReads } from './unchanged-reads.js';
import { requireArray, requireString, timestamp } from './validate.js';

/** Keys kept while the database is unchanged: more than a server's clients use at once. */
const KEPT_KEYS = 1024;

const toKey = (r: SqlRow): ApiKeyRecord => ({
  id: String(r.id),
  tenantId: String(r.tenant_id),
  name: String(r.name),
  secretHash: String(r.secret_hash),
  scopes: JSON.parse(String(r.scopes)) as string[],
  createdAt: num(r.created_at),
  expiresAt: numOrNull(r.expires_at),
  lastUsedAt: numOrNull(r.last_used_at),
  revokedAt: numOrNull(r.revoked_at),
});

export function createApiKeyRepository(ctx: StoreContext): ApiKeyRepository {
  const { driver, serial } = ctx;
  const unchanged = new UnchangedReads<ApiKeyRecord | undefined>(ctx, KEPT_KEYS);
  return {
    async create(input) {
      const id = requireString(input?.id, 'id');
      const tenantId = requireString(input.tenantId, 'tenantId');
      const name = requireString(input.name, 'name', { empty: true });
      const secretHash = requireString(input.secretHash, 'secretHash');
      if (!/^[0-9a-f]{64}$/.test(secretHash)) {
        throw invalidInput('secretHash', secretHash, 'a hex SHA-256 digest');
      }
      const scopes = requireArray<string>(input.scopes, 'scopes').map((s, i) =>
        requireString(s, `scopes[${i}]`),
      );
      const createdAt = timestamp(input.createdAt, 'createdAt', Date.now());
      const expiresAt =
        input.expiresAt === null || input.expiresAt === undefined
          ? null
          : timestamp(input.expiresAt, 'expiresAt', 0);
      return serial(() =>
        chain(
          driver.run(
            'INSERT INTO api_keys (id, tenant_id, name, secret_hash, scopes, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)',
            [id, tenantId, name, secretHash, JSON.stringify(scopes), createdAt, expiresAt],
          ),
          (result) => {
            result;
            return {
              id,
              tenantId,
              name,
              secretHash,
              scopes,
              createdAt,
              expiresAt,
              lastUsedAt: null,
              revokedAt: null,
            };
          },
        ),
      );
    },
    async get(id) {
      requireString(id, 'id');
      // Every authenticated request reads its key: unchanged, it is not read again.
      const key = await unchanged.read(id, () =>
        serial(() =>
          chain(driver.query('SELECT * FROM api_keys WHERE id = ?1', [id]), (result) => {
            const row = result[0];
            return row ? toKey(row) : undefined;
          }),
        ),
      );
      return key && { ...key, scopes: [...key.scopes] };
    },
    async list(options = {}) {
      const tenantId =
        options.tenantId === undefined ? undefined : requireString(options.tenantId, 'tenantId');
      return serial(() =>
        chain(
          tenantId === undefined
            ? driver.query('SELECT * FROM api_keys ORDER BY created_at, id')
            : driver.query('SELECT * FROM api_keys WHERE tenant_id = ?1 ORDER BY created_at, id', [
                tenantId,
              ]),
          (rows) => rows.map(toKey),
        ),
      );
    },
    async touch(id, at) {
      requireString(id, 'id');
      const when = timestamp(at, 'at', Date.now());
      await serial(() =>
        driver.run(
          'UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at < ?2)',
          [id, when],
        ),
      );
    },
    async revoke(id, at) {
      requireString(id, 'id');
      const when = timestamp(at, 'at', Date.now());
      return serial(() =>
        chain(
          driver.run('UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL', [
            id,
            when,
          ]),
          () =>
            chain(
              driver.query('SELECT 1 FROM api_keys WHERE id = ?1', [id]),
              (rows) => rows.length > 0,
            ),
        ),
      );
    },
  };
}
