import { BoundedMap } from '@aios/utils';
import type { StoreContext } from './context.js';

/**
 * Rows read since the database last changed, by key: asked for again, such a row is given
 * from here instead of being read again. Whether anything changed is asked of the driver
 * (`changeToken`) on every read, so a row changed through this store or by any other
 * process is read afresh the very next time. Without a token (PostgreSQL, or a connection
 * busy with a batch) every read goes to the database.
 *
 * For small rows read on every request and seldom written (API keys): the token costs a
 * fraction of the read it saves.
 */
export class UnchangedReads<V> {
  private readonly rows: BoundedMap<string, V>;
  private token: number | undefined;

  constructor(
    private readonly ctx: StoreContext,
    max: number,
  ) {
    this.rows = new BoundedMap(max);
  }

  async read(key: string, load: () => Promise<V>): Promise<V> {
    const token = this.currentToken();
    if (token === undefined) return load();
    if (token !== this.token) {
      this.rows.clear();
      this.token = token;
    } else if (this.rows.has(key)) {
      return this.rows.get(key) as V;
    }
    // The row is read after the token: kept under it, it is never older than the token.
    const value = await load();
    if (this.token === token) this.rows.set(key, value);
    return value;
  }

  private currentToken(): number | undefined {
    // Queued calls may write before this read would run: then no token is worth keeping.
    if (this.ctx.busy()) return undefined;
    try {
      return this.ctx.driver.changeToken?.();
    } catch {
      // A closed store: the read itself says so.
      return undefined;
    }
  }
}
