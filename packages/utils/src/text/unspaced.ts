/**
 * Search terms of text in any script. A term run holds letters, digits and combining marks
 * (`\p{M}`: the virama of Devanagari, Tamil or Bengali is a mark, so `फ्रांस` stays one
 * word). The scripts written without spaces between words (Han, kana, Hangul, Thai, Lao,
 * Khmer, Myanmar) split a run of them into its overlapping pairs of characters, as
 * Lucene's CJK bigrams do, so that `首都` finds `東京は日本の首都です`. CARMA's BM25
 * (natively in crates/carma/src/text.rs, the same rule) and Luna's relevance judge both
 * use these terms.
 */

/** The scripts written without spaces between words (see the module's comment). */
export function isUnspaced(codePoint: number): boolean {
  const c = codePoint;
  return (
    (c >= 0x0e00 && c <= 0x0eff) || // Thai, Lao
    (c >= 0x1000 && c <= 0x109f) || // Myanmar
    (c >= 0x1100 && c <= 0x11ff) || // Hangul Jamo
    (c >= 0x1780 && c <= 0x17ff) || // Khmer
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

const ANY_UNSPACED = /[฀-໿က-႟ᄀ-ᇿក-៿々-〇぀-ヿ㄰-㆏ㇰ-ㇿ㐀-䶿一-鿿가-힯豈-﫿ｦ-ﾟ\u{20000}-\u{3134f}]/u;

const TERM_RUN = /[\p{Alphabetic}\p{M}\p{N}]+/gu;

/** The runs of letters, digits and combining marks of `text`, in order. */
export function termRuns(text: string): string[] {
  return text.match(TERM_RUN) ?? [];
}

/** Whether `text` holds a character of a script written without spaces. */
export function hasUnspaced(text: string): boolean {
  return ANY_UNSPACED.test(text);
}

/**
 * Appends to `out` the search terms of one word (a run of letters and digits): the word
 * itself, or, for its parts in those scripts, their overlapping pairs of characters (a
 * lone character stays itself); the other parts stay whole.
 */
export function pushUnspacedTerms(word: string, out: string[]): void {
  if (!ANY_UNSPACED.test(word)) {
    out.push(word);
    return;
  }
  const chars = Array.from(word);
  const unspaced = chars.map((ch) => isUnspaced(ch.codePointAt(0) as number));
  let i = 0;
  while (i < chars.length) {
    let j = i;
    while (j < chars.length && unspaced[j] === unspaced[i]) j++;
    if (!unspaced[i] || j - i === 1) out.push(chars.slice(i, j).join(''));
    else for (let p = i; p < j - 1; p++) out.push(`${chars[p]}${chars[p + 1]}`);
    i = j;
  }
}

/** `words` with each one's unspaced parts as pairs of characters (see `pushUnspacedTerms`). */
export function unspacedTerms(words: readonly string[]): string[] {
  const out: string[] = [];
  for (const word of words) pushUnspacedTerms(word, out);
  return out;
}

/**
 * The search terms of `text`: its lowercased runs (`termRuns`), those in scripts written
 * without spaces as pairs of characters (`unspacedTerms`). CARMA's BM25 indexes these
 * (`lexicalTokens`, with a Rust twin) and Luna's relevance judge compares them.
 */
export function searchTerms(text: string): string[] {
  const runs = termRuns(text.toLowerCase());
  return hasUnspaced(text) ? unspacedTerms(runs) : runs;
}
