import type { TenantRepository } from './access-types.js';
import { chain } from './awaitable.js';
import type { StoreContext } from './context.js';
import type { SqlRow } from './driver.js';
import { dataError } from './errors.js';
import { num } from './rows.js';
import { json, parseJson, requireString, timestamp } from './validate.js';

const toTenant = (r: SqlRow) => ({
  id: String(r.id),
  name: String(r.name),
  createdAt: num(r.created_at),
  settings: parseJson(r.settings),
});

export function createTenantRepository(ctx: StoreContext): TenantRepository {
  const { driver, serial } = ctx;
  return {
    async create(input) {
      const id = requireString(input?.id, 'id');
      const name = requireString(input.name, 'name');
      const settings = json(input.settings ?? {}, 'settings');
      const createdAt = timestamp(input.createdAt, 'createdAt', Date.now());
      return serial(() =>
        chain(driver.query('SELECT 1 FROM tenants WHERE id = ?1', [id]), (found) => {
          if (found.length > 0) {
            throw dataError('TENANT_EXISTS', `a tenant named ${JSON.stringify(id)} exists`, {
              details: { id },
            });
          }
          return chain(
            driver.run(
              'INSERT INTO tenants (id, name, created_at, settings) VALUES (?1, ?2, ?3, ?4)',
              [id, name, createdAt, settings],
            ),
            () => ({ id, name, createdAt, settings: parseJson(settings) }),
          );
        }),
      );
    },
    async get(id) {
      requireString(id, 'id');
      return serial(() =>
        chain(driver.query('SELECT * FROM tenants WHERE id = ?1', [id]), (result) => {
          const row = result[0];
          return row ? toTenant(row) : undefined;
        }),
      );
    },
    list: () =>
      serial(() =>
        chain(driver.query('SELECT * FROM tenants ORDER BY created_at, id'), (result) =>
          result.map(toTenant),
        ),
      ),
    async delete(id) {
      requireString(id, 'id');
      return serial(() =>
        chain(driver.run('DELETE FROM tenants WHERE id = ?1', [id]), (r) => r.changes > 0),
      );
    },
  };
}
