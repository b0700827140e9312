/**
 * Whether memory holds the answer to a question, on an absolute scale. Retrieval scores are
 * relative (CARMA's hybrid score puts its best hit near 1 however weak it is), so they
 * cannot tell a real answer from the least bad match. What can: how much of the question's
 * informative content a fragment covers. Each content word of the question weighs its IDF
 * in the whole memory (a word the memory never uses weighs most: no note can answer a
 * question that turns on it), names weigh half as much again and are required (a sentence
 * about Grandma does not answer a question about Tom), and words meet across inflections
 * (Porter2 stems). A fragment's relevance, from 0 to 1, is half its own coverage (the
 * fragment's words, its heading and file name) and half the coverage of its best
 * sentence with that sentence's subject: the answer has to be in one place, not scattered.
 * A question is never the best sentence.
 */
import { termRuns, unspacedTerms } from '@aios/utils';
import type { MemoryFragment } from './memory.js';
import { namesIn } from './names.js';
import { questionLanguage } from './question-language.js';
import { relatedStems } from './related-words.js';
import { type SubjectSentence, subjectSentences } from './subject.js';
import { STOPWORDS, sameStem, stem, words } from './text.js';
import { questionRuns } from './unspaced-question.js';

/** Relevance from which a fragment is taken to hold the answer. */
export const GROUNDED_AT = 0.5;

/** How much more a name in the question weighs than another word of the same IDF. */
const ENTITY_BOOST = 1.5;
/** Least weight of a word, so that one found in every fragment still counts a little. */
const MIN_WEIGHT = 0.05;

/** A content word of a question, with what it weighs. */
export interface QuestionTerm {
  word: string;
  stem: string;
  /** Written with a capital inside the question (a name: Maya, Klaus): required. */
  entity: boolean;
  weight: number;
  /**
   * The word a dictionary cut (`QuestionPiece.word`) that this pair of characters is part
   * of: the word is found in a text when all of its pairs are, and counts once, weighing
   * as its rarest pair.
   */
  part?: string;
  /**
   * The word asks for a name ("And her name?", "Wie heißt sie?"): a text that holds a name
   * has it, whether or not it says "name"; and like a name it is required.
   */
  asksName?: boolean;
  /**
   * No fragment of the memory uses the word: a typo ("pasword") or another spelling
   * ("licence") of a word it has. It is found in a text by a word one edit away.
   */
  unknown?: boolean;
}

/** Words that ask for a name, in several languages (lower case, as written). */
const NAME_WORDS = new Set(
  (
    'name names named called nom nommé nommée appelle appellent nombre llama llaman llamado ' +
    'nome chiama chiamano chiamato heißt heisst heißen naam heet heten navn heter hedder namn ' +
    'nimi imię nazywa имя зовут'
  ).split(' '),
);

/**
 * What a text's stems hold when it holds a name ("I see Dr. Maren Olsen"): met by a word
 * that asks for one. No word is written with this character.
 */
export const HOLDS_NAME = '\u0000name';

/** Words of a question that ask rather than inform (beyond the usual stopwords). */
const ASKING = new Set(
  (
    'whose anything something s t d ll re ve ' +
    // Contractions typed without their apostrophe.
    'whats wheres whos hows whens whys thats dont doesnt didnt isnt arent wasnt cant wont im ive'
  ).split(' '),
);

/**
 * "Number" after another word of the question ("phone number", "passport number", "Nummer"):
 * what is asked is the phone's or the passport's, which a note writes without the word
 * ("phone: +47 987 65 432", "Passport X1234567"). Alone ("what number?") it counts.
 * The same for "numéro de téléphone", "número de teléfono".
 */
const NUMBER_WORDS = new Set([
  'number',
  'numbers',
  'nummer',
  'numéro',
  'número',
  'numero',
  'номер',
]);
/** "Of" in the languages that put "number" first ("numéro de téléphone"). */
const OF = new Set(['de', 'di', 'do', 'da', 'du', 'del', 'des', 'della']);

