import { describe, expect, it } from 'vitest';
import { hasUnspaced, isUnspaced, pushUnspacedTerms, termRuns, unspacedTerms } from './unspaced.js';

describe('search terms of scripts written without spaces', () => {
  it('splits runs of Han, kana and Hangul into overlapping pairs, and leaves the rest whole', () => {
    expect(unspacedTerms(['東京は日本の首都です'])).toEqual([
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
    expect(unspacedTerms(['iphone16は人気', '서울의', 'москва', '𠀋x', '々々', 'été'])).toEqual([
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
    pushUnspacedTerms('中国', out);
    expect(out).toEqual(['kept', '中国']);
    expect(unspacedTerms([])).toEqual([]);
  });

  it('tells those scripts from others, outside the basic plane too', () => {
    expect([0x4e2d, 0x3042, 0x30a2, 0xd55c, 0x2000b, 0x3005].every(isUnspaced)).toBe(true);
    expect([0x41, 0xe9, 0x416, 0x5d0, 0x3001, 0x30fb - 0x1000].some(isUnspaced)).toBe(false);
    expect(hasUnspaced('plain, café, Москва')).toBe(false);
    expect(hasUnspaced('ok 한')).toBe(true);
    expect(hasUnspaced('𠀋')).toBe(true);
    expect([0x0e40, 0x0e81, 0x1000, 0x1780].every(isUnspaced)).toBe(true);
    expect(hasUnspaced('हिन्दी தமிழ்')).toBe(false);
  });

  it('pairs Thai, Lao, Khmer and Myanmar too, marks included', () => {
    expect(unspacedTerms(['ไทย', 'ລາວ'])).toEqual(['ไท', 'ทย', 'ລາ', 'າວ']);
  });

  it('keeps combining marks in their words: the virama does not cut a word', () => {
    expect(termRuns('फ्रांस की राजधानी क्या है? தமிழ்நாட்டின் தலைநகரம், l’été 2024')).toEqual([
      'फ्रांस',
      'की',
      'राजधानी',
      'क्या',
      'है',
      'தமிழ்நாட்டின்',
      'தலைநகரம்',
      'l',
      'été',
      '2024',
    ]);
    expect(termRuns('เป็นเมืองหลวง')).toEqual(['เป็นเมืองหลวง']);
    expect(termRuns(' .. ')).toEqual([]);
  });
});
