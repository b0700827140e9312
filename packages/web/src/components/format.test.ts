import { describe, expect, it } from 'vitest';
import { formatBytes, formatValue, oneLine } from './format';

describe('values as people read them', () => {
  it('spells out objects and arrays, and says none for empty ones', () => {
    expect(formatValue({ notes: 3, work: { fragments: 2 } })).toBe('notes 3, work fragments 2');
    expect(formatValue({})).toBe('none');
    expect(formatValue([])).toBe('none');
    expect(formatValue(['a', 1])).toBe('a, 1');
    expect(formatValue(null)).toBe('—');
  });

  it('gives sizes in binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(155_648)).toBe('152.0 KB');
  });

  it('puts text on one line, cut at a word when it is too long', () => {
    expect(oneLine('  The bell\n\nrang.  ', 20)).toBe('The bell rang.');
    expect(oneLine('The bicycle bell rang twice', 20)).toBe('The bicycle bell…');
    expect(oneLine('Supercalifragilistic', 10)).toBe('Supercali…');
  });
});
