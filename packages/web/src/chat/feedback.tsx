import { useState } from 'preact/hooks';
import { api, ok } from '../api/client';
import { type ApiError, asApiError } from '../api/errors';
import { ErrorNote } from '../components/error-note';

/**
 * Thumbs up or down on an answer (it nudges Luna's personality and reinforces the
 * fragments it used), and undo, which takes both back.
 */
export function Feedback({ answerId }: { answerId: string }) {
  const [given, setGiven] = useState<{ id: string; vote: 'up' | 'down' }>();
  const [undone, setUndone] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await action();
    } catch (failure) {
      setError(asApiError(failure));
    } finally {
      setBusy(false);
    }
  };
  const vote = (v: 'up' | 'down') =>
    run(async () => {
      const answer = await ok(
        api.POST('/v1/answers/{id}/feedback', {
          params: { path: { id: answerId } },
          body: { vote: v },
        }),
      );
      setGiven({ id: answer.feedback.id, vote: v });
      setUndone(false);
    });
  const undo = () =>
    run(async () => {
      if (!given) return;
      await ok(api.POST('/v1/feedback/{id}/undo', { params: { path: { id: given.id } } }));
      setUndone(true);
    });
  return (
    <div class="feedback" data-testid="feedback">
      {(!given || undone) && (
        <>
          <button
            type="button"
            disabled={busy}
            onClick={() => void vote('up')}
            aria-label="Good answer"
          >
            <span aria-hidden="true">👍</span>
          </button>
          <button
            type="button"
            disabled={busy}
            onClick={() => void vote('down')}
            aria-label="Bad answer"
          >
            <span aria-hidden="true">👎</span>
          </button>
        </>
      )}
      <span role="status">
        {given && !undone && `Thanks: rated ${given.vote === 'up' ? 'good' : 'bad'}. `}
        {given && undone && 'Feedback taken back.'}
      </span>
      {given && !undone && (
        <button type="button" disabled={busy} onClick={() => void undo()}>
          Undo feedback
        </button>
      )}
      <ErrorNote error={error} />
    </div>
  );
}
