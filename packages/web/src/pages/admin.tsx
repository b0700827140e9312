import { useState } from 'preact/hooks';
import { useAccess } from '../access';
import { ComplianceSection } from '../admin/compliance';
import { TenantField } from '../admin/tenant-field';
import { TENANT_ID_PATTERN } from '../admin/tenant-id';
import { api, ok } from '../api/client';
import { MAX_LENGTH } from '../api/max-length.gen';
import type { paths } from '../api/schema.gen';
import { Confirm } from '../components/confirm';
import { ErrorNote } from '../components/error-note';
import { formatBytes, formatDate } from '../components/format';
import { ScrollTable } from '../components/scroll-table';
import { TypedConfirm } from '../components/typed-confirm';
import { useAction, useLoad } from '../hooks';

type KeyRequest = paths['/v1/keys']['post']['requestBody']['content']['application/json'];
type Scope = KeyRequest['scopes'][number];
const SCOPES: readonly Scope[] = [
  'memory:read',
  'memory:write',
  'chat',
  'ingest',
  'backup',
  'admin',
];

function CreateKey({ onCreated }: { onCreated: () => void }) {
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Scope[]>(['memory:read']);
  const [tenant, setTenant] = useState('');
  const [expires, setExpires] = useState('');
  const [secret, setSecret] = useState<string>();
  const action = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      const created = await ok(
        api.POST('/v1/keys', {
          body: {
            name: name.trim(),
            scopes,
            ...(tenant.trim() ? { tenant: tenant.trim() } : {}),
            ...(expires ? { expiresAt: new Date(`${expires}T23:59:59`).toISOString() } : {}),
          },
        }),
      );
      setSecret(created.key);
      setName('');
      onCreated();
    });
  };
  const toggle = (scope: Scope, on: boolean) =>
    setScopes((s) => (on ? [...s, scope] : s.filter((x) => x !== scope)));
  return (
    <form onSubmit={submit} aria-labelledby="create-key-title" class="panel">
      <h3 id="create-key-title">Create a key</h3>
      <label for="key-name">Name</label>
      <input
        id="key-name"
        required
        maxLength={MAX_LENGTH['POST /v1/keys'].name}
        value={name}
        onInput={(e) => setName((e.target as HTMLInputElement).value)}
      />
      <fieldset>
        <legend>Scopes</legend>
        {SCOPES.map((scope) => (
          <label key={scope} class="check">
            <input
              type="checkbox"
              name="scope"
              value={scope}
              checked={scopes.includes(scope)}
              onChange={(e) => toggle(scope, (e.target as HTMLInputElement).checked)}
            />
            {scope}
          </label>
        ))}
      </fieldset>
      <TenantField id="key-tenant" value={tenant} onInput={setTenant} />
      <label for="key-expires">Expires (optional)</label>
      <input
        id="key-expires"
        type="date"
        value={expires}
        onInput={(e) => setExpires((e.target as HTMLInputElement).value)}
      />
      <button type="submit" class="primary" disabled={action.busy || scopes.length === 0}>
        Create key
      </button>
      <ErrorNote error={action.error} />
      {secret && (
        <div class="secret" role="status">
          <p>
            <strong>Copy this key now: it is shown this once.</strong>
          </p>
          <output id="new-key" data-testid="new-key">
            {secret}
          </output>
          <div class="actions">
            <button type="button" onClick={() => void navigator.clipboard?.writeText(secret)}>
              Copy
            </button>
            <button type="button" onClick={() => setSecret(undefined)}>
              I have saved it
            </button>
          </div>
        </div>
      )}
    </form>
  );
}

type KeyView = Awaited<ReturnType<typeof loadKeys>>[number];

async function loadKeys() {
  return (await ok(api.GET('/v1/keys', {}))).items;
}

