import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobView } from './jobs/registry.js';
import { startTestServer, type TestServer } from './test-support/server.js';

/** A promise and the function that settles it. */
function gate(): { open: () => void; opened: Promise<void> } {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

/** Reads server-sent events from a fetch response until it ends. */
async function* events(body: ReadableStream<Uint8Array>) {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
      const data = /^data: (.*)$/m.exec(block)?.[1] ?? 'null';
      yield { event, data: JSON.parse(data) as JobView };
      end = buffer.indexOf('\n\n');
    }
  }
}

describe.each(testImplementations())('jobs routes (%s)', (impl) => {
  let t: TestServer;
  let ingestKey: string;
  let backupKey: string;
  let otherKey: string;

  beforeAll(async () => {
    t = await startTestServer(impl);
    ingestKey = (await t.key(['ingest'])).key;
    backupKey = (await t.key(['backup'])).key;
    otherKey = (await t.key(['ingest', 'backup', 'memory:write'], { tenant: 'jobs-other' })).key;
  });
  afterAll(() => t.close());

  const jobs = () => t.server.context.jobs;
  const get = (url: string, key: string) =>
    t.server.app.inject({ method: 'GET', url, headers: t.auth(key) });

  it('lists and reads the jobs whose kind the key may start; other tenants get 404', async () => {
    const ingest = jobs().start('default', 'ingest', async () => ({ added: 3 }));
    const backup = jobs().start('default', 'backup.create', async () => ({ snapshot: 'x' }));
    await expect.poll(() => jobs().get('default', backup.id).status).toBe('succeeded');
    await expect.poll(() => jobs().get('default', ingest.id).status).toBe('succeeded');

    const listed = await get('/v1/jobs', ingestKey);
    expect(listed.statusCode).toBe(200);
    const ids = listed.json().items.map((j: JobView) => j.id);
    expect(ids).toContain(ingest.id);
    expect(ids).not.toContain(backup.id);

    const read = await get(`/v1/jobs/${ingest.id}`, ingestKey);
    expect(read.json()).toMatchObject({
      id: ingest.id,
      kind: 'ingest',
      status: 'succeeded',
      result: { added: 3 },
      error: null,
    });
    expect((await get(`/v1/jobs/${backup.id}`, ingestKey)).statusCode).toBe(403);
    expect((await get(`/v1/jobs/${backup.id}`, backupKey)).statusCode).toBe(200);
    const filtered = await get('/v1/jobs?status=succeeded&kind=backup.create', t.adminKey);
    expect(filtered.json().items.map((j: JobView) => j.id)).toEqual([backup.id]);

    const foreign = await get(`/v1/jobs/${ingest.id}`, otherKey);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().error.code).toBe('JOB_NOT_FOUND');
    expect((await get('/v1/jobs', otherKey)).json().items).toEqual([]);
    const cancel = await t.server.app.inject({
      method: 'DELETE',
      url: `/v1/jobs/${ingest.id}`,
      headers: t.auth(otherKey),
    });
    expect(cancel.statusCode).toBe(404);
  });

  it('cancels a running job; a finished one is JOB_FINISHED', async () => {
    const started = gate();
    const job = jobs().start('default', 'ingest', async ({ signal }) => {
      started.open();
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      throw signal.reason;
    });
    await started.opened;
    const cancel = await t.server.app.inject({
      method: 'DELETE',
      url: `/v1/jobs/${job.id}`,
      headers: t.auth(ingestKey),
    });
    expect(cancel.statusCode).toBe(202);
    await expect.poll(() => jobs().get('default', job.id).status).toBe('cancelled');
    const view = (await get(`/v1/jobs/${job.id}`, ingestKey)).json();
    expect(view.error.code).toBe('JOB_CANCELLED');
    const again = await t.server.app.inject({
      method: 'DELETE',
      url: `/v1/jobs/${job.id}`,
      headers: t.auth(ingestKey),
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toMatchObject({
      code: 'JOB_FINISHED',
      message: `job ${job.id} is over: it was cancelled`,
    });
  });

  it('streams every progress change, then the final state, and ends with the job', async () => {
    const step = gate();
    const job = jobs().start('default', 'ingest', async ({ progress }) => {
      await step.opened;
      for (let done = 1; done <= 3; done++) {
        progress({ done, total: 3, unit: 'files' });
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return { added: 3 };
    });
    const address = await t.server.app.listen({ host: '127.0.0.1', port: 0 });
    const res = await fetch(`${address}/v1/jobs/${job.id}/events`, {
      headers: t.auth(ingestKey),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const seen: Array<[string, number | null, string]> = [];
    for await (const { event, data } of events(res.body as ReadableStream<Uint8Array>)) {
      seen.push([event, data.progress?.done ?? null, data.status]);
      if (seen.length === 1) step.open(); // subscribed: let the job make progress
    }
    expect(seen).toEqual([
      ['job', null, 'running'],
      ['job', 1, 'running'],
      ['job', 2, 'running'],
      ['job', 3, 'running'],
      ['end', 3, 'succeeded'],
    ]);
    // A job that has ended streams its final state at once.
    const after = await fetch(`${address}/v1/jobs/${job.id}/events`, {
      headers: t.auth(ingestKey),
    });
    expect(await after.text()).toMatch(/^event: end\ndata: .*"succeeded"/);
  });
});
