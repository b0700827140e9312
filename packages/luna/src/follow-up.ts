/**
 * Follow-up questions in a conversation: "When is her birthday?" after "Who is allergic to
 * cats?" is about whoever the last answer was about. Memory is searched for what the
 * question says plus who it refers to, taken from the previous turn.
 */

import { namesIn } from './names.js';
import { OFFLINE_LABEL } from './offline.js';
import { questionTerms } from './relevance.js';
import { stem } from './text.js';

/**
 * Pronouns that refer back to someone or something named before: English, and those of
 * other languages that are no other word too (not French "la", Spanish "es" or Swedish "det").
 */
const REFERRING = new RegExp(
  `(?<![\\p{L}\\p{N}])(?:${[
    'she he her hers him his they them their theirs it its',
    'sie er ihr ihm ihn ihre ihren ihrem seine seinen seinem',
    'il elle ils elles lui',
    'él ella ellos ellas',
    'lui lei loro',
    'ele ela eles elas',
    'hij zij hem haar',
    'han hon hun honom henne hende',
    'он она оно они его её ее их ему ей',
  ]
    .join(' ')
    .split(' ')
    .join('|')})(?![\\p{L}\\p{N}])`,
  'iu',
);
/** Pronouns that stand for a thing, a place or a firm rather than a person. */
const NEUTER = /^(?:it|its)$/i;

/** True when `question` refers back with a pronoun and names no one. */
export function refersBack(question: string): boolean {
  return REFERRING.test(question) && namesIn(question).length === 0;
}

/** The subjects an answer gave its quotes (`[Grandma Rose]`, `[Maya's]`), citations left out. */
function quotedSubjects(answer: string): string[] {
  const out: string[] = [];
  for (const m of answer.matchAll(/\[([^\]]*\p{L}[^\]]*)\]/gu)) {
    const subject = (m[1] as string).replace(/['’]s$/u, '').trim();
    if (subject !== '' && subject.toLowerCase() !== 'offline') out.push(subject);
  }
  return out;
}

/**
 * What an answer says: an offline answer's quotes (none when it found no answer), or the
 * model's reply; without citations and the brackets around subjects.
 */
function answered(answer: string): string {
  const text = answer.trim();
  const at = text.indexOf('from memory: ');
  const said = at >= 0 ? text.slice(at + 13) : text.startsWith(OFFLINE_LABEL) ? '' : text;
  return said.replace(/\s*\[\d+\]/g, '').replace(/[[\]]/g, '');
}

/** Whether `name` is already among `known` (or part of one of them). */
const among = (name: string, known: readonly string[]) =>
  known.some((k) => k.toLowerCase().includes(name.toLowerCase()));

/**
 * Whether `tokens` (an answer's words) write `name` right beside a word of the question
 * (`askedStems`, its terms' stems): then it names what the question was about ("My uncle
 * Henrik works at Fjordline Coaches" for "Where does my uncle work?": Henrik is the
 * uncle), not something the answer told.
 */
function namesTheAsked(
  name: string,
  tokens: readonly string[],
  askedStems: ReadonlySet<string>,
): boolean {
  const isAsked = (word: string | undefined) =>
    word !== undefined && askedStems.has(stem(word.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '')));
  const length = name.split(/\s+/).length;
  return tokens.some((_, i) => {
    const run = tokens
      .slice(i, i + length)
      .join(' ')
      .replace(/[^\p{L}\p{N}]+$/u, '');
    if (run.replace(/['’]s$/u, '') !== name) return false;
    const after = tokens[i + length - 1]?.match(/[,;:.!?]$/) ? undefined : tokens[i + length];
    return isAsked(tokens[i - 1]) || isAsked(after);
  });
}

/**
 * Who or what a pronoun of `question` stands for, from the previous turn: for "it", first
 * what its answer named that its question did not ("Where does my brother work and where
 * is it?": the firm the answer names); for a person, first the subjects of its quotes, then
 * the names in its question; else the names in its answer; else the words of its question.
 */
function referents(question: string, previous: { question: string; answer: string }): string[] {
  const subjects = quotedSubjects(previous.answer);
  const asked = namesIn(previous.question);
  const said = answered(previous.answer);
  const askedTerms = questionTerms(previous.question);
  const askedStems = new Set(askedTerms.map((t) => t.stem));
  const tokens = said.split(/\s+/);
  const pronoun = REFERRING.exec(question)?.[0] ?? '';
  const neuter = NEUTER.test(pronoun);
  // "He" or "she" is no town the answer was in ("his practice in Tromsø").
  const given = namesIn(said, { places: neuter }).filter(
    (n) => !among(n, asked) && !among(n, subjects) && !namesTheAsked(n, tokens, askedStems),
  );
  const order = neuter ? [given, subjects, asked] : [subjects, asked, given];
  // Nobody named ("Who is my plumber?" answered without a name): what was asked about.
  const about = askedTerms.map((t) => t.word);
  return [...order, about].find((list) => list.length > 0) ?? [];
}

/**
 * The question to search memory with: `question` itself, or, when it refers back with a
 * pronoun and names no one, `question` without its pronouns, followed by who or what the
 * previous turn was about (the subjects of its quotes, the names in its question, or those
 * its answer gave).
 */
export function followUpQuery(
  question: string,
  previous: { question: string; answer: string } | undefined,
): string {
  if (!previous || !refersBack(question)) return question;
  const unique = [...new Set(referents(question, previous))].slice(0, 3);
  if (unique.length === 0) return question;
  // The referents stand for the pronouns, which the notes need not use ("her name" of a
  // note that says "I see Dr. Maren Olsen").
  const bare = question.replace(new RegExp(REFERRING.source, 'giu'), '').replace(/\s+/g, ' ');
  return `${bare.trim()} (${unique.join(', ')})`;
}
