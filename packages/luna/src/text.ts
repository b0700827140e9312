/** Small text helpers shared by the in-process memory, the budget and the offline answer. */
import { hasUnspaced, termRuns, unspacedTerms } from '@aios/utils';
import porter2 from 'wink-porter2-stemmer';

export const STOPWORDS: ReadonlySet<string> = new Set(
  (
    'a an and are as at be been but by can could did do does for from had has have how i ' +
    'if in into is it its me my no not of on or our so than that the their them then there ' +
    'these they this to was we were what when where which who whom why will with would you ' +
    'your about tell please explain describe give show much many'
  ).split(' '),
);

/**
 * Lower-case words (runs of letters, digits and combining marks: `फ्रांस`, `தமிழ்` whole),
 * in order; a run in a script written without spaces (Han, kana, Hangul, Thai...) as its
 * overlapping pairs of characters: the terms CARMA's BM25 indexes it by (`termRuns`,
 * `unspacedTerms`).
 */
export function words(text: string): string[] {
  const runs = termRuns(text.toLowerCase());
  return hasUnspaced(text) ? unspacedTerms(runs) : runs;
}

/** Words that carry meaning: `words` without common function words. */
export function contentWords(text: string): string[] {
  return words(text).filter((w) => !STOPWORDS.has(w));
}

/**
 * The English (Porter2) stem of a lower-case word, so that "serviced" meets "service" and
 * "allergies" meets "allergy"; words that are not plain Latin letters are left as they are.
 */
export function stem(word: string): string {
  return /^[a-z]+$/.test(word) && word.length > 3 ? porter2(word) : word;
}

/** True when two stems name the same word: equal, or one a prefix of the other of 5+ letters. */
export function sameStem(a: string, b: string): boolean {
  if (a === b) return true;
  const [short, long] = a.length <= b.length ? [a, b] : [b, a];
  return short.length >= 5 && long.startsWith(short);
}
