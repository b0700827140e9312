import { describe, expect, it } from 'vitest';
import type { FragmentRecord } from './fragment-store.js';
import { publicFragment } from './records.js';

describe('publicFragment', () => {
  const record = (): FragmentRecord => ({
    id: 'f1',
    label: 7,
    namespace: 'notes',
    text: 'the boundary layer',
    contentHash: 'ab',
    metadata: { source: 'a.md', tags: ['x', 'y'], page: 3, draft: false, note: null },
    importance: 0.5,
    core: true,
    createdAt: 1,
    updatedAt: 2,
    accessedAt: 3,
    accessCount: 4,
    reinforcements: 5,
    version: 6,
    mergedFrom: ['f0'],
    links: ['f2'],
  });

  it('is the record without its label', () => {
    const { label: _label, ...rest } = record();
    expect(publicFragment(record())).toStrictEqual(rest);
  });

  it('shares nothing a caller could change with the record', () => {
    const f = record();
    const copy = publicFragment(f);
    copy.mergedFrom.push('z');
    copy.links.push('z');
    (copy.metadata.tags as string[]).push('z');
    copy.metadata.source = 'b.md';
    expect(f).toStrictEqual(record());
  });
});
