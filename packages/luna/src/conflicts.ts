/**
 * Contradictions between memories: two sentences of different fragments that say the same
 * thing about the same subject ("Maya's dental check-up is on ...") with different values
 * (3 June against 10 June, Mondays against Thursdays). A sentence says something (its
 * frame: its content words, less names and values) about someone (its subject, see
 * ./subject, and the names in it) with values (numbers, dates, days). Two sentences are in
 * conflict when their subjects meet (or one names no one), most of the smaller frame is in
 * the other (two words at least, or the one word both say of a subject both name), and
 * neither's values are all in the other's (so a shorter restatement is no conflict).
 */
import type { MemoryFragment } from './memory.js';
import { leadingSubject, subjectSentences } from './subject.js';
import { CALENDAR_WORDS, STOPWORDS, stem, words } from './text.js';

/** Share of the smaller frame that the other must hold. */
const SAME_FRAME = 0.6;
/** Words of a frame shared by more fragments than this say nothing about which are alike. */
const MAX_SHARED_BY = 50;
/** Pairs compared at most, so a large memory is still checked in bounded time. */
const MAX_PAIRS = 200_000;

/** One side of a conflict. */
export interface ConflictSide {
  fragmentId: string;
  /** The sentence, as quoted (with its subject). */
  quote: string;
  /** 0-based line of the fragment's text where the sentence starts. */
  line: number;
  /** Its values (numbers, dates, days). */
  values: string[];
  /** The fragment's metadata (for a note, its `source` and `line`). */
  metadata: Record<string, unknown>;
  namespace: string | null;
}

export interface Conflict {
  a: ConflictSide;
  b: ConflictSide;
  /** Words both sentences say it about, as the first sentence writes them. */
  about: string[];
}

interface Claim {
  fragment: number;
  quote: string;
  line: number;
  /** Who or what it is about: its subject and the names in it. */
  names: Set<string>;
  /** The words of its subject (resolved, or the phrase it opens with), if it has one. */
  subject: Set<string>;
  /** What it says of them: its other content words (stems). */
  frame: Set<string>;
  values: Set<string>;
  /** Each stem of its names and frame as the sentence (or its subject) writes the word. */
  written: Map<string, string>;
}

const PRONOUNS = new Set(['she', 'he', 'her', 'hers', 'him', 'his', 'they', 'them', 'us', 'now']);

/** The words of a sentence that are values: numbers and anything with a digit, months, days. */
function isValue(word: string): boolean {
  return /\d/.test(word) || CALENDAR_WORDS.has(word);
}

