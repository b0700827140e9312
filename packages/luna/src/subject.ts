/**
 * What a quoted sentence is about. A note's sentences often lean on what came before: "She
 * is allergic to cats" under "# Grandma Rose", "It is serviced every autumn" after "The
 * boiler is ...". Quoted alone they lose their subject, or take on the subject of whatever
 * is quoted next to them. Each sentence is given its subject here: the pronoun that opens it
 * resolved to the nearest earlier sentence of its section that names someone or something,
 * else the heading it sits under, else the note's file name.
 */
import { type SentenceSpan, sentenceSpans } from './sentences.js';
import { STOPWORDS, sameStem, stem, words } from './text.js';

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
/** Words after which a determiner's noun phrase has ended (verbs that follow a subject). */
const VERBISH =
  /^(is|are|was|were|has|have|had|will|would|can|could|must|should|may|might|does|do|did|goes|go|gets|get|needs|need|stays|runs|renews|works|lives|takes|eats)$/i;

/** The noun phrase a sentence opens with, when it names its subject ("Grandma Rose", "The boiler"). */
export function leadingSubject(sentence: string): string | undefined {
  const text = sentence.trim();
  const determiner = DETERMINER.exec(text);
  if (determiner) {
    const rest = text.slice(determiner[0].length).split(/\s+/);
    const phrase: string[] = [];
    for (const word of rest) {
      const bare = word.replace(/[^\p{L}\p{N}'’-]/gu, '');
      if (bare === '' || VERBISH.test(bare) || phrase.length >= 4) break;
      phrase.push(bare);
      if (bare !== word) break; // punctuation ends the phrase
    }
    return phrase.length > 0 ? `${determiner[1]} ${phrase.join(' ')}` : undefined;
  }
  const name = /^(\p{Lu}[\p{L}\p{N}'’-]*\.?)(?:\s+(\p{Lu}[\p{L}\p{N}'’-]*))*/u.exec(text);
  if (!name) return undefined;
  const first = (name[1] as string).toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');
  if (NOT_A_SUBJECT.has(first) || SUBJECT_PRONOUN.test(first) || POSSESSIVE_PRONOUN.test(first)) {
    return undefined;
  }
  // A possessive name ("Maya's next check-up") is the subject too: drop the 's.
  return name[0].replace(/['’]s$/u, '').trim();
}

/** True when `subject` reads as a person's name rather than a thing ("the boiler"). */
const isName = (subject: string) => /^\p{Lu}/u.test(subject) && !DETERMINER.test(subject);

function agrees(pronoun: string, subject: string): boolean {
  const p = pronoun.toLowerCase();
  if (PERSONAL.has(p)) return isName(subject);
  if (NEUTER.has(p)) return !isName(subject) || subject.split(/\s+/).length === 1;
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
  const out: SubjectSentence[] = [];
  spans.forEach((span, position) => {
    const heading = span.heading ?? fallback;
    const opener =
      SUBJECT_PRONOUN.exec(span.text.trim()) ?? POSSESSIVE_PRONOUN.exec(span.text.trim());
    let subject: string | undefined;
    if (opener) {
      const pronoun = opener[1] as string;
      // The nearest earlier sentence under the same heading that names an agreeing subject.
      for (let i = out.length - 1; i >= 0 && subject === undefined; i--) {
        const before = out[i] as SubjectSentence;
        if ((before.heading ?? fallback) !== heading) break;
        const named = leadingSubject(before.text);
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
