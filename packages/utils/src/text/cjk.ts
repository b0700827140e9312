/**
 * Words in the scripts written without spaces between them (Han, kana, Hangul). Search
 * splits a run of them into its overlapping pairs of characters, as Lucene's CJK bigrams
 * do, so that `首都` finds `東京は日本の首都です`: CARMA's BM25 (natively in
 * crates/carma/src/text.rs, the same rule) and Luna's relevance judge both do.
 */

/** Han ideographs (with the iteration and closing marks), kana and Hangul. */
export function isCjk(codePoint: number): boolean {
  const c = codePoint;
  return (
    (c >= 0x1100 && c <= 0x11ff) || // Hangul Jamo
    (c >= 0x3005 && c <= 0x3007) || // 々 〆 〇
    (c >= 0x3040 && c <= 0x30ff) || // Hiragana, Katakana
    (c >= 0x3130 && c <= 0x318f) || // Hangul compatibility Jamo
    (c >= 0x31f0 && c <= 0x31ff) || // Katakana phonetic extensions
    (c >= 0x3400 && c <= 0x4dbf) || // CJK extension A
    (c >= 0x4e00 && c <= 0x9fff) || // CJK unified ideographs
    (c >= 0xac00 && c <= 0xd7af) || // Hangul syllables
    (c >= 0xf900 && c <= 0xfaff) || // CJK compatibility ideographs
    (c >= 0xff66 && c <= 0xff9f) || // halfwidth Katakana
    (c >= 0x20000 && c <= 0x3134f) // CJK extensions B to G
  );
}

const ANY_CJK =
  /[\u1100-\u11ff\u3005-\u3007\u3040-\u30ff\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f\u{20000}-\u{3134f}]/u;

/** Whether `text` holds a character of those scripts. */
export function hasCjk(text: string): boolean {
  return ANY_CJK.test(text);
}

/**
 * Appends to `out` the search terms of one word (a run of letters and digits): the word
 * itself, or, for its parts in those scripts, their overlapping pairs of characters (a
 * lone character stays itself); the other parts stay whole.
 */
export function pushCjkTerms(word: string, out: string[]): void {
  if (!ANY_CJK.test(word)) {
    out.push(word);
    return;
  }
  const chars = Array.from(word);
  const cjk = chars.map((ch) => isCjk(ch.codePointAt(0) as number));
  let i = 0;
  while (i < chars.length) {
    let j = i;
    while (j < chars.length && cjk[j] === cjk[i]) j++;
    if (!cjk[i] || j - i === 1) out.push(chars.slice(i, j).join(''));
    else for (let p = i; p < j - 1; p++) out.push(`${chars[p]}${chars[p + 1]}`);
    i = j;
  }
}

/** `words` with each one's CJK parts as pairs of characters (see `pushCjkTerms`). */
export function cjkTerms(words: readonly string[]): string[] {
  const out: string[] = [];
  for (const word of words) pushCjkTerms(word, out);
  return out;
}
