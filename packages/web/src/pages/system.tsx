import { useState } from 'preact/hooks';
import { ScopeNote, useAccess } from '../access';
import { api, ok } from '../api/client';
import { asApiError } from '../api/errors';
import { Chart } from '../components/chart';
import { ErrorNote, needsScope } from '../components/error-note';
import { formatDate, formatNumber, formatValue } from '../components/format';
import { ScrollTable } from '../components/scroll-table';
import { useInterval, useLoad } from '../hooks';
import { type Point, pointsOf, readScrape, type Scrape } from '../system/metrics';

const SCRAPE_EVERY_MS = 5_000;
/** Points kept on the charts: an hour at one scrape every 5 s. */
const KEPT = 720;

interface HealthCheck {
  status?: unknown;
  output?: unknown;
  observedValue?: unknown;
  observedUnit?: unknown;
}

function HealthSection() {
  const health = useLoad(async () => {
    // 503 carries the same report (a check fails): show it rather than an error.
    const { data, error, response } = await api.GET('/health');
    if (response.status === 503 && error && 'checks' in (error as object)) {
      return error as unknown as NonNullable<typeof data>;
    }
    return ok(Promise.resolve({ data, error, response }));
  }, []);
  const report = health.data;
  return (
    <section aria-labelledby="health-title">
      <h2 id="health-title">
        Health {report && <span class={`badge status-${report.status}`}>{report.status}</span>}
      </h2>
      <ErrorNote error={health.error} />
      {report && Object.keys(report.checks).length === 0 && (
        <p>The checks themselves are shown to an admin key of the default tenant.</p>
      )}
      {report && Object.keys(report.checks).length > 0 && (
        <ScrollTable caption="Health checks" columns={['Check', 'Status', 'Observed', 'Output']}>
          {Object.entries(report.checks).flatMap(([name, entries]) =>
            (entries as HealthCheck[]).map((check, i) => (
              <tr key={`${name}-${i}`}>
                <th scope="row">{name}</th>
                <td>
                  <span class={`badge status-${String(check.status)}`}>{String(check.status)}</span>
                </td>
                <td>
                  {check.observedValue === undefined
                    ? '—'
                    : `${formatValue(check.observedValue)} ${check.observedUnit ?? ''}`}
                </td>
                <td>{check.output === undefined ? '' : String(check.output)}</td>
              </tr>
            )),
          )}
        </ScrollTable>
      )}
      <button type="button" onClick={health.reload}>
        Check again
      </button>
    </section>
  );
}

function StatusSection() {
  const status = useLoad(() => ok(api.GET('/v1/status')), []);
  const data = status.data;
  return (
    <section aria-labelledby="status-title">
      <h2 id="status-title">Implementations</h2>
      <ErrorNote error={status.error} />
      {data && (
        <>
          <p>
            AIOS {data.version}, tenant <code>{data.tenant}</code>, running since{' '}
            {formatDate(data.startedAt)}; {data.jobsRunning} job(s) running.
          </p>
          <ScrollTable
            caption="The implementation each core runs"
            columns={['Core', 'Implementation', 'Mode', 'Why']}
          >
            {data.implementations.map((report) => (
              <tr key={String(report.core)}>
                <th scope="row">{String(report.core)}</th>
                <td>{String(report.implementation)}</td>
                <td>{String(report.mode ?? '')}</td>
                <td>{String(report.reason ?? '')}</td>
              </tr>
            ))}
          </ScrollTable>
          <h3>Memory</h3>
          <dl class="facts">
            {Object.entries(data.memory).map(([name, value]) => (
              <div key={name}>
                <dt>{name}</dt>
                <dd>{formatValue(value)}</dd>
              </div>
            ))}
          </dl>
        </>
      )}
    </section>
  );
}

/** The metrics, or, for a key without the admin scope, which scope they need. */
function MetricsSection() {
  const { can } = useAccess();
  if (!can('admin')) {
    return (
      <section aria-labelledby="metrics-title">
        <h2 id="metrics-title">Metrics</h2>
        <ScopeNote scope="admin">Reading the metrics</ScopeNote>
      </section>
    );
  }
  return <MetricsCharts />;
}

function MetricsCharts() {
  const [scrapes, setScrapes] = useState<Scrape[]>([]);
  const [error, setError] = useState<ReturnType<typeof asApiError>>();
  useInterval(() => {
    ok(api.GET('/metrics', { parseAs: 'text' })).then(
      (text) => {
        setError(undefined);
        setScrapes((before) => [...before.slice(-KEPT), readScrape(String(text), Date.now())]);
      },
      (failure: unknown) => setError(asApiError(failure)),
    );
  }, SCRAPE_EVERY_MS);
  const points = pointsOf(scrapes);
  const times = points.map((p) => p.at / 1000);
  const last = points.at(-1);
  const series = (pick: (p: Point) => number | null) => points.map(pick);
  return (
    <section aria-labelledby="metrics-title">
      <h2 id="metrics-title">Metrics</h2>
      {needsScope(error) ? (
        <p class="notice">Metrics need a key with the admin scope.</p>
      ) : (
        <ErrorNote error={error} />
      )}
      {!error && points.length === 0 && (
        <p role="status">Collecting: the charts start after the second scrape (every 5 s).</p>
      )}
      {points.length > 0 && (
        <div class="charts">
          <Chart
            label="Requests per minute"
            unit="req/min"
            summary={last ? formatNumber(last.requestsPerMinute) : '—'}
            times={times}
            values={series((p) => p.requestsPerMinute)}
          />
          <Chart
            label="Mean latency"
            unit="ms"
            summary={
              last?.meanLatencyMs == null ? 'no request' : `${formatNumber(last.meanLatencyMs)} ms`
            }
            times={times}
            values={series((p) => p.meanLatencyMs)}
          />
          <Chart
            label="Memory items"
            unit="items"
            summary={last ? formatNumber(last.memoryItems) : '—'}
            times={times}
            values={series((p) => p.memoryItems)}
          />
          <Chart
            label="Language-model tokens (total)"
            unit="tokens"
            summary={last ? formatNumber(last.tokens) : '—'}
            times={times}
            values={series((p) => p.tokens)}
          />
        </div>
      )}
    </section>
  );
}

/** Health checks, the implementation of each core, and metrics plotted while the page is open. */
export function SystemPage() {
  return (
    <>
      <HealthSection />
      <StatusSection />
      <MetricsSection />
    </>
  );
}
