import type { TestServer } from './server.js';

/**
 * Resources of the owner tenant ("default") that examples refer to, made once by
 * `makeFixture`. Route modules that need another kind of resource add it here.
 */
export interface Fixture {
  /** A fragment of the owner tenant. */
  fragmentId: string;
  /** A conversation of the owner tenant, holding `answerId`. */
  conversationId: string;
  /** An answer of the owner tenant. */
  answerId: string;
  /** Feedback on that answer. */
  feedbackId: string;
  /** A key of the owner tenant (not the admin key). */
  keyId: string;
  /** A tenant other than the owner, created by a server admin. */
  tenantId: string;
  /** A finished job of the owner tenant (kind `consolidate`). */
  jobId: string;
  /** A backup snapshot of the owner tenant. */
  snapshotId: string;
}

export async function makeFixture(t: TestServer): Promise<Fixture> {
  const chat = await makeMemoryAndChatFixture(t);
  const { id: keyId } = await t.key(['memory:read']);
  await t.system.data.tenants.create({ id: 'matrix-extra', name: 'extra' });
  const job = t.server.context.jobs.start('default', 'consolidate', async () => ({ merged: 0 }));
  const { snapshot } = await t.system.backup.create({ tags: ['matrix'] });
  return { ...chat, keyId, tenantId: 'matrix-extra', jobId: job.id, snapshotId: snapshot.id };
}

/** A fragment, an answer (and so a conversation) and feedback on it, of the owner tenant. */
async function makeMemoryAndChatFixture(t: TestServer) {
  const { fragment } = await t.system.memory.add('The matrix boiler is serviced every May.');
  const answer = await t.system.ask('When is the matrix boiler serviced?');
  const { feedback } = await t.system.feedback(answer.id, { rating: 1 });
  return {
    fragmentId: fragment.id,
    conversationId: answer.conversationId,
    answerId: answer.id,
    feedbackId: feedback.id,
  };
}

export interface RouteExample {
  /** A valid request to the route in the owner tenant (path with its ids filled in). */
  request(fixture: Fixture): { url: string; payload?: unknown; headers?: Record<string, string> };
  /**
   * Whether the request names a resource of the owner tenant: another tenant's key must
   * then get 404 (it is not there), never 403 and never the resource.
   */
  ownResource?: boolean;
  /** Statuses other than 2xx/4xx that are a correct answer too (a failing health check). */
  alsoValid?: number[];
}

/**
 * One valid request for every route, by `METHOD /url` as Fastify registered it. The
 * authorization matrix fails for a route without an example: no route goes untested.
 */
