/**
 * Retrieval for each part of a question. A compound question ("Where does my brother work
 * and where is it?") is searched and judged part by part, so that each part is answered by
 * the note that answers it; a part that refers back ("where is it?") is searched with what
 * the answer to the part before names (the firm the brother works at), as a follow-up in a
 * conversation is with what the previous turn was about.
 */
import { followUpQuery } from './follow-up.js';
import type { MemoryFragment } from './memory.js';
import { chooseQuotes } from './offline.js';
import type { Judgement } from './relevance.js';

/** One part of a question, judged. */
export interface AskedPart {
  /** The part as asked. */
  question: string;
  /** What it was searched and judged with (with whom or what it refers back to). */
  query: string;
  /** Its judgement over all the fragments retrieved for the question. */
  judgement: Judgement;
}

/** What memory gave for a question. */
export interface Retrieval {
  /** The fragments retrieved for every part, each once, in the order they came. */
  fragments: MemoryFragment[];
  /** One per part of the question (one for a question that asks one thing). */
  parts: AskedPart[];
  /** Every fragment judged at its best over the parts: what answers some part. */
  judgement: Judgement;
}

export interface PartRetrievers {
  search(query: string): Promise<MemoryFragment[]>;
  judge(query: string, fragments: MemoryFragment[]): Promise<Judgement>;
}

/** What the answer to a part quotes, as its text: what a later part may refer back to. */
function quotedFor(judgement: Judgement): string {
  const chosen = chooseQuotes(judgement, { maxSentences: 3, maxChars: 1200 }) ?? [];
  return chosen.map((c) => c.quote).join(' ');
}

/** The judgements of the parts as one: each fragment at its best relevance over them. */
function bestOver(parts: readonly AskedPart[]): Judgement {
  const [first] = parts as [AskedPart];
  const fragments = first.judgement.fragments.map((_, i) =>
    parts
      .map((p) => p.judgement.fragments[i] as Judgement['fragments'][number])
      .reduce((best, f) => (f.relevance > best.relevance ? f : best)),
  );
  const relevance = fragments.reduce((m, f) => Math.max(m, f.relevance), 0);
  return {
    terms: parts.flatMap((p) => p.judgement.terms),
    fragments,
    relevance,
    grounded: parts.some((p) => p.judgement.grounded),
  };
}

/**
 * Searches and judges `parts` (the parts of one question, `questionParts`), the first
 * with `previous` (the conversation's last turn) to refer back to, each later one with the
 * answer to the part before it.
 */
export async function retrieveParts(
  parts: readonly string[],
  previous: { question: string; answer: string } | undefined,
  retrievers: PartRetrievers,
): Promise<Retrieval> {
  const fragments: MemoryFragment[] = [];
  const queries: string[] = [];
  let before = previous;
  for (const part of parts) {
    const query = followUpQuery(part, before);
    queries.push(query);
    for (const f of await retrievers.search(query)) {
      if (!fragments.some((g) => g.id === f.id)) fragments.push(f);
    }
    if (parts.length === 1) {
      const judgement = await retrievers.judge(query, fragments);
      return { fragments, parts: [{ question: part, query, judgement }], judgement };
    }
    before = { question: part, answer: quotedFor(await retrievers.judge(query, fragments)) };
  }
  // Judged again over all that was retrieved: a later part's search may bring the note
  // that answers an earlier one.
  const asked: AskedPart[] = [];
  for (const [i, question] of parts.entries()) {
    const query = queries[i] as string;
    asked.push({ question, query, judgement: await retrievers.judge(query, fragments) });
  }
  return { fragments, parts: asked, judgement: bestOver(asked) };
}
