import { describe, expect, it } from 'vitest';
import { iso, isoOrNull } from './time.js';

describe('iso', () => {
  it('writes every time as Date#toISOString does', () => {
    // A spread of days across four centuries, and every millisecond field value.
    for (let i = 0; i < 200_000; i++) {
      const ms = Math.floor((((i * 2_654_435_761) % 2 ** 32) / 2 ** 32) * 1.26e13) + (i % 1000);
      expect(iso(ms)).toBe(new Date(ms).toISOString());
    }
  });

  it('keeps each day right when an answer mixes days, including days that share a slot', () => {
    const today = Date.UTC(2026, 11, 7, 0, 39, 18, 363);
    const days = [0, 1, 16, 32, 365, 1].map((back) => today - back * 86_400_000);
    for (let round = 0; round < 3; round++) {
      for (const [i, ms] of days.entries()) {
        expect(iso(ms + i)).toBe(new Date(ms + i).toISOString());
      }
    }
  });

  it('agrees at the edges: the epoch, leap days, the ends of days and of year 9999', () => {
    const edges = [
      0,
      951_782_400_000, // 2000-02-29
      4_107_542_399_999, // 2100-02-28T23:59:59.999Z
      86_399_999,
      253_402_300_799_999,
      253_402_300_800_000, // +010000-01-01
      -1,
      -62_198_755_200_000, // year 0
      1.5,
      -0.5,
    ];
    for (const ms of edges) expect(iso(ms)).toBe(new Date(ms).toISOString());
  });

  it('refuses what toISOString refuses', () => {
    expect(() => iso(Number.NaN)).toThrow(RangeError);
    expect(() => iso(8.64e15 + 1)).toThrow(RangeError);
  });

  it('maps a missing time to null', () => {
    expect(isoOrNull(null)).toBeNull();
    expect(isoOrNull(undefined)).toBeNull();
    expect(isoOrNull(0)).toBe('1970-01-01T00:00:00.000Z');
  });
});
