import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './test-support/server.js';

interface SourceBody {
  id: string;
  text: string;
  quote: string | null;
  snippet: string;
  grounded: boolean;
  line: number | null;
  namespace: string | null;
  source: string | null;
}

/** What a conversation read again shows: its title, and what its answers' sources showed. */
describe.each(testImplementations())('conversations as shown again (%s)', (impl) => {
  let t: TestServer;
  let chat: { authorization: string };
  let boiler: string;

  beforeAll(async () => {
    t = await startTestServer(impl, { server: { requestsPerMinute: 100_000 } });
    chat = t.auth((await t.key(['chat'])).key);
    const added = await t.system.memory.add({
      text: '# House\n\nThe boiler is serviced every May by Hansen Heating.',
      metadata: { source: 'notes/house.md', line: 1, kind: 'markdown' },
    });
    boiler = added.fragment.id;
    await t.system.memory.add('The spare key is under the blue flower pot.');
  });
  afterAll(() => t.close());

  const get = (url: string) => t.server.app.inject({ method: 'GET', url, headers: chat });

  async function ask(question: string, conversationId?: string) {
    const res = await t.server.app.inject({
      method: 'POST',
      url: '/v1/ask',
      headers: chat,
      payload: { question, ...(conversationId ? { conversationId } : {}) },
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { id: string; conversationId: string; sources: SourceBody[] };
  }

  it('titles a conversation by its first question, whatever comes after', async () => {
    const first = await ask('  When is the boiler\nserviced, and by whom?  ');
    await ask('Where is the spare key?', first.conversationId);
    const listed = (await get('/v1/conversations?limit=100')).json().items as Array<{
      id: string;
      title: string | null;
    }>;
    expect(listed.find((c) => c.id === first.conversationId)?.title).toBe(
      'When is the boiler serviced, and by whom?',
    );
    const one = await get(`/v1/conversations/${first.conversationId}`);
    expect(one.json().title).toBe('When is the boiler serviced, and by whom?');
  });

  it('lists a conversation stored without a title by its first question', async () => {
    const { id } = await t.system.data.conversations.create({ metadata: {} });
    await t.system.data.messages.add([
      { conversationId: id, role: 'system', content: 'Be brief.' },
      {
        conversationId: id,
        role: 'user',
        content:
          'Which plumber came to look at the radiator in the hall last winter, and what did he say?',
      },
    ]);
    const listed = (await get('/v1/conversations?limit=100')).json().items as Array<{
      id: string;
      title: string | null;
    }>;
    expect(listed.find((c) => c.id === id)?.title).toBe(
      'Which plumber came to look at the radiator in the hall last…',
    );
    const empty = await t.system.data.conversations.create({});
    expect((await get(`/v1/conversations/${empty.id}`)).json().title).toBeNull();
  });

  it("gives back each answer's sources as the answer showed them, the fragment deleted since", async () => {
    const answer = await ask('When is the boiler serviced?');
    const live = answer.sources.find((s) => s.id === boiler) as SourceBody;
    expect(live.quote).toContain('every May');
    await t.system.memory.delete(boiler);

    const res = await get(`/v1/conversations/${answer.conversationId}/messages`);
    expect(res.statusCode, res.body).toBe(200);
    const [, reply] = res.json().items as Array<{ sources: Array<Record<string, unknown>> }>;
    expect(reply?.sources.find((s) => s.id === boiler)).toEqual({
      id: boiler,
      score: expect.any(Number),
      relevance: expect.any(Number),
      excerpt: live.quote,
      grounded: live.grounded,
      source: 'notes/house.md',
      line: live.line,
      chapter: null,
      namespace: live.namespace,
    });
  });
});
