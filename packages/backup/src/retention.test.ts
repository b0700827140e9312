import { describe, expect, it } from 'vitest';
import { applyRetention, isoWeek, validatePolicy } from './retention.js';

// One snapshot every 12 hours for 400 days, newest first after sorting.
const start = Date.UTC(2025, 0, 1, 6);
const snaps = Array.from({ length: 800 }, (_, i) => ({
  id: `s${i}`,
  time: new Date(start + i * 12 * 3600_000).toISOString(),
  tags: i === 5 ? ['keep-me'] : [],
}));
const newest = snaps.at(-1)?.id;

describe('retention', () => {
  it('keeps the last n', () => {
    const { keep, remove } = applyRetention(snaps, { keepLast: 3 });
    expect(keep.map((s) => s.id)).toEqual(['s799', 's798', 's797']);
    expect(remove.length).toBe(797);
  });

  it('keeps the newest snapshot of each day, week, month and year', () => {
    const daily = applyRetention(snaps, { keepDaily: 7 }).keep;
    expect(daily.length).toBe(7);
    expect(daily[0]?.id).toBe(newest);
    expect(new Set(daily.map((s) => s.time.slice(0, 10))).size).toBe(7);
    const weekly = applyRetention(snaps, { keepWeekly: 4 }).keep;
    expect(new Set(weekly.map((s) => isoWeek(new Date(s.time)))).size).toBe(4);
    const monthly = applyRetention(snaps, { keepMonthly: 12 }).keep;
    expect(monthly.map((s) => s.time.slice(0, 7))).toEqual([
      '2026-02',
      '2026-01',
      '2025-12',
      '2025-11',
      '2025-10',
      '2025-09',
      '2025-08',
      '2025-07',
      '2025-06',
      '2025-05',
      '2025-04',
      '2025-03',
    ]);
    // The newest of each month is the last one taken in it.
    expect(monthly[1]?.time.slice(0, 10)).toBe('2026-01-31');
    const yearly = applyRetention(snaps, { keepYearly: 5 }).keep;
    expect(yearly.map((s) => s.time.slice(0, 4))).toEqual(['2026', '2025']);
  });

  it('combines rules and tags', () => {
    const { keep } = applyRetention(snaps, { keepLast: 2, keepDaily: 2, keepTags: ['keep-me'] });
    // keepLast 2 = both snapshots of the newest day; keepDaily adds the day before's newest.
    expect(keep.map((s) => s.id)).toEqual(['s799', 's798', 's797', 's5']);
  });

  it('computes ISO weeks across year boundaries', () => {
    expect(isoWeek(new Date(Date.UTC(2021, 0, 3)))).toBe('2020-W53');
    expect(isoWeek(new Date(Date.UTC(2024, 11, 30)))).toBe('2025-W01');
    expect(isoWeek(new Date(Date.UTC(2025, 5, 15)))).toBe('2025-W24');
  });

  it('refuses a policy that keeps nothing or has bad values', () => {
    expect(() => validatePolicy({})).toThrow(
      /keep at least one snapshot.*, got a policy with no keep rule$/,
    );
    // What was given is said in words, not as the type of the value ("got Object").
    expect(() => validatePolicy({ keepLast: 0, keepDaily: 0 })).toThrow(
      /, got a policy to keep the last 0 snapshots and the newest of each of the last 0 days$/,
    );
    expect(() => validatePolicy({ keepLast: -1 })).toThrow(/policy.keepLast/);
    expect(() => validatePolicy({ keepDaily: 1.5 })).toThrow(/non-negative integer/);
    expect(validatePolicy({ keepYearly: 1 })).toEqual({ keepYearly: 1 });
  });
});