/** The content words of a question, once per stem, names marked; weights not yet set (1). */
export function questionTerms(question: string): QuestionTerm[] {
  const out = new Map<string, QuestionTerm>();
  // Runs in scripts written without spaces split into pairs of characters, as in `words`,
  // once their grammar is cut out.
  const runs = termRuns(question);
  const raw: Array<[token: string, part: string | undefined]> = [];
  for (const piece of questionRuns(runs)) {
    for (const token of unspacedTerms([piece.text])) {
      raw.push([token, piece.word ? piece.text : undefined]);
    }
  }
  // Asked in another language: its stopwords are left out too.
  const language = questionLanguage(runs);
  const isStopword = (word: string) =>
    STOPWORDS.has(word) || ASKING.has(word) || language?.isStopword(word) === true;
  const wordAt = (i: number) => raw[i]?.[0].toLowerCase();
  const content = (word: string | undefined) => word !== undefined && !isStopword(word);
  // "phone number", or "numéro de téléphone" / "número de teléfono".
  const numbersSomething = (i: number) =>
    content(wordAt(i - 1)) || (OF.has(wordAt(i + 1) ?? '') && content(wordAt(i + 2)));
  raw.forEach(([token, part], i) => {
    const word = token.toLowerCase();
    if (isStopword(word)) return;
    if (NUMBER_WORDS.has(word) && numbersSomething(i)) return;
    const s = stem(word);
    if (part !== undefined) {
      out.set(`${part}\u0000${s}`, { word, stem: s, entity: false, weight: 1, part });
      return;
    }
    const entity = i > 0 && /^\p{Lu}/u.test(token);
    const asksName = NAME_WORDS.has(word);
    const known = out.get(s);
    if (known) known.entity ||= entity;
    else out.set(s, { word, stem: s, entity, weight: 1, ...(asksName ? { asksName } : {}) });
  });
  if (out.size === 0) {
    // A question of stopwords only ("who is it?"): every word counts, none is a name.
    for (const token of unspacedTerms(runs)) {
      const word = token.toLowerCase();
      out.set(stem(word), { word, stem: stem(word), entity: false, weight: 1 });
    }
  }
  return [...out.values()];
}

/**
 * The terms weighed by IDF: `idf[i]` is the IDF of `terms[i].word` over the memory
 * (Lucene's `ln(1 + (N - df + 0.5) / (df + 0.5))`, which a word the memory never uses
 * maximises). With `unknownIdf`, that maximum, the words the memory never uses are marked.
 */
export function weighTerms(
  terms: readonly QuestionTerm[],
  idf: ArrayLike<number>,
  unknownIdf?: number,
): QuestionTerm[] {
  return terms.map((t, i) => {
    const value = Number(idf[i]);
    const base = Number.isFinite(value) ? Math.max(MIN_WEIGHT, value) : 1;
    const unknown = unknownIdf !== undefined && value >= unknownIdf - 1e-9;
    return { ...t, weight: base * (t.entity ? ENTITY_BOOST : 1), ...(unknown ? { unknown } : {}) };
  });
}

/** Lucene's IDF of a word no document of `n` uses. */
const idfOfUnused = (n: number) => Math.log(1 + (n + 0.5) / 0.5);

/**
 * IDF of each term over the given fragments only, for a memory that cannot say (no
 * `termIdf`): a rough stand-in, since the fragments were retrieved for these very words.
 */
export function localIdf(terms: readonly QuestionTerm[], texts: readonly string[]): number[] {
  const docs = texts.map((t) => new Set(words(t).map(stem)));
  const n = localCount(texts);
  return terms.map((t) => {
    const df = docs.filter((d) => [...d].some((s) => sameStem(s, t.stem))).length;
    return Math.log(1 + (n - df + 0.5) / (df + 0.5));
  });
}

/** The document count `localIdf` reckons with: the fragments and the question. */
const localCount = (texts: readonly string[]) => texts.length + 1;

/** Shortest stem a word one edit away may stand for: shorter words are too alike. */
const MIN_MISSPELT = 5;

/**
 * Whether `a` and `b` are one edit apart (a letter added, dropped, changed, or two side by
 * side swapped), with the same first letter: "pasword" and "password", "licenc" and "licens".
 */
