/** Questions and answers on the command line: the question checked, the answer and its sources printed. */
import type { Memory } from '@aios/carma';
import { type Answer, snippet } from '@aios/luna';
import { AiosError } from '@aios/utils';
import { pc } from './colors.js';
import { displaySource } from './display-path.js';
import { shortFragmentId } from './memory-find.js';

export interface SourceView {
  id: string;
  score: number;
  /** 0 to 1 on Luna's absolute scale (an answer's sources have it), else undefined. */
  relevance?: number;
  /** The sentence quoted from it, with its subject (an answer's sources have it). */
  quote?: string | null;
  source: string | null;
  line: number | null;
  /** The chapter of the book it is in (an EPUB's fragments), else null. */
  chapter: string | null;
  offset: number | null;
  namespace: string | null;
  text: string;
}

/** Where each search result came from (CARMA fragment metadata); answers carry theirs. */
export async function describeSources(
  memory: Memory,
  sources: Array<{ id: string; score: number }>,
): Promise<SourceView[]> {
  const out: SourceView[] = [];
  for (const s of sources) {
    let fragment: Awaited<ReturnType<Memory['get']>> | undefined;
    try {
      fragment = await memory.get(s.id);
    } catch {
      fragment = undefined; // merged or deleted since
    }
    const meta = (fragment?.metadata ?? {}) as Record<string, unknown>;
    out.push({
      id: s.id,
      score: s.score,
      source: typeof meta.source === 'string' ? meta.source : null,
      line: typeof meta.line === 'number' ? meta.line : null,
      chapter: typeof meta.chapter === 'string' ? meta.chapter : null,
      offset: typeof meta.offset === 'number' ? meta.offset : null,
      namespace: fragment?.namespace ?? null,
      text: fragment?.text ?? '',
    });
  }
  return out;
}

/**
 * `  [1] notes/grandma.md:4 (relevance 1.00) [Grandma Rose] is allergic to cats…`; a note
 * from no file by its namespace and the short id `aios memory show` takes.
 */
export function sourceLine(s: SourceView, n: number): string {
  const where = s.source
    ? displaySource(s.source, s.line, 0, s.chapter)
    : `${s.namespace ?? 'memory'} ${shortFragmentId(s.id)}`;
  const scale =
    s.relevance === undefined
      ? `score ${s.score.toFixed(3)}`
      : `relevance ${s.relevance.toFixed(2)}`;
  return `  [${n}] ${pc.cyan(where)} ${pc.dim(`(${scale})`)} ${pc.dim(snippet(s.quote ?? s.text))}`;
}

/**
 * The views with what the answer knows of each source: its relevance, the sentence it
 * quotes, and the line of that sentence (not the fragment's first line).
 */
export function withAnswer(answer: Answer, sources: SourceView[]): SourceView[] {
  return sources.map((view) => {
    const s = answer.sources.find((a) => a.id === view.id);
    if (!s) return view;
    return {
      ...view,
      relevance: s.relevance,
      quote: s.quote,
      line: s.line ?? view.line,
    };
  });
}

export function checkQuestion(question: string): string {
  if (typeof question !== 'string' || question.trim() === '') {
    throw new AiosError('INVALID_INPUT', 'question: expected a non-empty question');
  }
  return question.trim();
}

/** An answer and its sources; why it is quoted from memory is the caller's (`offlineHint`). */
export function printAnswer(answer: Answer, sources: SourceView[]): void {
  const text = answer.answer.trim();
  if (answer.mode === 'offline' && !text.startsWith('[offline]')) {
    console.log(`${pc.yellow('[offline]')} ${text}`);
  } else {
    console.log(text.replace(/^\[offline\]/, pc.yellow('[offline]')));
  }
  printLearned(answer);
  const views = withAnswer(answer, sources);
  if (views.length > 0) {
    // Not grounded: what is listed came closest and does not answer the question.
    console.log(pc.bold(answer.grounded === false ? 'Closest (not an answer):' : 'Sources:'));
    views.forEach((s, i) => {
      console.log(sourceLine(s, i + 1));
    });
  } else if (answer.grounded === false) {
    console.log(pc.dim('(memory holds nothing on this; `aios ingest` notes that answer it)'));
  } else {
    console.log(pc.dim('(no sources: the memory has nothing on this yet; try `aios ingest`)'));
  }
}

/** What Luna learnt from the exchange: each memory change (with its id, to undo it) and conflict. */
function printLearned(answer: Answer): void {
  const learned = answer.learned;
  if (!learned) return;
  for (const c of learned.changes) {
    const what =
      c.op === 'retire'
        ? `retired: ${c.before ?? ''}`
        : `${c.op === 'add' ? 'remembered' : 'updated'}: ${c.after ?? ''}`;
    console.log(pc.green(`${what} ${pc.dim(`(change ${c.id.slice(0, 8)})`)}`));
  }
  for (const conflict of learned.conflicts) {
    console.log(
      pc.yellow(`conflicts with memory: ${conflict.a.quote} ${pc.dim('<>')} ${conflict.b.quote}`),
    );
  }
  if (learned.error) console.log(pc.dim(`(nothing learnt: ${learned.error.split(':')[0]})`));
}

export function answerJson(answer: Answer, sources: SourceView[]) {
  return {
    id: answer.id,
    conversationId: answer.conversationId,
    answer: answer.answer,
    mode: answer.mode,
    ...(answer.offlineReason ? { offlineReason: answer.offlineReason } : {}),
    grounded: answer.grounded,
    relevance: answer.relevance,
    model: answer.model ?? null,
    ...(answer.learned ? { learned: answer.learned } : {}),
    sources: withAnswer(answer, sources),
  };
}
