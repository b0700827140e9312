import { BoundedMap } from '@aios/utils';

/** A key's last-used time is written at most this often (a write per request would cost). */
export const TOUCH_INTERVAL_MS = 60_000;

/**
 * Keys whose last write is remembered: more than are used within an interval on any
 * server. Keys are made and revoked for as long as a server runs; one forgotten costs one
 * more write of its last-used time, never a wrong one.
 */
export const REMEMBERED_KEYS = 10_000;

/** When each key's last-used time was last written, for the keys used lately. */
export class KeyTouches {
  private readonly written = new BoundedMap<string, number>(REMEMBERED_KEYS);

  /** Whether key `id`'s last-used time is to be written at `now` (noted as written if so). */
  due(id: string, now: number): boolean {
    if (now - (this.written.get(id) ?? Number.NEGATIVE_INFINITY) < TOUCH_INTERVAL_MS) return false;
    this.written.set(id, now);
    return true;
  }

  /** Keys remembered now. */
  get size(): number {
    return this.written.size;
  }
}
