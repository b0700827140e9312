import { useState } from 'preact/hooks';
import { api, ok } from '../api/client';
import type { paths } from '../api/schema.gen';
import { ErrorNote } from '../components/error-note';
import { formatDate, formatNumber } from '../components/format';
import { MultiChart } from '../components/multi-chart';
import { ScrollTable } from '../components/scroll-table';
import { useAction, useLoad } from '../hooks';

type Personality = paths['/v1/personality']['get']['responses'][200]['content']['application/json'];
type Traits = Personality['traits'];
type Version =
  paths['/v1/personality/history']['get']['responses'][200]['content']['application/json']['items'][number];

const TRAITS: ReadonlyArray<{ key: keyof Traits; label: string; color: string }> = [
  { key: 'openness', label: 'Openness', color: '#1f4e8c' },
  { key: 'conscientiousness', label: 'Conscientiousness', color: '#2e7d32' },
  { key: 'extraversion', label: 'Extraversion', color: '#b35c00' },
  { key: 'agreeableness', label: 'Agreeableness', color: '#7b1fa2' },
  { key: 'neuroticism', label: 'Neuroticism', color: '#a61b1b' },
];

/** Every version, oldest first (a page of 500 at a time; the history is small). */
async function loadHistory(): Promise<Version[]> {
  const versions: Version[] = [];
  let cursor: string | null = null;
  do {
    const query: { limit: number; cursor?: string } = { limit: 500 };
    if (cursor) query.cursor = cursor;
    const page = await ok(api.GET('/v1/personality/history', { params: { query } }));
    versions.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && versions.length < 5_000);
  return versions;
}

/** "openness +0.02, neuroticism −0.01": what a version changed. */
function changes(v: Version): string {
  const moved = TRAITS.map(({ key, label }) => [label, v.after[key] - v.before[key]] as const)
    .filter(([, d]) => Math.abs(d) >= 0.0005)
    .map(([label, d]) => `${label} ${d > 0 ? '+' : '−'}${formatNumber(Math.abs(d))}`);
  return moved.length > 0 ? moved.join(', ') : 'no change';
}

function TraitBars({ traits }: { traits: Traits }) {
  return (
    <ul class="traits" aria-label="The Big Five now">
      {TRAITS.map(({ key, label, color }) => (
        <li key={key}>
          <span class="trait-name">{label}</span>
          <span class="trait-bar" aria-hidden="true">
            <span style={{ width: `${Math.round(traits[key] * 100)}%`, background: color }} />
          </span>
          <meter min={0} max={1} value={traits[key]} aria-label={label} class="visually-hidden" />
          <span class="trait-value">{formatNumber(traits[key])}</span>
        </li>
      ))}
    </ul>
  );
}

/** Luna's Big Five as a chart, its history with the feedback that moved each trait, and undo. */
export function PersonalityPage() {
  const now = useLoad(() => ok(api.GET('/v1/personality')), []);
  const history = useLoad(loadHistory, []);
  const { busy, error, run } = useAction();
  const [notice, setNotice] = useState<string>();
  const undo = (feedbackId?: string) => {
    setNotice(undefined);
    return run(async () => {
      const result = feedbackId
        ? await ok(api.POST('/v1/feedback/{id}/undo', { params: { path: { id: feedbackId } } }))
        : await ok(api.POST('/v1/feedback/undo'));
      setNotice(`Feedback ${result.feedback.id} taken back.`);
      now.reload();
      history.reload();
    });
  };
  const versions = history.data ?? [];
  const times = versions.map((v) => Date.parse(v.at) / 1000);
  return (
    <>
      <section aria-labelledby="traits-title">
        <h2 id="traits-title">Now</h2>
        <ErrorNote error={now.error} />
        {now.data && (
          <>
            <TraitBars traits={now.data.traits} />
            <p class="muted">
              Last changed {formatDate(now.data.updatedAt)}. Persona: {now.data.persona}
            </p>
          </>
        )}
        <button type="button" disabled={busy} onClick={() => void undo()}>
          Undo the latest feedback
        </button>
        {notice && <p role="status">{notice}</p>}
        <ErrorNote error={error} />
      </section>
      <section aria-labelledby="history-title">
        <h2 id="history-title">History</h2>
        <ErrorNote error={history.error} />
        {history.data && versions.length === 0 && (
          <p>No change yet: feedback on answers moves the traits.</p>
        )}
        {versions.length > 1 && (
          <MultiChart
            label="The Big Five over time"
            summary={`${versions.length} versions`}
            times={times}
            min={0}
            max={1}
            series={TRAITS.map(({ key, label, color }) => ({
              label,
              color,
              values: versions.map((v) => v.after[key]),
            }))}
          />
        )}
        {versions.length > 0 && (
          <ScrollTable
            caption="Versions of the personality, newest first"
            columns={['When', 'Cause', 'Changes', 'Feedback', 'Undo']}
          >
            {[...versions].reverse().map((v) => (
              <tr key={v.id} data-version-cause={v.cause}>
                <td>{formatDate(v.at)}</td>
                <td>{v.cause}</td>
                <td>{changes(v)}</td>
                <td>
                  {v.feedback ? (
                    <>
                      rating {formatNumber(v.feedback.rating)}
                      {v.feedback.comment ? ` “${v.feedback.comment}”` : ''} on answer{' '}
                      <code>{v.feedback.answerId}</code>
                      {v.feedback.undone ? ' (taken back)' : ''}
                    </>
                  ) : (
                    '—'
                  )}
                </td>
                <td>
                  {v.cause === 'feedback' && v.feedback && !v.feedback.undone && (
                    <button
                      type="button"
                      disabled={busy}
                      aria-label={`Undo feedback ${v.feedback.id}`}
                      onClick={() => void undo(v.feedback?.id)}
                    >
                      Undo
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </ScrollTable>
        )}
      </section>
    </>
  );
}
