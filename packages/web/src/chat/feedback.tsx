import { useState } from 'preact/hooks';
import { api, ok } from '../api/client';
import { ErrorNote } from '../components/error-note';
import { useAction } from '../hooks';

/**
 * Thumbs up or down on an answer (it nudges Luna's personality and reinforces the
 * fragments it used), and undo, which takes both back.
 */
export function Feedback({ answerId }: { answerId: string }) {
  const [given, setGiven] = useState<{ id: string; vote: 'up' | 'down' }>();
  const [undone, setUndone] = useState(false);
  const { busy, error, run } = useAction();
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
