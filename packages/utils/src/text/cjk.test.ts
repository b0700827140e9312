import { describe, expect, it } from 'vitest';
import { cjkTerms, hasCjk, isCjk, pushCjkTerms } from './cjk.js';

describe('CJK search terms', () => {
  it('splits runs of Han, kana and Hangul into overlapping pairs, and leaves the rest whole', () => {
    expect(cjkTerms(['東京は日本の首都です'])).toEqual([
      '東京',
      '京は',
      'は日',
      '日本',
      '本の',
      'の首',
      '首都',
      '都で',
      'です',
    ]);
    expect(cjkTerms(['iphone16は人気', '서울의', 'москва', '𠀋x', '々々', 'été'])).toEqual([
      'iphone16',
      'は人',
      '人気',
      '서울',
      '울의',
      'москва',
      '𠀋',
      'x',
      '々々',
      'été',
    ]);
    const out = ['kept'];
    pushCjkTerms('中国', out);
    expect(out).toEqual(['kept', '中国']);
    expect(cjkTerms([])).toEqual([]);
  });

  it('tells those scripts from others, outside the basic plane too', () => {
    expect([0x4e2d, 0x3042, 0x30a2, 0xd55c, 0x2000b, 0x3005].every(isCjk)).toBe(true);
    expect([0x41, 0xe9, 0x416, 0x5d0, 0x3001, 0x30fb - 0x1000].some(isCjk)).toBe(false);
    expect(hasCjk('plain, café, Москва')).toBe(false);
    expect(hasCjk('ok 한')).toBe(true);
    expect(hasCjk('𠀋')).toBe(true);
  });
});
