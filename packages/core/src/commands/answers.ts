/** Questions and answers on the command line: the question checked, the answer and its sources printed. */
import type { Memory } from '@aios/carma';
import type { Answer } from '@aios/luna';
import { AiosError } from '@aios/utils';
import { pc } from './colors.js';
import { displayPath } from './display-path.js';

export interface SourceView {
  id: string;
  score: number;
  source: string | null;
  line: number | null;
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
    let fragment: ReturnType<Memory['get']> | undefined;
    try {
      fragment = memory.get(s.id);
    } catch {
      fragment = undefined; // merged or deleted since
    }
    const meta = (fragment?.metadata ?? {}) as Record<string, unknown>;
    out.push({
      id: s.id,
      score: s.score,
      source: typeof meta.source === 'string' ? meta.source : null,
      line: typeof meta.line === 'number' ? meta.line : null,
      offset: typeof meta.offset === 'number' ? meta.offset : null,
      namespace: fragment?.namespace ?? null,
      text: fragment?.text ?? '',
    });
  }
  return out;
}

export function sourceLine(s: SourceView, n: number): string {
  const where = s.source
    ? `${displayPath(s.source)}${s.line === null ? '' : `:${s.line}`}`
    : `${s.namespace ?? 'memory'} ${s.id.slice(0, 12)}`;
  const snippet = s.text.replace(/\s+/g, ' ').slice(0, 80);
  return `  [${n}] ${pc.cyan(where)} ${pc.dim(`(score ${s.score.toFixed(3)})`)} ${pc.dim(snippet)}`;
}

export function checkQuestion(question: string): string {
  if (typeof question !== 'string' || question.trim() === '') {
    throw new AiosError('INVALID_INPUT', 'question: expected a non-empty question');
  }
  return question.trim();
}

export function printAnswer(answer: Answer, sources: SourceView[]): void {
  const text = answer.answer.trim();
  if (answer.mode === 'offline' && !text.startsWith('[offline]')) {
    console.log(`${pc.yellow('[offline]')} ${text}`);
  } else {
    console.log(text.replace(/^\[offline\]/, pc.yellow('[offline]')));
  }
  if (answer.mode === 'offline' && answer.offlineReason) {
    const code = answer.offlineReason.split(':')[0];
    console.log(
      pc.dim(`(no language model answered: ${code}; \`aios health\` or --json for details)`),
    );
  }
  if (sources.length > 0) {
    console.log(pc.bold('Sources:'));
    sources.forEach((s, i) => {
      console.log(sourceLine(s, i + 1));
    });
  } else {
    console.log(pc.dim('(no sources: the memory has nothing on this yet; try `aios ingest`)'));
  }
}

export function answerJson(answer: Answer, sources: SourceView[]) {
  return {
    id: answer.id,
    conversationId: answer.conversationId,
    answer: answer.answer,
    mode: answer.mode,
    ...(answer.offlineReason ? { offlineReason: answer.offlineReason } : {}),
    model: answer.model ?? null,
    sources,
  };
}
