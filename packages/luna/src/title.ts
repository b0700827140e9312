/** A conversation's title: its first question, on one line and short enough to list. */

/** Longest title, in characters (the ellipsis of a shortened one included). */
export const TITLE_CHARS = 60;

/** Punctuation and spaces that make an untidy end (a whole title keeps its `?` or `!`). */
const UNTIDY_END = /[\s.,;:…\-–—([{]+$/u;

/**
 * `question` as a title: whitespace (new lines too) made single spaces; whole when it fits
 * in `max` characters, else cut at the last word boundary that leaves room for an ellipsis
 * (mid-word only for a first word longer than that). A cut title loses its trailing
 * punctuation before the ellipsis; a whole one its trailing dots and commas, and repeated
 * `?` or `!` become one. Empty when the question holds no words.
 */
export function conversationTitle(question: string, max = TITLE_CHARS): string {
  const line = question.replace(/\s+/g, ' ').trim();
  if (line.length <= max) {
    const tidy = line.replace(UNTIDY_END, '').replace(/([?!])[?!\s]*$/u, '$1');
    return /[\p{L}\p{N}]/u.test(tidy) ? tidy : '';
  }
  const room = max - 1;
  // The last space at or before `room`: the word before it ends whole.
  const space = line.lastIndexOf(' ', room);
  const cut = space > max / 3 ? line.slice(0, space) : line.slice(0, room);
  const tidy = cut.replace(/[\s.,;:…\-–—([{?!]+$/u, '');
  return tidy === '' ? '' : `${tidy}…`;
}
