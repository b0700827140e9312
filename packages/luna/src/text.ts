/** Small text helpers shared by the in-process memory, the budget and the offline answer. */

const STOPWORDS = new Set(
  (
    'a an and are as at be been but by can could did do does for from had has have how i ' +
    'if in into is it its me my no not of on or our so than that the their them then there ' +
    'these they this to was we were what when where which who whom why will with would you ' +
    'your about tell please explain describe give show much many'
  ).split(' '),
);

const WORD = /[\p{L}\p{N}]+/gu;

/** Lower-case words (letters and digits), in order. */
export function words(text: string): string[] {
  return text.toLowerCase().match(WORD) ?? [];
}

/** Words that carry meaning: `words` without common function words. */
export function contentWords(text: string): string[] {
  return words(text).filter((w) => !STOPWORDS.has(w));
}
