import { useRef, useState } from 'preact/hooks';
import { type ApiError, asApiError } from '../api/errors';
import { type AnswerMeta, askStreaming, type Source } from '../chat/ask-stream';
import { ErrorNote } from '../components/error-note';
import { formatNumber } from '../components/format';
import { linkHandler } from '../router';

interface Turn {
  /** Stable within the page: turns are keyed by it. */
  id: number;
  question: string;
  answer: string;
  /** How many streamed pieces made the answer so far. */
  pieces: number;
  sources: Source[];
  meta?: AnswerMeta;
  error?: ApiError;
}

function Citations({ sources }: { sources: Source[] }) {
  if (sources.length === 0) return null;
  return (
    <ol class="sources" aria-label="Sources">
      {sources.map((s) => {
        const path = `/memories/${encodeURIComponent(s.id)}`;
        return (
          <li key={s.id}>
            <a href={path} onClick={linkHandler(path)} data-source-id={s.id}>
              {s.quote ?? s.snippet}
            </a>
            <span class="muted">
              {' '}
              {s.source ?? s.namespace ?? ''} · relevance {formatNumber(s.relevance)}
              {s.grounded ? ' · holds the answer' : ''}
            </span>
          </li>
        );
      })}
    </ol>
  );
}

function TurnView({ turn }: { turn: Turn }) {
  const offline = turn.meta?.mode === 'offline';
  return (
    <li class="turn">
      <p class="question">
        <span class="visually-hidden">You asked: </span>
        {turn.question}
      </p>
      <div class="answer">
        <span class="visually-hidden">Luna: </span>
        {offline && (
          <span class="badge status-warn" data-testid="offline-badge">
            Quoted from memory: no language model answered
            {turn.meta?.offlineReason ? ` (${turn.meta.offlineReason})` : ''}
          </span>
        )}
        <p class="answer-text" data-pieces={turn.pieces}>
          {turn.answer || (turn.meta || turn.error ? '' : '…')}
        </p>
        <Citations sources={turn.sources} />
        <ErrorNote error={turn.error} />
      </div>
    </li>
  );
}

/** Ask Luna: the answer streams in, its sources are citations that open the fragment. */
export function ChatPage() {
  const [turns, setTurns] = useState<Turn[]>([]);
  const [question, setQuestion] = useState('');
  const [conversationId, setConversationId] = useState<string>();
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  const nextId = useRef(0);
  const update = (id: number, change: (t: Turn) => Turn) =>
    setTurns((all) => all.map((t) => (t.id === id ? change(t) : t)));

  const ask = async (event: Event) => {
    event.preventDefault();
    const text = question.trim();
    if (!text || busy) return;
    const index = nextId.current++;
    setTurns((all) => [...all, { id: index, question: text, answer: '', pieces: 0, sources: [] }]);
    setQuestion('');
    setBusy(true);
    try {
      const meta = await askStreaming(
        { question: text, ...(conversationId ? { conversationId } : {}) },
        {
          onSources: (sources) => update(index, (t) => ({ ...t, sources, answer: '', pieces: 0 })),
          onToken: (piece) =>
            update(index, (t) => ({ ...t, answer: t.answer + piece, pieces: t.pieces + 1 })),
        },
      );
      setConversationId(meta.conversationId);
      update(index, (t) => ({ ...t, meta }));
    } catch (failure) {
      update(index, (t) => ({ ...t, error: asApiError(failure) }));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <div class="actions">
        <button
          type="button"
          onClick={() => {
            setTurns([]);
            setConversationId(undefined);
          }}
        >
          New conversation
        </button>
      </div>
      <ol class="turns" aria-label="Conversation" aria-live="polite">
        {turns.map((turn) => (
          <TurnView key={turn.id} turn={turn} />
        ))}
      </ol>
      <form ref={form} onSubmit={ask} aria-label="New question" class="ask">
        <label for="question">Ask Luna</label>
        <textarea
          id="question"
          rows={3}
          value={question}
          placeholder="Ask about anything in your memory… (Enter sends, Shift+Enter: new line)"
          onInput={(e) => setQuestion((e.target as HTMLTextAreaElement).value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey) {
              e.preventDefault();
              form.current?.requestSubmit();
            }
          }}
        />
        <button type="submit" class="primary" disabled={busy || question.trim() === ''}>
          {busy ? 'Answering…' : 'Send'}
        </button>
      </form>
    </>
  );
}