function claims(fragment: MemoryFragment, index: number): Claim[] {
  const out: Claim[] = [];
  for (const s of subjectSentences(
    fragment.text,
    fragment.metadata?.source,
    fragment.metadata?.kind,
  )) {
    const said = s.subject ?? leadingSubject(s.text) ?? '';
    const subject = words(said).filter((w) => !STOPWORDS.has(w));
    const named = [...subject];
    const tokens = s.text.match(/[\p{L}\p{N}]+(?:['’]s)?/gu) ?? [];
    tokens.forEach((token, i) => {
      if (i > 0 && /^\p{Lu}/u.test(token)) named.push(token.replace(/['’]s$/u, '').toLowerCase());
    });
    const names = new Set(
      named.filter((w) => !STOPWORDS.has(w) && !PRONOUNS.has(w) && !isValue(w)).map(stem),
    );
    const values = new Set<string>();
    const frame = new Set<string>();
    for (const w of words(s.text)) {
      if (isValue(w)) values.add(w);
      else if (!STOPWORDS.has(w) && !PRONOUNS.has(w) && w.length > 1 && !names.has(stem(w))) {
        frame.add(stem(w));
      }
    }
    // One word of frame is enough ("Anna's birthday is on 3 May"): comparing decides how
    // much two frames must share.
    if (values.size > 0 && frame.size >= 1) {
      const written = new Map<string, string>();
      for (const token of `${said} ${s.text}`.match(/[\p{L}\p{N}]+/gu) ?? []) {
        const key = stem(token.toLowerCase());
        if (!written.has(key)) written.set(key, token);
      }
      out.push({
        fragment: index,
        quote: s.quote,
        line: s.line,
        names,
        subject: new Set(subject.map(stem)),
        frame,
        values,
        written,
      });
    }
  }
  return out;
}

const subset = (a: Set<string>, b: Set<string>) => [...a].every((x) => b.has(x));

/**
 * Two claims are about the same one when their subjects agree (one's words all in the
 * other's: "the black bin" and "the black bin for general waste", not "the blue bin"),
 * else when either names no one or their names meet.
 */
function sameSubject(c: Claim, d: Claim): boolean {
  if (c.subject.size > 0 && d.subject.size > 0) {
    return subset(c.subject, d.subject) || subset(d.subject, c.subject);
  }
  return c.names.size === 0 || d.names.size === 0 || [...c.names].some((n) => d.names.has(n));
}

/**
 * One word in common is little: it is the same thing said only when it is all both say
 * ("birthday", not "birthday" and "birthday party", which can be another day) of the same
 * named subject ("the school", not "the school library"; one that names no one could be
 * about anyone).
 */
const sameOneWord = (c: Claim, d: Claim) =>
  c.frame.size === 1 &&
  d.frame.size === 1 &&
  c.subject.size > 0 &&
  c.subject.size === d.subject.size &&
  subset(c.subject, d.subject);

const side = (f: MemoryFragment, c: Claim): ConflictSide => ({
  fragmentId: f.id,
  quote: c.quote,
  line: c.line,
  values: [...c.values],
  metadata: { ...f.metadata },
  namespace: f.namespace ?? null,
});

/** True when every value of `small` is among those of `big`. */
const within = (small: Set<string>, big: Set<string>) => [...small].every((v) => big.has(v));

/**
 * The contradictions among `fragments` (any order), each pair of sentences once, most
 * alike first. `among`, when given, limits them to conflicts involving those fragment ids
 * (what one change of memory may have brought about).
 */
export function findConflicts(
  fragments: readonly MemoryFragment[],
  among?: ReadonlySet<string>,
): Conflict[] {
  // A remembered exchange (`Q: … A: …`) quotes other memories; it states nothing of its own.
  const all = fragments.flatMap((f, i) => (f.metadata?.kind === 'exchange' ? [] : claims(f, i)));
  // Candidates share a frame word; words of many fragments are left out of the index.
  const byWord = new Map<string, number[]>();
  all.forEach((c, i) => {
    for (const w of c.frame) {
      const list = byWord.get(w);
      if (list) list.push(i);
      else byWord.set(w, [i]);
    }
  });
  const seen = new Set<string>();
  const found: Array<Conflict & { overlap: number }> = [];
  let compared = 0;
  all.forEach((c, i) => {
    const f = fragments[c.fragment] as MemoryFragment;
    for (const w of c.frame) {
      const list = byWord.get(w) ?? [];
      if (list.length > MAX_SHARED_BY) continue;
      for (const j of list) {
        if (j <= i || compared >= MAX_PAIRS) continue;
        const d = all[j] as Claim;
        const key = `${i}:${j}`;
        if (d.fragment === c.fragment || seen.has(key)) continue;
        seen.add(key);
        compared++;
        const g = fragments[d.fragment] as MemoryFragment;
        if (among && !among.has(f.id) && !among.has(g.id)) continue;
        if (!sameSubject(c, d)) continue;
        const shared = [...c.frame].filter((x) => d.frame.has(x));
        const overlap = shared.length / Math.min(c.frame.size, d.frame.size);
        if (shared.length === 0 || overlap < SAME_FRAME) continue;
        if (shared.length === 1 && !sameOneWord(c, d)) continue;
        if (within(c.values, d.values) || within(d.values, c.values)) continue;
        const about = [...new Set([...c.names].filter((n) => d.names.has(n)).concat(shared))].map(
          (w) => c.written.get(w) ?? w,
        );
        found.push({ a: side(f, c), b: side(g, d), about, overlap });
      }
    }
  });
  return found.sort((x, y) => y.overlap - x.overlap).map(({ overlap: _, ...conflict }) => conflict);
}
