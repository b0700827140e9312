import { describe, expect, it } from 'vitest';
import { BoundedMap } from './bounded-map.js';

describe('BoundedMap', () => {
  it('holds at most max entries however many keys it meets', () => {
    const map = new BoundedMap<string, number>(100);
    for (let i = 0; i < 10_000; i++) map.set(`key-${i}`, i);
    expect(map.size).toBe(100);
    expect(map.get('key-9999')).toBe(9999);
    expect(map.get('key-0')).toBeUndefined();
  });

  it('drops the least recently used entry, a read counting as a use', () => {
    const map = new BoundedMap<string, number>(2);
    map.set('a', 1).set('b', 2);
    expect(map.get('a')).toBe(1);
    map.set('c', 3);
    expect(map.has('a')).toBe(true);
    expect(map.has('b')).toBe(false);
    map.set('a', 10);
    map.set('d', 4);
    expect([map.get('a'), map.has('c'), map.get('d')]).toEqual([10, false, 4]);
  });

  it('refuses a bound that is not a positive integer', () => {
    expect(() => new BoundedMap(0)).toThrow(/max/);
  });
});