export const ROUTE_EXAMPLES: Record<string, RouteExample> = {
  'POST /v1/answers/:id/feedback': {
    request: (f) => ({
      url: `/v1/answers/${f.answerId}/feedback`,
      payload: { vote: 'up', comment: 'more detail' },
    }),
    ownResource: true,
  },
  'GET /v1/feedback': { request: () => ({ url: '/v1/feedback' }) },
  'POST /v1/feedback/undo': { request: () => ({ url: '/v1/feedback/undo' }) },
  'POST /v1/feedback/:id/undo': {
    request: (f) => ({ url: `/v1/feedback/${f.feedbackId}/undo` }),
    ownResource: true,
  },
  'GET /v1/personality': { request: () => ({ url: '/v1/personality' }) },
  'GET /v1/personality/history': { request: () => ({ url: '/v1/personality/history' }) },
  'GET /v1/conversations': { request: () => ({ url: '/v1/conversations?limit=5' }) },
  'GET /v1/conversations/:id': {
    request: (f) => ({ url: `/v1/conversations/${f.conversationId}` }),
    ownResource: true,
  },
  'GET /v1/conversations/:id/messages': {
    request: (f) => ({ url: `/v1/conversations/${f.conversationId}/messages` }),
    ownResource: true,
  },
  'DELETE /v1/conversations/:id': {
    request: (f) => ({ url: `/v1/conversations/${f.conversationId}` }),
    ownResource: true,
  },
  'POST /v1/ask': {
    request: () => ({
      url: '/v1/ask',
      payload: { question: 'When is the matrix boiler serviced?' },
    }),
  },
  'POST /v1/memory': {
    request: () => ({ url: '/v1/memory', payload: { text: 'The matrix fence is green.' } }),
  },
  'POST /v1/memory/batch': {
    request: () => ({
      url: '/v1/memory/batch',
      payload: {
        items: [{ text: 'The matrix gate is red.' }, { text: 'The matrix shed is blue.' }],
      },
    }),
  },
  'GET /v1/memory': { request: () => ({ url: '/v1/memory?limit=5' }) },
  'POST /v1/memory/search': {
    request: () => ({
      url: '/v1/memory/search',
      payload: { query: 'boiler', k: 3, mode: 'hybrid', explain: true },
    }),
  },
  'GET /v1/memory/namespaces': { request: () => ({ url: '/v1/memory/namespaces' }) },
  'GET /v1/memory/stats': { request: () => ({ url: '/v1/memory/stats' }) },
  'POST /v1/memory/consolidate': {
    request: () => ({ url: '/v1/memory/consolidate', payload: {} }),
  },
  'GET /v1/memory/:id': {
    request: (f) => ({ url: `/v1/memory/${f.fragmentId}` }),
    ownResource: true,
  },
  'PATCH /v1/memory/:id': {
    request: (f) => ({ url: `/v1/memory/${f.fragmentId}`, payload: { importance: 0.9 } }),
    ownResource: true,
  },
  'GET /v1/memory/:id/history': {
    request: (f) => ({ url: `/v1/memory/${f.fragmentId}/history` }),
    ownResource: true,
  },
  'DELETE /v1/memory/:id': {
    request: (f) => ({ url: `/v1/memory/${f.fragmentId}` }),
    ownResource: true,
  },
  'POST /mcp': {
    request: () => ({
      url: '/mcp',
      headers: { accept: 'application/json, text/event-stream' },
      payload: {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-11-25',
          capabilities: {},
          clientInfo: { name: 'matrix', version: '1' },
        },
      },
    }),
  },
  'GET /mcp': { request: () => ({ url: '/mcp' }) },
  'DELETE /mcp': { request: () => ({ url: '/mcp' }) },
  'GET /v1/models': { request: () => ({ url: '/v1/models' }) },
  'GET /v1/models/:model': { request: () => ({ url: '/v1/models/luna' }) },
  'POST /v1/chat/completions': {
    request: () => ({
      url: '/v1/chat/completions',
      payload: { model: 'luna', messages: [{ role: 'user', content: 'What do you remember?' }] },
    }),
  },
  'POST /v1/embeddings': {
    request: () => ({ url: '/v1/embeddings', payload: { model: 'carma', input: 'hello' } }),
  },
  'GET /health': { request: () => ({ url: '/health' }), alsoValid: [503] },
  'GET /metrics': { request: () => ({ url: '/metrics' }) },
  'GET /v1/status': { request: () => ({ url: '/v1/status' }) },
  'GET /v1/whoami': { request: () => ({ url: '/v1/whoami' }) },
  'GET /v1/config': { request: () => ({ url: '/v1/config' }) },
  'POST /v1/keys': {
    request: () => ({ url: '/v1/keys', payload: { name: 'matrix', scopes: ['chat'] } }),
  },
  'GET /v1/keys': { request: () => ({ url: '/v1/keys' }) },
  'DELETE /v1/keys/:id': {
    request: (f) => ({ url: `/v1/keys/${f.keyId}` }),
    ownResource: true,
  },
  'POST /v1/tenants': {
    request: () => ({ url: '/v1/tenants', payload: { id: 'matrix-new', name: 'new' } }),
  },
  'GET /v1/tenants': { request: () => ({ url: '/v1/tenants' }) },
  'GET /v1/audit': { request: () => ({ url: '/v1/audit' }) },
  'GET /v1/audit/verify': { request: () => ({ url: '/v1/audit/verify' }) },
  'GET /v1/jobs': { request: () => ({ url: '/v1/jobs' }) },
  'GET /v1/jobs/:id': { request: (f) => ({ url: `/v1/jobs/${f.jobId}` }), ownResource: true },
  'GET /v1/jobs/:id/events': {
    request: (f) => ({ url: `/v1/jobs/${f.jobId}/events` }),
    ownResource: true,
  },
  'DELETE /v1/jobs/:id': { request: (f) => ({ url: `/v1/jobs/${f.jobId}` }), ownResource: true },
  'POST /v1/backups': { request: () => ({ url: '/v1/backups', payload: { tags: ['matrix'] } }) },
  'GET /v1/backups': { request: () => ({ url: '/v1/backups' }) },
  'GET /v1/backups/diff': {
    request: (f) => ({ url: `/v1/backups/diff?from=${f.snapshotId}&to=latest` }),
    ownResource: true,
  },
  'POST /v1/backups/verify': {
    request: () => ({ url: '/v1/backups/verify', payload: { readData: 0 } }),
  },
  'POST /v1/backups/prune': { request: () => ({ url: '/v1/backups/prune' }) },
  'POST /v1/backups/:id/restore': {
    request: (f) => ({
      url: `/v1/backups/${f.snapshotId}/restore`,
      payload: { confirm: true },
    }),
    ownResource: true,
  },
  'DELETE /v1/backups/:id': {
    request: (f) => ({ url: `/v1/backups/${f.snapshotId}` }),
    ownResource: true,
    // The backup the example of POST /v1/backups started may still hold the repository.
    alsoValid: [503],
  },
  'GET /v1/compliance/export': { request: () => ({ url: '/v1/compliance/export' }) },
  'POST /v1/compliance/erase': {
    request: () => ({
      url: '/v1/compliance/erase',
      payload: { namespace: 'matrix-nothing-here', confirm: true },
    }),
  },
  'DELETE /v1/tenants/:id': {
    request: (f) => ({ url: `/v1/tenants/${f.tenantId}` }),
    ownResource: true,
  },
  'PATCH /v1/config': { request: () => ({ url: '/v1/config', payload: { 'carma.search.k': 9 } }) },
  'POST /v1/ingest': {
    request: () => ({
      url: '/v1/ingest',
      headers: { 'content-type': 'multipart/form-data; boundary=matrix' },
      payload:
        '--matrix\r\nContent-Disposition: form-data; name="file"; filename="matrix.md"\r\n' +
        'Content-Type: text/markdown\r\n\r\n# Matrix\n\nA note uploaded by the matrix.\r\n--matrix--\r\n',
    }),
  },
};
