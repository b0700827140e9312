import { describe, expect, it } from 'vitest';
import { KeyTouches, REMEMBERED_KEYS, TOUCH_INTERVAL_MS } from './touches.js';

describe('KeyTouches', () => {
  it("writes a key's last use once per interval", () => {
    const touches = new KeyTouches();
    expect(touches.due('k1', 1_000)).toBe(true);
    expect(touches.due('k1', 1_000 + TOUCH_INTERVAL_MS - 1)).toBe(false);
    expect(touches.due('k2', 1_000)).toBe(true);
    expect(touches.due('k1', 1_000 + TOUCH_INTERVAL_MS)).toBe(true);
  });

  it('remembers a bounded number of keys, however many a server sees over its life', () => {
    const touches = new KeyTouches();
    for (let i = 0; i < 3 * REMEMBERED_KEYS; i++) touches.due(`key-${i}`, i);
    expect(touches.size).toBe(REMEMBERED_KEYS);
    // The most recent ones are still within their interval; the first was forgotten.
    expect(touches.due(`key-${3 * REMEMBERED_KEYS - 1}`, 3 * REMEMBERED_KEYS)).toBe(false);
    expect(touches.due('key-0', 3 * REMEMBERED_KEYS)).toBe(true);
  });
});
