/**
 * The stopwords of a question asked in another language than English.
 *
 * Luna weighs a question's words by their IDF over the memory, a word no note uses the
 * most (no note can answer a question that turns on it). The question words and articles
 * of another language (quelle, cuál, какая) are in no note that answers the question, so
 * each counted as a content word the note lacks: "Quelle est la capitale de la France ?"
 * found "Paris est la capitale de la France." at relevance 0.39, not an answer.
 *
 * The question's language is the one whose stopwords (the stopwords-iso lists) it uses
 * most, when that is more than it uses English ones and at least two (one for a question
 * not in Latin letters, which cannot be English); its stopwords are then left out of the
 * question's terms, as English ones always are. Words are compared without accents, as
 * people often type them (donde, ou).
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Scripts without spaces between words: their questions are cut by `unspaced-question`. */
const UNSPACED = new Set(['zh', 'ja', 'ko', 'th']);

/** Question words the lists lack. */
const MORE: Record<string, readonly string[]> = {
  de: ['wieviel', 'wieviele'],
  it: ['qual'],
  nl: ['hoeveel'],
  pl: ['jaka', 'jakie'],
  ru: ['какие', 'каков', 'какова'],
  tr: ['nedir', 'mi', 'mu', 'mü'],
};

/** Lower case without diacritics: how words are compared. */
export const foldWord = (word: string): string =>
  word
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();

let raw: Record<string, readonly string[]> | undefined;

/** The words of each language's list (ISO 639-1), with `MORE`, read at the first question. */
function rawLists(): Record<string, readonly string[]> {
  if (!raw) {
    const all = require('stopwords-iso') as Record<string, string[]>;
    raw = Object.fromEntries(
      Object.entries(all).map(([language, words]) => [
        language,
        [...words, ...(MORE[language] ?? [])],
      ]),
    );
  }
  return raw;
}

let lists: Map<string, ReadonlySet<string>> | undefined;

/** The lists of the spaced languages, folded. */
function stopwordLists(): Map<string, ReadonlySet<string>> {
  lists ??= new Map(
    Object.entries(rawLists())
      .filter(([language]) => !UNSPACED.has(language))
      .map(([language, words]) => [language, new Set(words.map(foldWord))]),
  );
  return lists;
}

/**
 * The stopwords of `language` (ISO 639-1) as the list writes them, if it has a list (for
 * scripts whose marks are letters of their own, which `foldWord` would drop).
 */
export function stopwordsOf(language: string): ReadonlySet<string> | undefined {
  const words = rawLists()[language];
  return words ? new Set(words) : undefined;
}

/** The question's language when it is not English, and whether a word is one of its stopwords. */
export interface QuestionLanguage {
  language: string;
  isStopword(word: string): boolean;
}

/** The language of a question's words (see the module's comment), or undefined: English. */
export function questionLanguage(words: readonly string[]): QuestionLanguage | undefined {
  const folded = words.map(foldWord);
  let best: [string, ReadonlySet<string>] | undefined;
  let bestHits = 0;
  let englishHits = 0;
  for (const [language, set] of stopwordLists()) {
    let hits = 0;
    for (const word of folded) if (set.has(word)) hits++;
    if (language === 'en') englishHits = hits;
    else if (hits > bestHits) {
      best = [language, set];
      bestHits = hits;
    }
  }
  // A question in Latin letters may be English with a word that is a stopword elsewhere;
  // one in other letters (Cyrillic, Greek, Arabic...) is not English.
  const least = folded.some((word) => /[a-z]/.test(word)) ? 2 : 1;
  if (!best || bestHits < least || bestHits <= englishHits) return undefined;
  const [language, set] = best;
  return { language, isStopword: (word) => set.has(foldWord(word)) };
}
