/** Small text helpers shared by the in-process memory, the budget and the offline answer. */
import { searchTerms } from '@aios/utils';
import porter2 from 'wink-porter2-stemmer';

export const STOPWORDS: ReadonlySet<string> = new Set(
  (
    'a an and are as at be been but by can could did do does for from had has have how i ' +
    'if in into is it its me my no not of on or our so than that the their them then there ' +
    'these they this to was we were what when where which who whom why will with would you ' +
    'your about tell please explain describe give show much many'
  ).split(' '),
);

/** Month and day names (lower case): capitalised inside a sentence, yet never anyone's name. */
export const CALENDAR_WORDS: ReadonlySet<string> = new Set(
  (
    'january february march april may june july august september october november december ' +
    'jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday ' +
    'friday saturday sunday mondays tuesdays wednesdays thursdays fridays saturdays sundays'
  ).split(' '),
);

/**
 * Lower-case words, in order: the terms CARMA's BM25 indexes (`searchTerms`: letters,
 * digits and combining marks, a run of a script written without spaces as its pairs).
 */
export const words: (text: string) => string[] = searchTerms;

/** Words that carry meaning: `words` without common function words. */
export function contentWords(text: string): string[] {
  return words(text).filter((w) => !STOPWORDS.has(w));
}

/**
 * Longest word that is stemmed. Porter2's suffix rules are regular expressions whose time
 * grows with the square of the word's length: a 25,000-letter "word" in one fragment held
 * the event loop for 20 s on every question that retrieved it. No word of a language is
 * this long; a longer run of letters is matched as written.
 */
const MAX_STEMMED = 40;

/**
 * The English (Porter2) stem of a lower-case word, so that "serviced" meets "service" and
 * "allergies" meets "allergy"; words that are not plain Latin letters are left as they are.
 */
export function stem(word: string): string {
  return word.length > 3 && word.length <= MAX_STEMMED && /^[a-z]+$/.test(word)
    ? porter2(word)
    : word;
}

/** True when two stems name the same word: equal, or one a prefix of the other of 5+ letters. */
export function sameStem(a: string, b: string): boolean {
  if (a === b) return true;
  const [short, long] = a.length <= b.length ? [a, b] : [b, a];
  return short.length >= 5 && long.startsWith(short);
}
