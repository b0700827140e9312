import { invalidInput } from '@aios/utils';
import { chain } from './awaitable.js';
import type { StoreContext } from './context.js';
import { num, toPersonality } from './rows.js';
import type { DataStore } from './types.js';
import { checkRowSize, count, json, requireString, rowBytes, timestamp } from './validate.js';

/** The personality state, one row per version. */
export function createPersonalityRepository(ctx: StoreContext): DataStore['personality'] {
  const { driver, serial, maxRowBytes } = ctx;
  return {
    async save(name, state, at) {
      requireString(name, 'name');
      const text = json(state, 'state');
      if (state === undefined) throw invalidInput('state', state, 'a plain JSON object');
      checkRowSize(rowBytes(maxRowBytes, 0, text), maxRowBytes, 'state');
      const createdAt = timestamp(at, 'at', Date.now());
      const insert = 'INSERT INTO personality_states (name, state, created_at) VALUES (?1, ?2, ?3)';
      const saved = (id: number) => ({ id, name, state: JSON.parse(text), createdAt });
      return serial(() =>
        ctx.sql.returningIds
          ? chain(driver.query(`${insert} RETURNING id`, [name, text, createdAt]), (rows) =>
              saved(num(rows[0]?.id)),
            )
          : chain(driver.run(insert, [name, text, createdAt]), (r) => saved(r.lastInsertRowid)),
      );
    },
    async latest(name) {
      requireString(name, 'name');
      return serial(() =>
        chain(
          driver.query(
            'SELECT * FROM personality_states WHERE name = ?1 ORDER BY id DESC LIMIT 1',
            [name],
          ),
          (result) => {
            const r = result[0];
            return r ? toPersonality(r) : undefined;
          },
        ),
      );
    },
    async history(name, options = {}) {
      requireString(name, 'name');
      const limit = count(options.limit, 'limit', 100, 1_000_000);
      return serial(() =>
        chain(
          driver.query(
            'SELECT * FROM personality_states WHERE name = ?1 ORDER BY id DESC LIMIT ?2',
            [name, limit],
          ),
          (result) => result.map(toPersonality),
        ),
      );
    },
  };
}
