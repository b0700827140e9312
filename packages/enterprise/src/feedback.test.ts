import { DEFAULT_TRAITS } from '@aios/luna';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './test-support/server.js';

type Traits = Record<string, number>;

interface FeedbackBody {
  id: string;
  answerId: string;
  rating: number;
  comment: string | null;
  undone: boolean;
  before: Traits;
  after: Traits;
  reinforced: string[];
}

describe.each(testImplementations())('feedback and personality routes (%s)', (impl) => {
  let t: TestServer;
  let chat: { authorization: string };
  let other: { authorization: string };
  let boiler: string;

  beforeAll(async () => {
    t = await startTestServer(impl);
    chat = t.auth((await t.key(['chat'])).key);
    other = t.auth((await t.key(['chat'], { tenant: 'feedback-other' })).key);
    const [first] = await t.system.memory.addMany([
      'The boiler is serviced every May by Hansen Heating.',
      'The spare key is under the blue flower pot.',
    ]);
    boiler = first?.fragment.id as string;
  });
  afterAll(() => t.close());

  const post = (url: string, payload?: unknown, headers = chat) =>
    t.server.app.inject({
      method: 'POST',
      url,
      headers,
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  const get = (url: string, headers = chat) => t.server.app.inject({ method: 'GET', url, headers });

  async function answer(): Promise<string> {
    const res = await post('/v1/ask', { question: 'When is the boiler serviced?' });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().id as string;
  }

  it('takes feedback on an answer: the traits move, the fragments used are reinforced', async () => {
    const id = await answer();
    const importance = (await t.system.memory.get(boiler))?.importance ?? 0;
    const res = await post(`/v1/answers/${id}/feedback`, { vote: 'up', comment: 'more detail' });
    expect(res.statusCode, res.body).toBe(201);
    const { feedback, traits } = res.json() as { feedback: FeedbackBody; traits: Traits };
    expect(feedback).toMatchObject({
      answerId: id,
      rating: 1,
      comment: 'more detail',
      undone: false,
    });
    expect(feedback.reinforced).toContain(boiler);
    expect(traits).toEqual(feedback.after);
    expect(traits).not.toEqual(feedback.before);
    expect((await t.system.memory.get(boiler))?.importance).toBeGreaterThan(importance);

    const down = await post(`/v1/answers/${id}/feedback`, { rating: -0.5 });
    expect(down.statusCode).toBe(201);
    expect(down.json().feedback.rating).toBe(-0.5);
  });

  it('takes feedback back: the latest, then a named one; the traits return', async () => {
    const now = (await get('/v1/personality')).json().traits as Traits;
    const id = await answer();
    const given = (
      await post(`/v1/answers/${id}/feedback`, { vote: 'down', comment: 'too long' })
    ).json() as { feedback: FeedbackBody };
    const undone = await post('/v1/feedback/undo');
    expect(undone.statusCode, undone.body).toBe(200);
    expect(undone.json().feedback).toMatchObject({ id: given.feedback.id, undone: true });
    expect(undone.json().traits).toEqual(now);
    const again = await post(`/v1/feedback/${given.feedback.id}/undo`);
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('LUNA_ALREADY_UNDONE');

    const second = (await post(`/v1/answers/${id}/feedback`, { vote: 'up' })).json() as {
      feedback: FeedbackBody;
    };
    const named = await post(`/v1/feedback/${second.feedback.id}/undo`);
    expect(named.statusCode).toBe(200);
    expect(named.json().feedback.undone).toBe(true);

    const list = await get('/v1/feedback?limit=2');
    const items = list.json().items as FeedbackBody[];
    expect(items.map((f) => f.id)).toEqual([second.feedback.id, given.feedback.id]);
    expect(items.every((f) => f.undone)).toBe(true);
    expect(list.json().nextCursor).toEqual(expect.any(String));
  });

  it('pages through all feedback, newest first, each once', async () => {
    const all = (await get('/v1/feedback?limit=500')).json().items as FeedbackBody[];
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await get(`/v1/feedback?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...(res.json().items as FeedbackBody[]).map((f) => f.id));
      cursor = res.json().nextCursor;
    } while (cursor !== null);
    expect(seen).toEqual(all.map((f) => f.id));
  });

  it('shows the personality now and every version with the feedback that moved it', async () => {
    const now = await get('/v1/personality');
    expect(now.statusCode).toBe(200);
    expect(Object.keys(now.json().traits).sort()).toEqual(Object.keys(DEFAULT_TRAITS).sort());
    expect(now.json().persona).toEqual(expect.any(String));

    const versions: Array<{
      cause: string;
      before: Traits;
      after: Traits;
      feedback: FeedbackBody | null;
    }> = [];
    let cursor: string | null = null;
    do {
      const res = await get(`/v1/personality/history?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.statusCode, res.body).toBe(200);
      versions.push(...res.json().items);
      cursor = res.json().nextCursor;
    } while (cursor !== null);
    expect(versions.map((v) => v.cause)).toEqual([
      'feedback',
      'feedback',
      'feedback',
      'undo',
      'feedback',
      'undo',
    ]);
    expect(versions[0]?.before).toEqual({ ...DEFAULT_TRAITS });
    for (let i = 1; i < versions.length; i++) {
      expect(versions[i]?.before).toEqual(versions[i - 1]?.after);
    }
    expect(versions.at(-1)?.after).toEqual(now.json().traits);
    expect(versions[2]?.feedback).toMatchObject({ comment: 'too long', rating: -1 });
    // The undo names the feedback it took back.
    expect(versions[3]?.feedback?.id).toBe(versions[2]?.feedback?.id);
  });

  it('refuses bad feedback with a 4xx and a code, changing nothing', async () => {
    const id = await answer();
    const before = (await get('/v1/personality')).json().traits;
    for (const [payload, code] of [
      [{}, 'INVALID_INPUT'],
      [{ vote: 'up', rating: 1 }, 'INVALID_INPUT'],
      [{ vote: 'sideways' }, 'INVALID_INPUT'],
      [{ rating: 2 }, 'INVALID_INPUT'],
      [{ rating: 'great' }, 'INVALID_INPUT'],
      [{ vote: 'up', comment: 'x'.repeat(4001) }, 'INVALID_INPUT'],
      [{ vote: 'up', stars: 5 }, 'INVALID_INPUT'],
    ] as const) {
      const res = await post(`/v1/answers/${id}/feedback`, payload);
      expect(res.statusCode, JSON.stringify(payload).slice(0, 60)).toBe(400);
      expect(res.json().error.code).toBe(code);
    }
    const unknown = await post('/v1/answers/no-such-answer/feedback', { vote: 'up' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('LUNA_NOT_FOUND');
    expect((await get('/v1/personality')).json().traits).toEqual(before);
    expect((await get('/v1/feedback?cursor=zzz')).statusCode).toBe(400);
  });

  it("gives another tenant's key 404 for the owner's answers and feedback, and changes nothing", async () => {
    const id = await answer();
    const given = (await post(`/v1/answers/${id}/feedback`, { vote: 'up' })).json() as {
      feedback: FeedbackBody;
      traits: Traits;
    };
    const theirs = await post(`/v1/answers/${id}/feedback`, { vote: 'down' }, other);
    expect(theirs.statusCode).toBe(404);
    expect(theirs.json().error.code).toBe('LUNA_NOT_FOUND');
    const undo = await post(`/v1/feedback/${given.feedback.id}/undo`, undefined, other);
    expect(undo.statusCode).toBe(404);
    expect(undo.json().error.code).toBe('LUNA_NOT_FOUND');
    // The other tenant has no feedback of its own to undo, and sees none of the owner's.
    const latest = await post('/v1/feedback/undo', undefined, other);
    expect(latest.statusCode).toBe(409);
    expect(latest.json().error.code).toBe('LUNA_NOTHING_TO_UNDO');
    expect((await get('/v1/feedback', other)).json().items).toEqual([]);
    expect((await get('/v1/personality/history', other)).json().items).toEqual([]);
    const mine = (await get('/v1/feedback?limit=1')).json().items[0] as FeedbackBody;
    expect(mine).toMatchObject({ id: given.feedback.id, undone: false });
    expect((await get('/v1/personality')).json().traits).toEqual(given.traits);
  });
});
