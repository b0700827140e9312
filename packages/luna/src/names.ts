/**
 * The proper names a text holds ("Dr. Maren Olsen", "Halvorsen Shipping", "Bergen"): what
 * a pronoun after it can stand for, and what answers a question asking for a name. A name
 * is a run of words written with a capital; the run that opens a sentence is a name only
 * when it has two words or more, or when the text writes its word capitalised elsewhere
 * too (the first word of a sentence is capitalised whatever it is).
 */
import { germanNoun, isGerman } from './german-nouns.js';
import { CALENDAR_WORDS, STOPWORDS, words as wordsOf } from './text.js';

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

/**
 * The words of a text, whether each opens a sentence, and whether each ends its line. A
 * line is a sentence of its own (a heading, an item of a list), and its first word opens
 * it after any marks before it ("# Plumber", "- Dentist").
 */
function tokensOf(text: string): { tokens: string[]; opens: boolean[]; lineEnds: boolean[] } {
  const tokens: string[] = [];
  const opens: boolean[] = [];
  const lineEnds: boolean[] = [];
  for (const line of text.split(/\r?\n|\r/)) {
    let opening = true;
    for (const token of line.split(/\s+/)) {
      if (token === '') continue;
      const hasWord = /[\p{L}\p{N}]/u.test(token);
      tokens.push(token);
      opens.push(opening && hasWord);
      lineEnds.push(false);
      if (hasWord) opening = endsSentence(token);
    }
    if (lineEnds.length > 0) lineEnds[lineEnds.length - 1] = true;
  }
  return { tokens, opens, lineEnds };
}

/**
 * Words that put the name after them in a place ("in Bergen", "nach Oslo", "à Lyon"), in
 * several languages: a name there is a town or a country, not who someone is.
 */
const PLACE_PREPOSITIONS = new Set(
  'in into near from to nach aus à en dans vers desde hacia i til fra från naar uit'.split(' '),
);

/**
 * The proper names of `text`, in order, each once; with `places: false`, those written
 * right after a preposition of place are left out.
 */
export function namesIn(text: string, options: { places?: boolean } = {}): string[] {
  const { tokens, opens, lineEnds } = tokensOf(text);
  const ends = tokens.map((token, i) => lineEnds[i] === true || endsRun(token));
  // German writes every noun with a capital: there, a capitalised word is a name only when
  // it is not plainly a noun (see german-nouns.ts).
  const noun = isGerman(wordsOf(text)) ? germanNoun(tokens.map(bare), ends) : () => false;
  const elsewhere = new Set<string>();
  tokens.forEach((token, i) => {
    const word = bare(token);
    if (!opens[i] && capitalised(word) && !noun(i)) elsewhere.add(word.toLowerCase());
  });
  const out: string[] = [];
  let run: string[] = [];
  let opensSentence = false;
  let inPlace = false;
  const close = () => {
    const words = cleaned(run);
    run = [];
    if (inPlace && options.places === false) return;
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
    const particle =
      run.length > 0 && NAME_PARTICLES.has(word) && capitalised(bare(tokens[i + 1] ?? ''));
    if ((capitalised(word) && !noun(i)) || particle) {
      if (run.length === 0) {
        opensSentence = opens[i] === true;
        inPlace = i > 0 && PLACE_PREPOSITIONS.has(bare(tokens[i - 1] as string).toLowerCase());
      }
      run.push(token);
    } else if (run.length > 0) {
      close();
    }
    if (run.length > 0 && ends[i]) close();
  });
  if (run.length > 0) close();
  return out;
}
