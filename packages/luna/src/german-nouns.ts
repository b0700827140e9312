/**
 * German writes every noun with a capital ("Der Klempner kommt am ersten Montag im
 * Monat"), so a capital does not mark a name there as it does in English. A capitalised
 * word of a German text is taken for a noun when it is plainly one:
 * - it follows an article, a possessive or demonstrative, or a preposition fused with an
 *   article, directly or across lower-case words (adjectives, numbers) of the same clause:
 *   "jedes Frühjahr", "am ersten Montag", "ihre Praxis"; names seldom take one in writing;
 * - it is one of those words itself, or a pronoun written with a capital (Sie, Ihnen);
 * - it ends as only nouns do (Zeitung, Freiheit, Wissenschaft, Station, Ergebnis);
 * - it is a month or a day.
 * A bare noun without any of these ("Ich trinke Kaffee") cannot be told from a name
 * without a dictionary, and is still taken for one.
 */
import { stopwordsOf } from './question-language.js';

const DETERMINER =
  /^(?:d(?:er|ie|as|en|em|es)|[kmds]?ein(?:e[mnrs]?)?|ihr(?:e[mnrs]?)?|unser(?:e[mnrs]?)?|eu(?:er|re[mnrs]?)|(?:jed|dies|jen|welch|manch|solch|all)e[mnrs]?|im|am|zum|zur|vom|beim|ins|ans|aufs|fürs|ums|durchs|sie|ihnen)$/;

const NOUN_ENDING = /(?:ung|heit|keit|schaft|tion|tät|nis|ismus|chen|lein)(?:en|se|ses)?$/;

const CALENDAR = new Set(
  (
    'januar jänner februar märz april mai juni juli august september oktober november ' +
    'dezember montag dienstag mittwoch donnerstag freitag samstag sonnabend sonntag'
  ).split(' '),
);

/** Lower-case words of the same clause a determiner may stand before a noun across. */
const MAX_BETWEEN = 3;

/** Languages whose stopwords a German text could share most with. */
const NEIGHBOURS = ['en', 'nl'];

let lists: { german: ReadonlySet<string>; neighbours: ReadonlySet<string>[] } | undefined;

const hits = (words: readonly string[], list: ReadonlySet<string>) =>
  words.reduce((n, word) => (list.has(word) ? n + 1 : n), 0);

/**
 * Whether a text's words are German: at least two of its stopwords, and more than of
 * English or Dutch ones (a few lists, not all of them: this runs for every sentence an
 * answer is judged on).
 */
export function isGerman(words: readonly string[]): boolean {
  lists ??= {
    german: stopwordsOf('de') ?? new Set(),
    neighbours: NEIGHBOURS.map((language) => stopwordsOf(language) ?? new Set<string>()),
  };
  const german = hits(words, lists.german);
  return german >= 2 && lists.neighbours.every((list) => hits(words, list) < german);
}

/**
 * For the words of a German text (without punctuation, as written, and whether each ends
 * a clause), whether the word at an index is plainly a noun or a determiner, not a name.
 */
export function germanNoun(
  words: readonly string[],
  endsClause: readonly boolean[],
): (index: number) => boolean {
  const lower = words.map((w) => w.toLowerCase());
  return (index) => {
    const word = lower[index] ?? '';
    if (DETERMINER.test(word) || CALENDAR.has(word) || NOUN_ENDING.test(word)) return true;
    for (let i = index - 1; i >= 0 && i >= index - 1 - MAX_BETWEEN; i--) {
      if (endsClause[i]) return false;
      if (DETERMINER.test(lower[i] as string)) return true;
      // A capitalised word in between: the article is that word's.
      if (!/^\p{Ll}/u.test(words[i] as string)) return false;
    }
    return false;
  };
}