function KeysSection() {
  const keys = useLoad(loadKeys, []);
  const [revoking, setRevoking] = useState<KeyView>();
  const action = useAction();
  const revoke = () => {
    const key = revoking;
    setRevoking(undefined);
    if (!key) return;
    void action.run(async () => {
      await ok(api.DELETE('/v1/keys/{id}', { params: { path: { id: key.id } } }));
      keys.reload();
    });
  };
  return (
    <section aria-labelledby="keys-title">
      <h2 id="keys-title">API keys</h2>
      <ErrorNote error={keys.error ?? action.error} />
      {keys.data && (
        <ScrollTable
          caption="API keys"
          columns={['Id', 'Name', 'Tenant', 'Scopes', 'Created', 'Expires', 'Last used', 'State']}
        >
          {keys.data.map((key) => (
            <tr key={key.id} data-key-id={key.id}>
              <th scope="row">
                <code>{key.id}</code>
              </th>
              <td>{key.name}</td>
              <td>{key.tenant}</td>
              <td>{key.scopes.join(', ')}</td>
              <td>{formatDate(key.createdAt)}</td>
              <td>{formatDate(key.expiresAt)}</td>
              <td>{formatDate(key.lastUsedAt)}</td>
              <td>
                {key.revokedAt ? (
                  <span class="badge status-fail">revoked {formatDate(key.revokedAt)}</span>
                ) : (
                  <button
                    type="button"
                    class="danger"
                    aria-label={`Revoke key ${key.id} (${key.name})`}
                    onClick={() => setRevoking(key)}
                  >
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </ScrollTable>
      )}
      <CreateKey onCreated={keys.reload} />
      <Confirm
        open={revoking !== undefined}
        title="Revoke this key?"
        confirmLabel="Revoke"
        danger
        onConfirm={revoke}
        onCancel={() => setRevoking(undefined)}
      >
        <p>
          Key <code>{revoking?.id}</code> ({revoking?.name}) is refused from its next request on.
          This cannot be undone.
        </p>
      </Confirm>
    </section>
  );
}

/** The tenants, for the server admin; any other key is told whose they are. */
function TenantsSection() {
  const { serverAdmin } = useAccess();
  if (serverAdmin) return <Tenants />;
  return (
    <section aria-labelledby="tenants-title">
      <h2 id="tenants-title">Tenants</h2>
      <p class="notice">
        Tenants are managed by the server admin (an admin key of the default tenant).
      </p>
    </section>
  );
}

function Tenants() {
  const tenants = useLoad(async () => (await ok(api.GET('/v1/tenants'))).items, []);
  const [id, setId] = useState('');
  const [name, setName] = useState('');
  const [erasing, setErasing] = useState<string>();
  const [erased, setErased] = useState<string>();
  const action = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      await ok(api.POST('/v1/tenants', { body: { id: id.trim(), name: name.trim() } }));
      setId('');
      setName('');
      tenants.reload();
    });
  };
  const erase = () => {
    const tenant = erasing;
    setErasing(undefined);
    if (!tenant) return;
    setErased(undefined);
    void action.run(async () => {
      const report = await ok(api.DELETE('/v1/tenants/{id}', { params: { path: { id: tenant } } }));
      setErased(
        `Tenant ${report.tenant} erased: ${report.keysDeleted} key(s), ${report.files} file(s) (${formatBytes(report.bytes)}), ${report.backupSnapshots} snapshot(s) removed; ${report.jobsCancelled} job(s) cancelled.`,
      );
      tenants.reload();
    });
  };
  return (
    <section aria-labelledby="tenants-title">
      <h2 id="tenants-title">Tenants</h2>
      <ErrorNote error={tenants.error} />
      {tenants.data && (
        <ul class="plain tenants">
          {tenants.data.map((t) => (
            <li key={t.id} data-tenant-id={t.id}>
              <code>{t.id}</code> {t.name} <span class="muted">{formatDate(t.createdAt)}</span>
              {t.id !== 'default' && (
                <button
                  type="button"
                  class="danger"
                  aria-label={`Erase tenant ${t.id}`}
                  onClick={() => {
                    setErasing(t.id);
                  }}
                >
                  Erase
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {erased && <p role="status">{erased}</p>}
      <form onSubmit={submit} class="panel inline" aria-label="Create a tenant">
        <label for="tenant-id">Id</label>
        <input
          id="tenant-id"
          required
          pattern={TENANT_ID_PATTERN}
          value={id}
          onInput={(e) => setId((e.target as HTMLInputElement).value)}
        />
        <label for="tenant-name">Name</label>
        <input
          id="tenant-name"
          required
          maxLength={MAX_LENGTH['POST /v1/tenants'].name}
          value={name}
          onInput={(e) => setName((e.target as HTMLInputElement).value)}
        />
        <button type="submit" disabled={action.busy}>
          Create tenant
        </button>
      </form>
      <ErrorNote error={action.error} />
      <TypedConfirm
        open={erasing !== undefined}
        title="Erase this tenant for good?"
        confirmLabel="Erase tenant"
        expected={erasing ?? ''}
        label="Tenant to erase"
        onConfirm={erase}
        onCancel={() => setErasing(undefined)}
      >
        <p>
          Every memory, conversation, index file and backup of <code>{erasing}</code> is deleted
          with its keys; this cannot be undone. Type its id to confirm.
        </p>
      </TypedConfirm>
    </section>
  );
}

const AUDIT_PAGE = 50;

function AuditSection() {
  const [after, setAfter] = useState<number[]>([0]);
  const cursor = after.at(-1) ?? 0;
  const entries = useLoad(
    () => ok(api.GET('/v1/audit', { params: { query: { after: cursor, limit: AUDIT_PAGE } } })),
    [cursor],
  );
  const { serverAdmin, tenant } = useAccess();
  return (
    <section aria-labelledby="audit-title">
      <h2 id="audit-title">Audit log</h2>
      {serverAdmin ? (
        <AuditVerification />
      ) : (
        <p class="notice">
          These are the entries of tenant <code>{tenant}</code>; the hash chain of the whole log is
          verified by the server admin.
        </p>
      )}
      <ErrorNote error={entries.error} />
      {entries.data && (
        <ScrollTable
          caption="Audit entries, oldest first"
          columns={['#', 'When', 'Action', 'Outcome', 'Tenant', 'Key', 'Target']}
        >
          {entries.data.items.map((e) => (
            <tr key={e.seq}>
              <th scope="row">{e.seq}</th>
              <td>{formatDate(e.at)}</td>
              <td>{e.action}</td>
              <td>
                {e.outcome}
                {e.status === null ? '' : ` (${e.status})`}
              </td>
              <td>{e.tenant ?? '—'}</td>
              <td>{e.keyId ?? '—'}</td>
              <td>{e.target ?? ''}</td>
            </tr>
          ))}
        </ScrollTable>
      )}
      <div class="actions">
        <button
          type="button"
          disabled={after.length <= 1}
          onClick={() => setAfter((a) => a.slice(0, -1))}
        >
          Previous page
        </button>
        <button
          type="button"
          disabled={!entries.data?.nextAfter}
          onClick={() => {
            const next = entries.data?.nextAfter;
            if (next) setAfter((a) => [...a, next]);
          }}
        >
          Next page
        </button>
      </div>
    </section>
  );
}

/** The audit log's hash chain checked whole: it spans every tenant, so the server admin's. */
function AuditVerification() {
  const verify = useLoad(() => ok(api.GET('/v1/audit/verify')), []);
  const v = verify.data;
  return (
    <>
      <p role="status" data-testid="audit-verify">
        {verify.loading && 'Verifying the hash chain…'}
        {v?.ok && (
          <span class="badge status-pass">
            chain verified: {v.entries} entr{v.entries === 1 ? 'y' : 'ies'}
          </span>
        )}
        {v && !v.ok && (
          <span class="badge status-fail">
            chain broken at entry {v.firstBad?.seq}: {v.firstBad?.message}
          </span>
        )}
      </p>
      <ErrorNote error={verify.error} />
      <button type="button" onClick={verify.reload}>
        Verify again
      </button>
    </>
  );
}

/** What a key that is not the server admin administers: its own tenant. */
function TenantScopeNote() {
  const { serverAdmin, tenant } = useAccess();
  if (serverAdmin) return null;
  return (
    <p class="notice">
      This key administers tenant <code>{tenant}</code>: its keys, its audit entries, and the export
      and erasure of its memories.
    </p>
  );
}

/**
 * API keys (the secret shown once), tenants, the audit log with its verification, export
 * and erase. What only the server admin may do (tenants, naming another tenant, verifying
 * the whole chain) is offered from the key's description (`/v1/whoami`), never tried and
 * refused.
 */
export function AdminPage() {
  return (
    <>
      <TenantScopeNote />
      <KeysSection />
      <TenantsSection />
      <AuditSection />
      <ComplianceSection />
    </>
  );
}
