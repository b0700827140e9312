/**
 * The proper names a text holds ("Dr. Maren Olsen", "Halvorsen Shipping", "Bergen"): what
 * a pronoun after it can stand for, and what answers a question asking for a name. A name
 * is a run of words written with a capital; the run that opens a sentence is a name only
 * when it has two words or more, or when the text writes its word capitalised elsewhere
 * too (the first word of a sentence is capitalised whatever it is).
 */
import { CALENDAR_WORDS, STOPWORDS } from './text.js';

/** Abbreviated titles whose point does not end the sentence ("Dr. Maren Olsen"). */
const TITLE_ABBREVIATION = /^(?:Dr|Mr|Mrs|Ms|Mx|Prof|St|Sr|Jr)\.$/;
/** Small words inside a name ("Bank of Norway", "Ludwig van Beethoven"). */
const NAME_PARTICLES = new Set(['of', 'van', 'von', 'de', 'der', 'den', 'da', 'di', 'du', 'del']);

const capitalised = (word: string) => /^\p{Lu}/u.test(word);
/** A word without the punctuation around it (quotes, brackets, commas, a possessive 's). */
const bare = (token: string) =>
  token.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}.]+$/gu, '').replace(/['’]s$/u, '');
/** True when the token ends its sentence or clause: what follows starts a new run. */
const endsRun = (token: string) =>
  /[,;:!?)\]"”»]$/u.test(token) || (/\.$/.test(token) && !TITLE_ABBREVIATION.test(bare(token)));
/** True when the token ends a sentence, so that the next word is capitalised regardless. */
const endsSentence = (token: string) =>
  /[!?:]["”»)\]]*$/u.test(token) ||
  (/\.["”»)\]]*$/u.test(token) && !TITLE_ABBREVIATION.test(bare(token)));

/** A name's words, without a leading "The", "My"... and trailing point. */
function cleaned(run: string[]): string[] {
  const words = run.map(bare).map((w, i, all) => (i === all.length - 1 ? w.replace(/\.$/, '') : w));
  while (words.length > 0 && STOPWORDS.has((words[0] as string).toLowerCase())) words.shift();
  while (words.length > 0 && NAME_PARTICLES.has(words.at(-1) as string)) words.pop();
  return words;
}

/** The proper names of `text`, in order, each once. */
export function namesIn(text: string): string[] {
  const tokens = text.split(/\s+/).filter((t) => t !== '');
  const elsewhere = new Set<string>();
  tokens.forEach((token, i) => {
    const word = bare(token);
    if (i > 0 && !endsSentence(tokens[i - 1] as string) && capitalised(word)) {
      elsewhere.add(word.toLowerCase());
    }
  });
  const out: string[] = [];
  let run: string[] = [];
  let opensSentence = false;
  const close = () => {
    const words = cleaned(run);
    run = [];
    // Dates ("Monday of March") name no one.
    if (words.every((w) => CALENDAR_WORDS.has(w.toLowerCase()) || NAME_PARTICLES.has(w))) return;
    const one = words.length === 1 ? (words[0] as string) : undefined;
    if (one !== undefined) {
      const lower = one.toLowerCase();
      // "I", a bare title, or a word capitalised only because it opens its sentence.
      if (lower === 'i' || TITLE_ABBREVIATION.test(`${one}.`)) return;
      if (opensSentence && !elsewhere.has(lower)) return;
    }
    const name = words.join(' ');
    if (!out.includes(name)) out.push(name);
  };
  tokens.forEach((token, i) => {
    const word = bare(token);
    const starts = i === 0 || endsSentence(tokens[i - 1] as string);
    const particle =
      run.length > 0 && NAME_PARTICLES.has(word) && capitalised(bare(tokens[i + 1] ?? ''));
    if (capitalised(word) || particle) {
      if (run.length === 0) opensSentence = starts;
      run.push(token);
    } else if (run.length > 0) {
      close();
    }
    if (run.length > 0 && endsRun(token)) close();
  });
  if (run.length > 0) close();
  return out;
}
