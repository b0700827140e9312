import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './test-support/server.js';

/** Every file under `dir` (recursively) whose raw bytes hold `text`. */
function holders(dir: string, text: string): string[] {
  const needle = Buffer.from(text);
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile() && readFileSync(p).includes(needle)) out.push(p);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

/** A multipart upload of one text file. */
async function uploadBody(name: string, text: string, namespace: string) {
  const form = new FormData();
  form.append('namespace', namespace);
  form.append('file', new Blob([text]), name);
  const res = new Response(form);
  return {
    payload: Buffer.from(await res.arrayBuffer()),
    type: res.headers.get('content-type') as string,
  };
}

const SECRET = {
  added: 'Acme secret: the launch code word is PERIWINKLE-4471.',
  edited: 'Acme secret: the vault opens with the combination 31-07-19.',
  editedBefore: 'Acme secret: the vault opens with the combination 12-12-12.',
  deleted: 'Acme secret: the old supplier was Globex Hydraulics in Tulsa.',
  ingested: 'Acme secret from a file: Project Nightjar ships on the ninth of March.',
};
const KEPT = 'Acme public: the office kitchen is cleaned on Fridays.';

describe.each(testImplementations())('compliance routes (%s)', (impl) => {
  let t: TestServer;
  let acmeAdmin: string;
  let otherAdmin: string;

  beforeAll(async () => {
    t = await startTestServer(impl);
    acmeAdmin = (await t.key(['admin'], { tenant: 'acme' })).key;
    otherAdmin = (await t.key(['admin'], { tenant: 'other' })).key;
  });
  afterAll(() => t.close());

  const call: TestServer['call'] = (...args) => t.call(...args);
  const finished = (id: string, key: string) => t.jobEnd(id, key);

  async function ingest(key: string, name: string, text: string, namespace: string) {
    const { payload, type } = await uploadBody(name, text, namespace);
    const res = await t.server.app.inject({
      method: 'POST',
      url: '/v1/ingest',
      headers: { ...t.auth(key), 'content-type': type },
      payload,
    });
    expect(res.statusCode).toBe(202);
    expect((await finished(res.json().id, key)).status).toBe('succeeded');
  }

  it('exports everything a tenant holds as one JSON archive; other tenants get 404', async () => {
    const system = await t.server.context.tenants.system('acme');
    const { fragment } = await system.memory.add({
      text: 'Export me: the fern is watered on Sundays.',
      namespace: 'plants',
    });
    await system.memory.update(fragment.id, {
      text: 'Export me: the fern is watered on Saturdays.',
    });
    const { fragment: gone } = await system.memory.add({
      text: 'Export me: a note deleted later.',
      namespace: 'plants',
    });
    await system.memory.delete(gone.id);
    const answer = await system.ask('When is the fern watered?');
    await system.feedback(answer.id, { rating: 1, text: 'helpful' });
    await ingest(
      acmeAdmin,
      'garden.md',
      '# Garden\n\nExport me: the roses need pruning in March.',
      'plants',
    );

    const res = await call('GET', '/v1/compliance/export', acmeAdmin);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['content-disposition']).toMatch(/attachment; filename="aios-export-acme-/);
    const archive = res.json();
    expect(archive).toMatchObject({ format: 'aios-tenant-export', version: 1, tenant: 'acme' });
    const fern = archive.memories.find((m: { id: string }) => m.id === fragment.id);
    expect(fern.text).toBe('Export me: the fern is watered on Saturdays.');
    // (feedback on the answer that used it reinforced it since)
    expect(
      fern.history.slice(0, 2).map((h: { kind: string; text: string }) => [h.kind, h.text]),
    ).toEqual([
      ['add', 'Export me: the fern is watered on Sundays.'],
      ['update', 'Export me: the fern is watered on Saturdays.'],
    ]);
    expect(archive.deletedMemories.map((m: { id: string }) => m.id)).toContain(gone.id);
    const conversation = archive.conversations.find(
      (c: { id: string }) => c.id === answer.conversationId,
    );
    expect(conversation.messages.map((m: { role: string }) => m.role)).toEqual([
      'user',
      'assistant',
    ]);
    expect(archive.feedback).toHaveLength(1);
    expect(archive.feedback[0].comment ?? archive.feedback[0].metadata).toBeDefined();
    expect(archive.personality.length).toBeGreaterThan(0);
    expect(archive.sources.map((s: { path: string }) => s.path.split('/').pop())).toContain(
      'garden.md',
    );
    expect(archive.audit.some((e: { action: string }) => e.action === 'ingest')).toBe(true);
    expect(archive.audit.every((e: { keyId: string | null }) => e.keyId !== undefined)).toBe(true);

    // The owner's archive holds none of acme's data.
    const own = (await call('GET', '/v1/compliance/export', t.adminKey)).json();
    expect(JSON.stringify(own)).not.toContain('Export me');
    // A server admin exports any tenant; another tenant's admin cannot name it.
    const byServer = await call('GET', '/v1/compliance/export?tenant=acme', t.adminKey);
    expect(byServer.json().memories.length).toBe(archive.memories.length);
    const foreign = await call('GET', '/v1/compliance/export?tenant=acme', otherAdmin);
    expect(foreign.statusCode).toBe(404);
    const missing = await call('GET', '/v1/compliance/export?tenant=nobody', t.adminKey);
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('TENANT_NOT_FOUND');
  });

  it('erases a namespace so that no byte of its texts is left in any file of the home', async () => {
    const system = await t.server.context.tenants.system('acme');
    const secret = (text: string) => system.memory.add({ text, namespace: 'secret' });
    await secret(SECRET.added);
    const edited = (await secret(SECRET.editedBefore)).fragment;
    await system.memory.update(edited.id, { text: SECRET.edited });
    const deleted = (await secret(SECRET.deleted)).fragment;
    await system.memory.delete(deleted.id);
    await ingest(acmeAdmin, 'nightjar.md', `# Nightjar\n\n${SECRET.ingested}`, 'secret');
    await system.memory.add({ text: KEPT, namespace: 'public' });
    const answer = await system.ask('What is the launch code word?', { namespace: 'secret' });
    expect(answer.sources.length).toBeGreaterThan(0);
    const backup = await call('POST', '/v1/backups', acmeAdmin, {});
    const snapshot = (
      (await finished(backup.json().id, acmeAdmin)).result as { snapshot: { id: string } }
    ).snapshot.id;
    await system.memory.flush();
    for (const text of Object.values(SECRET)) expect(holders(t.home, text), text).not.toEqual([]);

    // Another tenant's admin erases in its own tenant: acme's data stays.
    const elsewhere = await call('POST', '/v1/compliance/erase', otherAdmin, {
      namespace: 'secret',
      confirm: true,
    });
    expect(elsewhere.json().removed.fragments).toBe(0);
    expect(await system.memory.list({ namespace: 'secret' })).toHaveLength(3);
    const unconfirmed = await call('POST', '/v1/compliance/erase', acmeAdmin, {
      namespace: 'secret',
    });
    expect(unconfirmed.statusCode).toBe(400);

    const res = await call('POST', '/v1/compliance/erase', acmeAdmin, {
      namespace: 'secret',
      confirm: true,
      deleteCitingConversations: true,
    });
    expect(res.statusCode).toBe(200);
    const report = res.json();
    expect(report).toMatchObject({
      tenant: 'acme',
      namespace: 'secret',
      removed: { fragments: 3, vectors: 3, sources: 1 },
      database: { compacted: true, walCheckpointed: true },
      conversations: { citing: [answer.conversationId], deleted: true },
    });
    expect(report.removed.historyRows).toBeGreaterThanOrEqual(5);
    expect(report.backups.snapshots.map((s: { id: string }) => s.id)).toEqual([snapshot]);
    expect(report.backups.command).toContain(`forget ${snapshot} --prune`);
    expect(await system.memory.list({ namespace: 'secret' })).toEqual([]);
    expect(
      (await system.memory.search('launch code word', { k: 20 })).map((r) => r.fragment.text),
    ).not.toContain(SECRET.added);

    // The snapshots still hold it, as the report says; forgotten and pruned, nothing does.
    expect((await call('DELETE', `/v1/backups/${snapshot}`, acmeAdmin)).statusCode).toBe(200);
    const prune = await call('POST', '/v1/backups/prune', acmeAdmin);
    expect((await finished(prune.json().id, acmeAdmin)).status).toBe('succeeded');
    for (const text of Object.values(SECRET)) expect(holders(t.home, text), text).toEqual([]);
    expect(holders(t.home, KEPT)).not.toEqual([]);
    const audit = await t.server.context.tenants.control.audit.list({
      tenantId: 'acme',
      limit: 1000,
    });
    expect(JSON.stringify(audit)).not.toContain('Acme secret');
  });

  it('erases a tenant: its jobs, home, keys and row; its key then fails; no byte of it is left', async () => {
    const doomedKey = (await t.key(['admin'], { tenant: 'doomed' })).key;
    const system = await t.server.context.tenants.system('doomed');
    await system.memory.add({ text: 'Doomed tenant: the bunker is under the old mill.' });
    await ingest(doomedKey, 'map.txt', 'Doomed tenant: the map is in the red folder.', 'docs');
    const backup = await call('POST', '/v1/backups', doomedKey, {});
    await finished(backup.json().id, doomedKey);
    await system.memory.flush();
    const home = t.server.context.tenants.homeOf('doomed');
    expect(holders(home, 'Doomed tenant: the bunker')).not.toEqual([]);

    expect((await call('DELETE', '/v1/tenants/doomed', acmeAdmin)).statusCode).toBe(403);
    const res = await call('DELETE', '/v1/tenants/doomed', t.adminKey);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ tenant: 'doomed', keysDeleted: 1, backupSnapshots: 1 });
    expect(res.json().files).toBeGreaterThan(0);
    expect(existsSync(home)).toBe(false);
    const after = await call('GET', '/v1/backups', doomedKey);
    expect(after.statusCode).toBe(401);
    const tenants = (await call('GET', '/v1/tenants', t.adminKey))
      .json()
      .items.map((x: { id: string }) => x.id);
    expect(tenants).not.toContain('doomed');
    for (const text of ['Doomed tenant: the bunker', 'Doomed tenant: the map']) {
      expect(holders(t.home, text), text).toEqual([]);
    }
    const again = await call('DELETE', '/v1/tenants/doomed', t.adminKey);
    expect(again.statusCode).toBe(404);
    const own = await call('DELETE', '/v1/tenants/default', t.adminKey);
    expect(own.statusCode).toBe(400);
  });
});
