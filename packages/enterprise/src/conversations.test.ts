import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './test-support/server.js';

interface ConversationBody {
  id: string;
  updatedAt: string;
}

interface MessageBody {
  id: number;
  role: string;
  content: string;
  answerId: string | null;
  mode: string | null;
  sources: Array<{ id: string }> | null;
}

describe.each(testImplementations())('conversation routes (%s)', (impl) => {
  let t: TestServer;
  let chat: { authorization: string };
  let other: { authorization: string };

  beforeAll(async () => {
    t = await startTestServer(impl, { server: { requestsPerMinute: 100_000 } });
    chat = t.auth((await t.key(['chat'])).key);
    other = t.auth((await t.key(['chat'], { tenant: 'conversations-other' })).key);
    await t.system.memory.addMany([
      'The boiler is serviced every May by Hansen Heating.',
      'The spare key is under the blue flower pot.',
    ]);
  });
  afterAll(() => t.close());

  const get = (url: string, headers = chat) => t.server.app.inject({ method: 'GET', url, headers });

  async function ask(question: string, conversationId?: string) {
    const res = await t.server.app.inject({
      method: 'POST',
      url: '/v1/ask',
      headers: chat,
      payload: { question, ...(conversationId ? { conversationId } : {}) },
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { id: string; conversationId: string };
  }

  async function listAll(limit: number, between: () => Promise<void> = async () => {}) {
    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await get(
        `/v1/conversations?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json() as { items: ConversationBody[]; nextCursor: string | null };
      ids.push(...page.items.map((c) => c.id));
      cursor = page.nextCursor;
      await between();
    } while (cursor !== null && ++pages < 100);
    return ids;
  }

  it('reads a conversation and its messages, each answer with its id, mode and sources', async () => {
    const first = await ask('When is the boiler serviced?');
    const second = await ask('Where is the spare key?', first.conversationId);
    const one = await get(`/v1/conversations/${first.conversationId}`);
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({ id: first.conversationId, metadata: { agent: 'luna' } });

    const res = await get(`/v1/conversations/${first.conversationId}/messages`);
    const messages = res.json().items as MessageBody[];
    expect(messages.map((m) => [m.role, m.answerId])).toEqual([
      ['user', first.id],
      ['assistant', first.id],
      ['user', second.id],
      ['assistant', second.id],
    ]);
    expect(messages[0]?.content).toBe('When is the boiler serviced?');
    expect(messages[1]).toMatchObject({ mode: 'offline', sources: [expect.any(Object)] });
    expect(messages[0]?.sources).toBeNull();

    // A page at a time, in order, each message once.
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page = await get(
        `/v1/conversations/${first.conversationId}/messages?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...(page.json().items as MessageBody[]).map((m) => m.id));
      cursor = page.json().nextCursor;
    } while (cursor !== null);
    expect(seen).toEqual(messages.map((m) => m.id));
  });

  it('lists every conversation once, most recently active first, while some are deleted', async () => {
    for (let i = 0; i < 7; i++) await ask(`Question number ${i} about the boiler?`);
    const all = await listAll(100);
    const updated = (await Promise.all(all.map((id) => get(`/v1/conversations/${id}`)))).map((r) =>
      Date.parse((r.json() as ConversationBody).updatedAt),
    );
    expect(updated).toEqual([...updated].sort((a, b) => b - a));

    // Delete the first of each page as it is read: no other conversation may be skipped.
    const deleted: string[] = [];
    const seen = await listAll(3, async () => {
      const next = all.find((id) => !deleted.includes(id));
      if (!next) return;
      deleted.push(next);
      const res = await t.server.app.inject({
        method: 'DELETE',
        url: `/v1/conversations/${next}`,
        headers: chat,
      });
      expect(res.statusCode).toBe(200);
    });
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of all) {
      if (!deleted.includes(id)) expect(seen, id).toContain(id);
    }
  });

  it('deletes a conversation with its messages; its id is 404 afterwards', async () => {
    const { conversationId, id } = await ask('Where is the spare key?');
    const res = await t.server.app.inject({
      method: 'DELETE',
      url: `/v1/conversations/${conversationId}`,
      headers: chat,
    });
    expect(res.json()).toEqual({ id: conversationId, deleted: true });
    expect(await t.system.data.messages.byExchange(id)).toEqual([]);
    for (const url of [
      `/v1/conversations/${conversationId}`,
      `/v1/conversations/${conversationId}/messages`,
    ]) {
      const gone = await get(url);
      expect(gone.statusCode).toBe(404);
      expect(gone.json().error.code).toBe('CONVERSATION_NOT_FOUND');
    }
    const again = await t.server.app.inject({
      method: 'DELETE',
      url: `/v1/conversations/${conversationId}`,
      headers: chat,
    });
    expect(again.statusCode).toBe(404);
  });

  it("gives another tenant's key 404 for the owner's conversations, and changes nothing", async () => {
    const { conversationId } = await ask('When is the boiler serviced?');
    for (const url of [
      `/v1/conversations/${conversationId}`,
      `/v1/conversations/${conversationId}/messages`,
    ]) {
      const res = await get(url, other);
      expect(res.statusCode, url).toBe(404);
      expect(res.json().error.code).toBe('CONVERSATION_NOT_FOUND');
    }
    const del = await t.server.app.inject({
      method: 'DELETE',
      url: `/v1/conversations/${conversationId}`,
      headers: other,
    });
    expect(del.statusCode).toBe(404);
    expect((await get('/v1/conversations?limit=500', other)).json().items).toEqual([]);
    expect((await get(`/v1/conversations/${conversationId}/messages`)).json().items).toHaveLength(
      2,
    );
  });

  it('refuses bad pages with a 4xx and a code', async () => {
    const { conversationId } = await ask('Where is the spare key?');
    for (const url of [
      '/v1/conversations?limit=0',
      '/v1/conversations?limit=501',
      '/v1/conversations?cursor=bogus',
      `/v1/conversations/${conversationId}/messages?cursor=bogus`,
      '/v1/conversations?extra=1&limit=x',
    ]) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(400);
      expect(res.json().error.code).toMatch(/^INVALID_/);
    }
    // A cursor of one listing is not taken by another.
    const page = await get('/v1/conversations?limit=1');
    const cursor = page.json().nextCursor as string;
    const crossed = await get(`/v1/conversations/${conversationId}/messages?cursor=${cursor}`);
    expect(crossed.statusCode).toBe(400);
    expect(crossed.json().error.code).toBe('INVALID_CURSOR');
  });
});
