import { describe, expect, it } from 'vitest';
import { listQuery, NO_FILTERS, searchFilter } from './filters';

describe('the Memories filters', () => {
  it('are no filter at all when nothing is set', () => {
    expect(searchFilter(NO_FILTERS)).toBeUndefined();
    expect(listQuery(NO_FILTERS)).toEqual({});
  });

  it('turn dates into a half-open range of whole local days, and clamp importance', () => {
    const f = {
      ...NO_FILTERS,
      from: '2026-03-01',
      to: '2026-03-01',
      minImportance: '0.5',
      maxImportance: '7',
    };
    const start = new Date('2026-03-01T00:00:00').getTime();
    const end = new Date('2026-03-02T00:00:00').getTime();
    expect(searchFilter(f)).toEqual({
      createdAt: { $gte: start, $lt: end },
      importance: { $gte: 0.5, $lte: 1 },
    });
    expect(listQuery(f)).toEqual({
      from: new Date(start).toISOString(),
      to: new Date(end).toISOString(),
      minImportance: 0.5,
      maxImportance: 1,
    });
  });

  it('filter by source (a metadata field) and list by namespace', () => {
    const f = { ...NO_FILTERS, source: ' notes.md ', namespace: 'work' };
    expect(searchFilter(f)).toEqual({ source: 'notes.md' });
    expect(listQuery(f)).toEqual({ namespace: 'work', source: 'notes.md' });
  });
});
