import { useEffect, useRef, useState } from 'preact/hooks';
import { type ApiError, asApiError } from '../api/errors';
import { MAX_LENGTH } from '../api/max-length.gen';
import { type AnswerMeta, askStreaming } from '../chat/ask-stream';
import { type Citation, Citations, citationOf, storedCitationOf } from '../chat/citations';
import { ConversationList, loadMessages, type Message } from '../chat/conversations';
import { Feedback } from '../chat/feedback';
import { ErrorNote } from '../components/error-note';
import { navigate, usePath } from '../router';

interface Turn {
  /** Stable within the page: turns are keyed by it. */
  id: number;
  question: string;
  answer: string;
  /** How many streamed pieces made the answer so far. */
  pieces: number;
  citations: Citation[];
  answerId?: string;
  mode?: AnswerMeta['mode'];
  offlineReason?: string | null;
  error?: ApiError;
  done: boolean;
}

/** Turns of a stored conversation: each question with the answer that followed it. */
function turnsOf(messages: Message[], nextId: () => number): Turn[] {
  const turns: Turn[] = [];
  for (const m of messages) {
    if (m.role === 'user') {
      turns.push({
        id: nextId(),
        question: m.content,
        answer: '',
        pieces: 0,
        citations: [],
        done: true,
      });
    } else if (m.role === 'assistant') {
      const turn = turns.at(-1);
      if (!turn || turn.answer) continue;
      turn.answer = m.content;
      if (m.answerId) turn.answerId = m.answerId;
      if (m.mode) turn.mode = m.mode;
      turn.citations = (m.sources ?? []).map(storedCitationOf);
    }
  }
  return turns;
}

function TurnView({ turn }: { turn: Turn }) {
  return (
    <li class="turn">
      <p class="question">
        <span class="visually-hidden">You asked: </span>
        {turn.question}
      </p>
      <div class="answer">
        <span class="visually-hidden">Luna: </span>
        {turn.mode === 'offline' && (
          <span class="badge status-warn" data-testid="offline-badge">
            Quoted from memory: no language model answered
            {turn.offlineReason ? ` (${turn.offlineReason})` : ''}
          </span>
        )}
        <p class="answer-text" data-pieces={turn.pieces}>
          {turn.answer || (turn.done ? '' : '…')}
        </p>
        <Citations citations={turn.citations} />
        {turn.answerId && <Feedback answerId={turn.answerId} />}
        <ErrorNote error={turn.error} />
      </div>
    </li>
  );
}

/**
 * Ask Luna: the answer streams in, its sources are citations that open the fragment,
 * thumbs up or down (with undo) rate it; conversations are listed and continued.
 */
export function ChatPage() {
  const [turns, setTurns] = useState<Turn[]>([]);
  const [question, setQuestion] = useState('');
  const [conversationId, setConversationId] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [listVersion, setListVersion] = useState(0);
  const [loadError, setLoadError] = useState<ApiError>();
  const form = useRef<HTMLFormElement>(null);
  const nextId = useRef(0);
  const newId = () => nextId.current++;
  // Which conversation the page shows: an answer that ends after the person moved on (to
  // another conversation, a new one, another page) must not take them back to its own.
  const shown = useRef(0);
  const moveOn = () => {
    shown.current++;
  };
  useEffect(() => moveOn, []);
  const update = (id: number, change: (t: Turn) => Turn) =>
    setTurns((all) => all.map((t) => (t.id === id ? change(t) : t)));
  // The conversation is in the address (/chat/<id>): reload, back and links find it again.
  const path = usePath();
  const routeId = path.startsWith('/chat/')
    ? decodeURIComponent(path.slice('/chat/'.length))
    : undefined;

  const open = async (id: string) => {
    moveOn();
    setLoadError(undefined);
    setConversationId(id);
    try {
      setTurns(turnsOf(await loadMessages(id), newId));
    } catch (failure) {
      setTurns([]);
      setLoadError(asApiError(failure));
    }
  };
  useEffect(() => {
    if (routeId !== undefined && routeId !== conversationId) void open(routeId);
    if (routeId === undefined && conversationId !== undefined) {
      moveOn();
      setTurns([]);
      setConversationId(undefined);
    }
  }, [routeId]);
  const ask = async (event: Event) => {
    event.preventDefault();
    const text = question.trim();
    if (!text || busy) return;
    const id = newId();
    setTurns((all) => [
      ...all,
      { id, question: text, answer: '', pieces: 0, citations: [], done: false },
    ]);
    setQuestion('');
    setBusy(true);
    const asked = shown.current;
    try {
      const meta = await askStreaming(
        { question: text, ...(conversationId ? { conversationId } : {}) },
        {
          onSources: (sources) =>
            update(id, (t) => ({
              ...t,
              citations: sources.map(citationOf),
              answer: '',
              pieces: 0,
            })),
          onToken: (piece) =>
            update(id, (t) => ({ ...t, answer: t.answer + piece, pieces: t.pieces + 1 })),
        },
      );
      if (asked === shown.current) {
        setConversationId(meta.conversationId);
        navigate(`/chat/${encodeURIComponent(meta.conversationId)}`, { replace: true });
      }
      update(id, (t) => ({
        ...t,
        answerId: meta.id,
        mode: meta.mode,
        offlineReason: meta.offlineReason,
        done: true,
      }));
      setListVersion((v) => v + 1);
    } catch (failure) {
      update(id, (t) => ({ ...t, error: asApiError(failure), done: true }));
      // The question is given back to send again, unless another one was typed meanwhile.
      if (asked === shown.current) setQuestion((typed) => (typed.trim() === '' ? text : typed));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="chat">
      <ConversationList
        current={conversationId}
        version={listVersion}
        onOpen={(c) => navigate(`/chat/${encodeURIComponent(c.id)}`)}
      />
      <div class="chat-main">
        <div class="actions">
          <button
            type="button"
            onClick={() => {
              moveOn();
              setTurns([]);
              setConversationId(undefined);
              navigate('/chat');
            }}
          >
            New conversation
          </button>
        </div>
        <ErrorNote error={loadError} />
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
            maxLength={MAX_LENGTH['POST /v1/ask'].question}
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
      </div>
    </div>
  );
}
