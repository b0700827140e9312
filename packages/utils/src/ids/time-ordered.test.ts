import { describe, expect, it } from 'vitest';
import { timeOrderedUuid } from './time-ordered.js';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('timeOrderedUuid', () => {
  it('writes a UUID version 7 with the time in its first 48 bits', () => {
    const at = Date.UTC(2026, 11, 6, 19, 22, 58, 887);
    const id = timeOrderedUuid(at);
    expect(id).toMatch(V7);
    expect(Number.parseInt(id.replace('-', '').slice(0, 12), 16)).toBe(at);
    expect(timeOrderedUuid(0).startsWith('00000000-0000-7')).toBe(true);
    expect(timeOrderedUuid(2 ** 48 - 1).startsWith('ffffffff-ffff-7')).toBe(true);
  });

  it('sorts ids of later milliseconds after earlier ones, as text', () => {
    const start = Date.now();
    const ids = Array.from({ length: 2000 }, (_, i) => timeOrderedUuid(start + i));
    expect([...ids].sort()).toEqual(ids);
  });

  it('makes no id twice, across refills of its random bytes', () => {
    const at = Date.now();
    const ids = new Set(Array.from({ length: 50_000 }, () => timeOrderedUuid(at)));
    expect(ids.size).toBe(50_000);
    for (const id of [...ids].slice(0, 1000)) expect(id).toMatch(V7);
  });

  it('refuses what is not a time it can hold', () => {
    for (const bad of [-1, 2 ** 48, 1.5, Number.NaN]) {
      expect(() => timeOrderedUuid(bad)).toThrow(RangeError);
    }
  });
});
