import { useState } from 'preact/hooks';
import { api, authorizedFetch, ok } from '../api/client';
import { type ApiError, asApiError } from '../api/errors';
import { MAX_LENGTH } from '../api/max-length.gen';
import type { paths } from '../api/schema.gen';
import { ErrorNote } from '../components/error-note';
import { formatDate } from '../components/format';
import { TypedConfirm } from '../components/typed-confirm';
import { useAction } from '../hooks';
import { TenantField } from './tenant-field';

type EraseReport =
  paths['/v1/compliance/erase']['post']['responses'][200]['content']['application/json'];

/** Saves `blob` as a file, as a link with `download` does. */
function save(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function Export() {
  const [tenant, setTenant] = useState('');
  const { busy, error, run } = useAction();
  const [done, setDone] = useState<string>();
  const exportAll = (event: Event) => {
    event.preventDefault();
    setDone(undefined);
    return run(async () => {
      const query = tenant.trim() ? `?tenant=${encodeURIComponent(tenant.trim())}` : '';
      const response = await authorizedFetch(`/v1/compliance/export${query}`);
      const blob = await response.blob();
      const name = `aios-export-${tenant.trim() || 'tenant'}-${new Date().toISOString().slice(0, 10)}.json`;
      save(blob, name);
      setDone(`Exported ${name} (${blob.size} bytes).`);
    });
  };
  return (
    <form class="panel inline" onSubmit={exportAll} aria-label="Export a tenant">
      <TenantField id="export-tenant" value={tenant} onInput={setTenant} />
      <button type="submit" disabled={busy}>
        {busy ? 'Exporting…' : 'Export everything as JSON'}
      </button>
      {done && <p role="status">{done}</p>}
      <ErrorNote error={error} />
    </form>
  );
}

function Erase() {
  const [namespace, setNamespace] = useState('');
  const [tenant, setTenant] = useState('');
  const [conversations, setConversations] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [report, setReport] = useState<EraseReport>();
  const [error, setError] = useState<ApiError>();
  const erase = async () => {
    setConfirming(false);
    setError(undefined);
    setReport(undefined);
    try {
      setReport(
        await ok(
          api.POST('/v1/compliance/erase', {
            body: {
              namespace: namespace.trim(),
              confirm: true,
              deleteCitingConversations: conversations,
              ...(tenant.trim() ? { tenant: tenant.trim() } : {}),
            },
          }),
        ),
      );
    } catch (failure) {
      setError(asApiError(failure));
    }
  };
  return (
    <>
      <form
        class="panel"
        aria-label="Erase a namespace"
        onSubmit={(e) => {
          e.preventDefault();
          setConfirming(true);
        }}
      >
        <label for="erase-namespace">Namespace</label>
        <input
          id="erase-namespace"
          required
          maxLength={MAX_LENGTH['POST /v1/compliance/erase'].namespace}
          value={namespace}
          onInput={(e) => setNamespace((e.target as HTMLInputElement).value)}
        />
        <TenantField id="erase-tenant" value={tenant} onInput={setTenant} />
        <label class="check">
          <input
            type="checkbox"
            checked={conversations}
            onChange={(e) => setConversations((e.target as HTMLInputElement).checked)}
          />
          Also delete the conversations whose answers cite it
        </label>
        <div>
          <button type="submit" class="danger">
            Erase namespace…
          </button>
        </div>
      </form>
      <ErrorNote error={error} />
      {report && (
        <div role="status" data-testid="erase-report" class="panel">
          <p>
            Erased namespace <code>{report.namespace}</code> of tenant <code>{report.tenant}</code>{' '}
            at {formatDate(report.erasedAt)}: {report.removed.fragments} fragment(s),{' '}
            {report.removed.vectors} vector(s), {report.removed.historyRows} history row(s),{' '}
            {report.removed.sources} source(s) removed
            {report.database.compacted ? '; the database compacted' : ''}.
          </p>
          {report.backups.snapshots.length > 0 && (
            <p>
              {report.backups.snapshots.length} backup snapshot(s) still hold it
              {report.backups.command && (
                <>
                  : forget them with <code>{report.backups.command}</code>
                </>
              )}
              .
            </p>
          )}
        </div>
      )}
      <TypedConfirm
        open={confirming}
        title="Erase this namespace for good?"
        confirmLabel="Erase"
        expected={namespace.trim()}
        label="Namespace to erase"
        onConfirm={() => void erase()}
        onCancel={() => setConfirming(false)}
      >
        <p>
          Every memory of <code>{namespace.trim()}</code>, its vectors, index entries and history
          are removed; this cannot be undone. Type the namespace to confirm.
        </p>
      </TypedConfirm>
    </>
  );
}

/** Export everything a tenant holds; erase a namespace for good, with its report. */
export function ComplianceSection() {
  return (
    <section aria-labelledby="compliance-title">
      <h2 id="compliance-title">Export and erase</h2>
      <Export />
      <Erase />
    </section>
  );
}