export function oneEditApart(a: string, b: string): boolean {
  if (a === b || a[0] !== b[0] || Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (a.length === b.length) {
    const swapped = a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
    return swapped || a.slice(i + 1) === b.slice(i + 1);
  }
  const [short, long] = a.length < b.length ? [a, b] : [b, a];
  return short.slice(i) === long.slice(i + 1);
}

/** How much of the question a text covers. */
export interface Coverage {
  /** 0 to 1: the weight of the terms found over the weight of all, less for names missing. */
  score: number;
  /** The question's words found. */
  matched: string[];
}

/** Stems of `words`, as a set. */
export const stemSet = (list: readonly string[]): Set<string> => new Set(list.map(stem));

/**
 * The stems of `words`, with `HOLDS_NAME` when `text` holds a name: someone's or a firm's,
 * not a town's ("My dentist is in Bergen" does not say what the dentist is called).
 */
export function stemsWithNames(list: readonly string[], text: string): Set<string> {
  const stems = stemSet(list);
  if (namesIn(text, { places: false }).length > 0) stems.add(HOLDS_NAME);
  return stems;
}

/**
 * What a word one edit away from a word the memory never uses counts for, of that word's
 * weight: it may be the word misspelt ("pasword") or another word ("litter" for "letter"),
 * so that alone it never makes an answer, beside the question's other words it can.
 */
const MISSPELT_SHARE = 0.45;

/**
 * What a word of the same relation (`related-words.ts`) counts for in place of a word the
 * memory never uses: "husband" for "married", "born" for "birthday". More than a word one
 * edit away, which may be another word altogether; a hint ("turns" for "birthday") counts
 * as that does.
 */
const RELATED_SHARE = 0.6;

/**
 * How much of `term` a text's stems hold: 1 found; `RELATED_SHARE` for a word of the same
 * relation, `MISSPELT_SHARE` for a hint of it or, for a word the memory never uses, a
 * word one edit away; else 0. The word itself, where a note has it, counts for more.
 */
function found(term: QuestionTerm, stems: ReadonlySet<string>, named: boolean): number {
  if (stems.has(term.stem)) return 1;
  if (named && term.asksName && stems.has(HOLDS_NAME)) return 1;
  const long = term.stem.length >= MIN_MISSPELT;
  if (long) for (const s of stems) if (sameStem(s, term.stem)) return 1;
  const related = relatedStems(term.stem);
  // A word one edit away may be another word, unless the memory never uses the asked one.
  const misspelt = term.unknown === true && long;
  if (!related && !misspelt) return 0;
  let share = 0;
  for (const s of stems) {
    const relation = related?.get(s);
    if (relation === 'same') return RELATED_SHARE;
    if (
      relation === 'hint' ||
      (misspelt && s.length >= MIN_MISSPELT && oneEditApart(s, term.stem))
    ) {
      share = MISSPELT_SHARE;
    }
  }
  return share;
}

/** The coverage of `terms` by a text given as the set of its stems. */
export function cover(terms: readonly QuestionTerm[], stems: ReadonlySet<string>): Coverage {
  let total = 0;
  let got = 0;
  let names = 0;
  let namesGot = 0;
  let rest = 0;
  let restGot = 0;
  const matched: string[] = [];
  let written = false;
  const count = (word: string, weight: number, entity: boolean, share: number) => {
    total += weight;
    if (entity) names += weight;
    else rest += weight;
    if (share === 1) written = true;
    if (share === 0) return;
    got += weight * share;
    if (entity) namesGot += weight * share;
    else restGot += weight * share;
    matched.push(word);
  };
  const parts = new Map<string, { weight: number; all: boolean }>();
  // A name answers a question for one only when the question says whose name: "And her
  // name?" alone would be answered by any name at all.
  const named = terms.some((t) => !t.asksName);
  for (const t of terms) {
    if (t.part === undefined) {
      count(t.word, t.weight, t.entity || t.asksName === true, found(t, stems, named));
      continue;
    }
    const part = parts.get(t.part) ?? { weight: 0, all: true };
    // A word is at least as rare as its rarest pair: it weighs as that pair does.
    part.weight = Math.max(part.weight, t.weight);
    part.all &&= found(t, stems, named) === 1;
    parts.set(t.part, part);
  }
  for (const [word, part] of parts) count(word, part.weight, false, part.all ? 1 : 0);
  if (total === 0) return { score: 0, matched };
  // A question about someone asks something about them: both must be there. The names
  // missing, or all of what is asked about them, halve the rest in proportion.
  const both = names > 0 && rest > 0;
  const nameFactor = names > 0 ? 0.5 + 0.5 * (namesGot / names) : 1;
  const restFactor = both ? 0.5 + 0.5 * (restGot / rest) : 1;
  const score = (got / total) * nameFactor * restFactor;
  // A text that has none of the question's words as written (only related words, or
  // words one edit away) never answers alone: "Who is my mother?" is not answered by
  // "The children walk to school".
  return { score: written ? score : Math.min(score, MISSPELT_SHARE), matched };
}

/** A sentence of a fragment with how well it answers the question. */
export interface JudgedSentence extends SubjectSentence {
  relevance: number;
  matched: string[];
}

/** A fragment with how well it answers the question. */
export interface JudgedFragment {
  fragment: MemoryFragment;
  /** 0 to 1, absolute: `GROUNDED_AT` and above holds the answer. */
  relevance: number;
  sentences: JudgedSentence[];
}

/** Judges one fragment: its relevance, and each of its sentences'. */
export function judgeFragment(
  terms: readonly QuestionTerm[],
  fragment: MemoryFragment,
): JudgedFragment {
  const source = fragment.metadata?.source;
  // A question answers nothing, though it has the words asked about: it counts for the
  // fragment (an FAQ's question says what its answer is about) but is no best sentence.
  const asks = (text: string) => text.trimEnd().endsWith('?');
  const sentences = subjectSentences(fragment.text, source, fragment.metadata?.kind).map((s) =>
    asks(s.text)
      ? { ...s, score: 0, matched: [] }
      : { ...s, ...cover(terms, stemsWithNames(s.context, s.text)) },
  );
  const all = stemsWithNames(
    [...words(fragment.text), ...sentences.flatMap((s) => words(s.heading ?? ''))],
    sentences.map((s) => s.text).join(' '),
  );
  const whole = cover(terms, all).score;
  const best = sentences.reduce((m, s) => Math.max(m, s.score), 0);
  const relevance = sentences.length > 0 ? (whole + best) / 2 : whole;
  return {
    fragment,
    relevance: Math.round(relevance * 1000) / 1000,
    sentences: sentences.map(({ score, ...s }) => ({ ...s, relevance: score })),
  };
}

/** What memory holds for a question. */
export interface Judgement {
  terms: QuestionTerm[];
  /** The fragments in the order given, each judged. */
  fragments: JudgedFragment[];
  /** The best relevance. */
  relevance: number;
  /** Whether some fragment holds the answer (relevance at or above `GROUNDED_AT`). */
  grounded: boolean;
}

/**
 * Judges the fragments retrieved for `question`. `idf` gives the IDF of each question word
 * over the whole memory (a `MemoryProvider`'s `termIdf`), and `unknownIdf` what it gives a
 * word it never uses; without them, IDF over the fragments themselves stands in.
 */
export function judge(
  question: string,
  fragments: readonly MemoryFragment[],
  idf?: ArrayLike<number>,
  unknownIdf?: number,
): Judgement {
  const bare = questionTerms(question);
  const texts = fragments.map((f) => f.text);
  const terms = idf
    ? weighTerms(bare, idf, unknownIdf)
    : weighTerms(bare, localIdf(bare, texts), idfOfUnused(localCount(texts)));
  const judged = fragments.map((f) => judgeFragment(terms, f));
  const relevance = judged.reduce((m, f) => Math.max(m, f.relevance), 0);
  return { terms, fragments: judged, relevance, grounded: relevance >= GROUNDED_AT };
}

/** A term no memory holds: search terms are runs of letters and digits, and a space is none. */
const NO_TERM = ' ';

/**
 * Judges `fragments` with IDF over the whole memory (`termIdf` of a `MemoryProvider`),
 * knowing which words of the question the memory never uses.
 */
export async function judgeOverMemory(
  question: string,
  fragments: readonly MemoryFragment[],
  termIdf: (words: readonly string[]) => Promise<ArrayLike<number>> | ArrayLike<number>,
): Promise<Judgement> {
  const asked = questionTerms(question).map((t) => t.word);
  const idf = Array.from(await termIdf([...asked, NO_TERM]), Number);
  return judge(question, fragments, idf.slice(0, asked.length), idf[asked.length]);
}
