/**
 * What a quoted sentence is about. A note's sentences often lean on what came before: "She
 * is allergic to cats" under "# Grandma Rose", "It is serviced every autumn" after "The
 * boiler is ...". Quoted alone they lose their subject, or take on the subject of whatever
 * is quoted next to them. Each sentence is given its subject here: the pronoun that opens it
 * resolved to the nearest earlier sentence of its section that names someone or something,
 * else the heading it sits under, else the note's file name.
 */
import { type SentenceSpan, sentenceSpans } from './sentences.js';
import { CALENDAR_WORDS, STOPWORDS, sameStem, stem, words } from './text.js';

/** A sentence of a fragment with its subject, ready to be quoted. */
export interface SubjectSentence extends SentenceSpan {
  /** Position among the fragment's sentences. */
  position: number;
  /** Who or what the sentence is about, when it does not say so itself. */
  subject?: string;
  /** The sentence as quoted: an opening pronoun replaced by `[subject]`, or `Heading: ` before it. */
  quote: string;
  /** Words of the sentence, its subject and its heading: what it can be said to be about. */
  context: string[];
}

const SUBJECT_PRONOUN = /^(she|he|it|they)\b(?!['’])/i;
const POSSESSIVE_PRONOUN = /^(her|his|its|their)\b/i;
const PERSONAL = new Set(['she', 'he', 'her', 'his']);
const NEUTER = new Set(['it', 'its']);
/** Words that start a sentence without naming its subject. */
const NOT_A_SUBJECT = new Set(
  (
    'if when while in on at for to from with without after before during since until as so ' +
    'but and or then there here please also only always never every each all some no yes ' +
    'note tip warning important remember use mix fry bring keep pack call turn top hold ' +
    'do does did is are was were be what who where why how which'
  ).split(' '),
);
const DETERMINER = /^(the|a|an|our|my|your|their|this|that)\s+/i;
/** Verbs that follow a singular subject ("Maya is", "the gym opens"), and a plural one. */
const SINGULAR_VERBS =
  'is was has had does did will would can could must should may might goes gets needs stays runs renews works lives takes eats';
const PLURAL_VERBS = 'are were have do go get need';
const wordsOf = (list: string) => new RegExp(`^(?:${list.split(' ').join('|')})$`, 'i');
/** Words after which a determiner's noun phrase has ended (verbs that follow a subject). */
const VERBISH = wordsOf(`${SINGULAR_VERBS} ${PLURAL_VERBS}`);
/**
 * A present-tense verb of a singular subject ("opens", "closes", "carries"): a word in -s
 * that is not one of a singular noun ("class", "bus", "tennis") nor a possessive.
 */
const THIRD_PERSON = /^\p{Ll}{2,}[^siu'’]s$/u;

/**
 * True when `word`, in a noun phrase, is the verb that follows it: "opens" in "the gym opens
 * at 6am", not "keys" in "the car keys are in the drawer" (a verb after it makes it a noun).
 */
const endsPhrase = (word: string, next: string | undefined) =>
  VERBISH.test(word) || (THIRD_PERSON.test(word) && !(next && VERBISH.test(next)));

/** Capitalised words in a row, the first maybe abbreviated ("Dr. Helga Sørensen", "Grandma Rose"). */
const NAME = /^(\p{Lu}[\p{L}\p{N}'’-]*\.?)(?:\s+(\p{Lu}[\p{L}\p{N}'’-]*))*/u;

const bareWord = (word: string) => word.replace(/[^\p{L}\p{N}'’-]/gu, '');

/** The noun phrase a sentence opens with, when it names its subject ("Grandma Rose", "The boiler"). */
export function leadingSubject(sentence: string): string | undefined {
  const text = sentence.trim();
  const determiner = DETERMINER.exec(text);
  if (determiner) {
    const rest = text.slice(determiner[0].length).split(/\s+/);
    const phrase: string[] = [];
    for (const [i, word] of rest.entries()) {
      const bare = bareWord(word);
      if (bare === '' || phrase.length >= 4) break;
      // The phrase's first word is its noun; a verb can only come after it.
      if (
        VERBISH.test(bare) ||
        (phrase.length > 0 && endsPhrase(bare, bareWord(rest[i + 1] ?? '')))
      ) {
        break;
      }
      phrase.push(bare);
      if (bare !== word) break; // punctuation ends the phrase
    }
    return phrase.length > 0 ? `${determiner[1]} ${phrase.join(' ')}` : undefined;
  }
  const name = NAME.exec(text);
  if (!name) return undefined;
  const first = (name[1] as string).toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');
  if (NOT_A_SUBJECT.has(first) || SUBJECT_PRONOUN.test(first) || POSSESSIVE_PRONOUN.test(first)) {
    return undefined;
  }
  // A possessive name ("Maya's next check-up") is the subject too: drop the 's.
  return name[0].replace(/['’]s$/u, '').trim();
}

/** Words before a name that make it a person's. */
const TITLES =
  'Dr|Mr|Mrs|Ms|Mx|Miss|Prof|Professor|Sir|Dame|Aunt|Auntie|Uncle|Grandma|Grandpa|Granny|Grandad|Grandmother|Grandfather|Nana|Cousin';
const TITLE = new RegExp(`^(?:${TITLES})\\.?$`);
/** A titled name anywhere in a sentence ("... with Dr. Patel at ..."). */
const TITLED_NAME = new RegExp(
  `(?<![\\p{L}\\p{N}])(?:${TITLES})\\.?(?:\\s+\\p{Lu}[\\p{L}\\p{N}'’-]*)+`,
  'u',
);
/** A capitalised name said to be the subject ("My dentist is Dr. Helga Sørensen"). */
const COPULA_NAME =
  /(?<![\p{L}\p{N}])(?:is|was)\s+(\p{Lu}[\p{L}\p{N}'’-]*\.?(?:\s+\p{Lu}[\p{L}\p{N}'’-]*)*)/u;
/** Endings of common nouns, which open a sentence capitalised without naming anyone ("Appointment"). */
const COMMON_NOUN_ENDING = /(?:ment|tion|sion|ness|ship|ism|\p{L}{3}ings?)$/iu;
/** Verbs a name is followed by as the subject of its sentence ("Maya is", "Tom works"). */
const SINGULAR_VERB = wordsOf(SINGULAR_VERBS);

/** Words that open a sentence as its subject, or with an 's, and are no one's name. */
const NO_ONE = new Set(
  'today tonight tomorrow yesterday everyone everybody someone somebody anyone anybody nobody'.split(
    ' ',
  ),
);

const withoutPossessive = (name: string) => name.replace(/['’]s$/u, '');

/**
 * Who a sentence names as a person, for `she`, `he`, `her` or `his` after it: the name it
 * opens with, when that is a person's and not a common word capitalised because it opens the
 * sentence ("Appointment on March 14th"), else a titled name in it or the name it says its
 * subject is ("My dentist is Dr. Helga Sørensen"). `casing`: how the fragment writes its words
 * elsewhere.
 */
function personIn(sentence: string, casing: Casing): string | undefined {
  const text = sentence.trim();
  const name = leadingSubject(text);
  if (name && !DETERMINER.test(name) && isPerson(name, text, casing)) return name;
  const titled = TITLED_NAME.exec(text);
  const copula = COPULA_NAME.exec(text);
  // The point after a one-word name ends the sentence; it is no abbreviation's.
  const complement = (copula?.[1] ?? '').replace(/^([^\s.]+)\.$/u, '$1');
  const opens = bareWord(complement.split(/\s+/)[0] ?? '');
  const said =
    copula &&
    !CALENDAR_WORDS.has(opens.toLowerCase()) &&
    !(TITLE.test(opens) && complement === opens)
      ? { index: copula.index, name: complement }
      : undefined;
  const first = titled && (!said || titled.index <= said.index) ? { name: titled[0] } : said;
  return first ? withoutPossessive(first.name.trim()) : undefined;
}

/** True when `name`, which opens `sentence`, is a person's name. */
function isPerson(name: string, sentence: string, casing: Casing): boolean {
  const parts = name.split(/\s+/);
  if (parts.length > 1) return !CALENDAR_WORDS.has((parts[0] as string).toLowerCase());
  const word = parts[0] as string;
  const lower = word.toLowerCase();
  if (TITLE.test(word) || CALENDAR_WORDS.has(lower) || NO_ONE.has(lower)) return false;
  // Written capitalised inside a sentence, a word is a name; written in lower case, it is not.
  if (casing.capitalised.has(lower)) return true;
  if (casing.lower.has(lower) || COMMON_NOUN_ENDING.test(word)) return false;
  // A name at the start of a sentence is its subject: a possessive or a verb follows it.
  const after = sentence.slice(word.length);
  if (/^['’]s\b/u.test(after)) return true;
  const [next, then] = after.trim().split(/\s+/).map(bareWord);
  if (next === undefined) return false;
  return SINGULAR_VERB.test(next) || (THIRD_PERSON.test(next) && !(then && VERBISH.test(then)));
}

/** The words of a fragment written capitalised inside a sentence (not as its first word), and in lower case. */
interface Casing {
  capitalised: Set<string>;
  lower: Set<string>;
}

function casingOf(spans: readonly SentenceSpan[]): Casing {
  const casing: Casing = { capitalised: new Set(), lower: new Set() };
  for (const span of spans) {
    const tokens = span.text.match(/[\p{L}\p{N}'’-]+/gu) ?? [];
    tokens.forEach((token, i) => {
      const word = withoutPossessive(token);
      if (/^\p{Ll}/u.test(word)) casing.lower.add(word);
      else if (i > 0 && /^\p{Lu}/u.test(word)) casing.capitalised.add(word.toLowerCase());
    });
  }
  return casing;
}

/** True when `subject` reads as a proper name rather than a thing ("the boiler"). */
const isName = (subject: string) => /^\p{Lu}/u.test(subject) && !DETERMINER.test(subject);

/** True when `it` or `its` can stand for `subject`: a thing, or a one-word name (a pet, a firm). */
function agrees(pronoun: string, subject: string): boolean {
  if (NEUTER.has(pronoun.toLowerCase())) {
    return !isName(subject) || subject.split(/\s+/).length === 1;
  }
  return true;
}

/** Kinds of ingested file whose name says nothing of what a piece of them is about. */
const RECORD_KINDS = new Set(['json', 'jsonl', 'chatgpt']);

/**
 * The file name without folders and extension: a note's subject when it has no heading.
 * Only for a file of notes (a path; not a JSON record or a chat export, whose file name
 * names the collection, nor Luna's own memories, whose source is `luna`).
 */
function fileSubject(source: unknown, kind: unknown): string | undefined {
  if (typeof source !== 'string' || !/[\\/]/.test(source)) return undefined;
  if (typeof kind === 'string' && RECORD_KINDS.has(kind)) return undefined;
  const base = source.split(/[\\/]/).pop() ?? '';
  const stem = base.replace(/\.[^.]+$/, '').replace(/[-_]+/g, ' ');
  return /[\p{L}]/u.test(stem) ? stem : undefined;
}

/** True when the sentence (its words' stems) contains a word of `phrase`. */
const mentions = (sentenceStems: readonly string[], phrase: string) =>
  words(phrase).some((w) => {
    if (w.length < 2 || STOPWORDS.has(w)) return false; // "the", "of" name nothing
    const s = stem(w);
    return sentenceStems.some((t) => sameStem(t, s));
  });

/**
 * The sentences of a fragment with their subjects. `source` (an ingested note's file, with
 * its `kind`) names the subject of a fragment without a heading.
 */
export function subjectSentences(
  text: string,
  source?: unknown,
  kind?: unknown,
): SubjectSentence[] {
  const spans = sentenceSpans(text);
  const fallback = fileSubject(source, kind);
  const casing = casingOf(spans);
  const out: SubjectSentence[] = [];
  spans.forEach((span, position) => {
    const heading = span.heading ?? fallback;
    const opener =
      SUBJECT_PRONOUN.exec(span.text.trim()) ?? POSSESSIVE_PRONOUN.exec(span.text.trim());
    let subject: string | undefined;
    if (opener) {
      const pronoun = opener[1] as string;
      const personal = PERSONAL.has(pronoun.toLowerCase());
      // The nearest earlier sentence under the same heading that names an agreeing subject:
      // for she or he, a person (a sentence opened by a common word names no one; better no
      // subject than a wrong one).
      for (let i = out.length - 1; i >= 0 && subject === undefined; i--) {
        const before = out[i] as SubjectSentence;
        if ((before.heading ?? fallback) !== heading) break;
        const named = personal ? personIn(before.text, casing) : leadingSubject(before.text);
        if (named && agrees(pronoun, named)) subject = named;
      }
      if (subject === undefined && heading) subject = heading;
    }
    let quote = span.text;
    if (opener && subject) {
      const possessive = POSSESSIVE_PRONOUN.test(opener[0]);
      quote = `[${possessive ? `${subject}'s` : subject}]${span.text.trim().slice(opener[0].length)}`;
    }
    const quoteStems = words(quote).map(stem);
    // A quote that names neither its heading nor a subject of its own says which section it
    // is from (a file name is too weak a title to put before every sentence of a note).
    if (span.heading && !mentions(quoteStems, span.heading)) quote = `${span.heading}: ${quote}`;
    out.push({
      ...span,
      ...(heading && span.heading === undefined ? { heading } : {}),
      position,
      ...(subject ? { subject } : {}),
      quote,
      context: [...words(span.text), ...words(subject ?? ''), ...words(heading ?? '')],
    });
  });
  return out;
}
