import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  testDocx,
  testEpub,
  testImplementations,
  testOdt,
  testPdf,
  testSourdoughChat,
} from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './test-support/server.js';

type Part = { name: string; value: string | Uint8Array; filename?: string };

/** A multipart/form-data body, as a browser or curl sends it. */
async function multipart(parts: Part[]): Promise<{ payload: Buffer; type: string }> {
  const form = new FormData();
  for (const p of parts) {
    if (p.filename === undefined) form.append(p.name, p.value as string);
    else form.append(p.name, new Blob([p.value]), p.filename);
  }
  const res = new Response(form);
  return {
    payload: Buffer.from(await res.arrayBuffer()),
    type: res.headers.get('content-type') as string,
  };
}

describe.each(testImplementations())('ingest route (%s)', (impl) => {
  let t: TestServer;
  let key: string;
  let otherKey: string;

  beforeAll(async () => {
    t = await startTestServer(impl, { server: { uploadLimitBytes: 64 * 1024 * 1024 } });
    key = (await t.key(['ingest', 'memory:read'])).key;
    otherKey = (await t.key(['ingest'], { tenant: 'ingest-other' })).key;
  });
  afterAll(() => t.close());

  async function upload(parts: Part[], as = key) {
    const { payload, type } = await multipart(parts);
    return t.server.app.inject({
      method: 'POST',
      url: '/v1/ingest',
      headers: { ...t.auth(as), 'content-type': type },
      payload,
    });
  }

  const finished = (id: string, as = key) => t.jobEnd(id, as);

  const uploadsLeft = () => {
    const dir = join(t.home, '.uploads');
    return existsSync(dir) ? readdirSync(dir) : [];
  };

  it('ingests text, Markdown, JSONL, a ChatGPT export, a page, a PDF and a Word document into a namespace, then removes the files', async () => {
    const res = await upload([
      { name: 'namespace', value: 'kitchen' },
      {
        name: 'file',
        filename: 'notes/bread.md',
        value: '# Bread\n\nThe oven runs hot: bake at 220.',
      },
      { name: 'file', filename: 'list.txt', value: 'Buy flour and salt on Friday.' },
      { name: 'file', filename: 'log.jsonl', value: '{"note":"The mixer was serviced in May."}\n' },
      { name: 'file', filename: 'conversations.json', value: testSourdoughChat },
      {
        name: 'file',
        filename: 'oven.html',
        value: '<title>Oven</title><script>var x = "qwzx";</script><p>Preheat for 20 minutes.</p>',
      },
      {
        name: 'file',
        filename: 'scales.pdf',
        value: new Uint8Array(testPdf([[['Scales'], ['Tare the scales', 'before weighing.']]])),
      },
      {
        name: 'file',
        filename: 'rye.docx',
        value: new Uint8Array(
          testDocx([{ text: 'Rye', heading: 1 }, { text: 'Rye dough rests overnight.' }]),
        ),
      },
      {
        name: 'file',
        filename: 'baking.epub',
        value: new Uint8Array(
          testEpub([[{ text: 'Steam the oven for a crisp crust.' }]], { title: 'Baking' }),
        ),
      },
      {
        name: 'file',
        filename: 'rota.odt',
        value: new Uint8Array(testOdt([{ text: 'Sam cleans the proofing baskets.' }])),
      },
    ]);
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ kind: 'ingest', status: 'running' });
    const job = await finished(res.json().id);
    expect(job.status).toBe('succeeded');
    const result = job.result as {
      namespace: string;
      files: Array<{ name: string }>;
      added: number;
    };
    expect(result.namespace).toBe('kitchen');
    expect(result.files.map((f) => f.name).sort()).toEqual(
      [
        'baking.epub',
        'conversations.json',
        'list.txt',
        'log.jsonl',
        'notes/bread.md',
        'oven.html',
        'rota.odt',
        'rye.docx',
        'scales.pdf',
      ].sort(),
    );
    const texts = (await t.system.memory.list({ namespace: 'kitchen' })).map((f) => f.text);
    expect(result.added).toBe(texts.length);
    expect(texts.join('\n')).toMatch(/bake at 220/);
    expect(texts.join('\n')).toMatch(/serviced in May/);
    expect(texts.join('\n')).toMatch(/Feed the sourdough starter once a day/);
    expect(texts).toContain('# Oven\n\nPreheat for 20 minutes.');
    expect(texts).toContain('Scales\n\nTare the scales before weighing.');
    expect(texts).toContain('# Rye\n\nRye dough rests overnight.');
    expect(texts).toContain('# Baking\n\nSteam the oven for a crisp crust.');
    expect(texts).toContain('Sam cleans the proofing baskets.');
    expect(texts.join('\n')).not.toMatch(/qwzx/);
    expect(uploadsLeft()).toEqual([]);
  });

  it('keeps a file uploaded again in step: unchanged is skipped, a changed one replaces its pieces', async () => {
    const first = await finished(
      (
        await upload([
          { name: 'file', filename: 'plan.md', value: '# Plan\n\nPaint the shed in June.' },
        ])
      ).json().id,
    );
    expect(first.status).toBe('succeeded');
    const same = await finished(
      (
        await upload([
          { name: 'file', filename: 'plan.md', value: '# Plan\n\nPaint the shed in June.' },
        ])
      ).json().id,
    );
    expect((same.result as { unchanged: number }).unchanged).toBe(1);
    const changed = await finished(
      (
        await upload([
          { name: 'file', filename: 'plan.md', value: '# Plan\n\nPaint the shed in July.' },
        ])
      ).json().id,
    );
    expect((changed.result as { files: Array<{ status: string }> }).files[0]?.status).toBe(
      'changed',
    );
    const texts = (await t.system.memory.list({ namespace: 'documents' })).map((f) => f.text);
    expect(texts.filter((x) => x.includes('Paint the shed'))).toEqual([
      '# Plan\n\nPaint the shed in July.',
    ]);
    // Cited as uploaded, not where the server staged it.
    const found = await t.server.app.inject({
      method: 'POST',
      url: '/v1/memory/search',
      headers: t.auth(key),
      payload: { query: 'paint the shed', k: 1 },
    });
    expect(found.json().results[0].fragment).toMatchObject({ source: 'plan.md' });
    expect(found.body).not.toContain('.uploads');
  });

  it('refuses bad uploads with 4xx and a code, keeping nothing', async () => {
    const before = t.system.memory.stats().fragments;
    const cases: Array<
      [string, Promise<{ statusCode: number; json(): { error: { code: string } } }>, number, string]
    > = [
      ['no file', upload([{ name: 'namespace', value: 'x' }]), 400, 'INVALID_INPUT'],
      [
        'a binary',
        upload([
          { name: 'file', filename: 'photo.md', value: new Uint8Array([0x89, 0x50, 0, 1, 2, 3]) },
        ]),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      [
        'a .pdf that is no PDF',
        upload([{ name: 'file', filename: 'scan.pdf', value: 'plain text, misnamed' }]),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      [
        'a .docx that is no Word document',
        upload([{ name: 'file', filename: 'letter.docx', value: 'plain text, misnamed' }]),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      [
        'an .epub that is no book',
        upload([{ name: 'file', filename: 'novel.epub', value: 'plain text, misnamed' }]),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      [
        'an unknown field',
        upload([
          { name: 'colour', value: 'blue' },
          { name: 'file', filename: 'a.txt', value: 'text' },
        ]),
        400,
        'INVALID_INPUT',
      ],
      [
        'a path out of the folder',
        upload([{ name: 'file', filename: '../../etc/x.txt', value: 'x' }]),
        400,
        'INVALID_INPUT',
      ],
      [
        'a namespace too long',
        upload([
          { name: 'namespace', value: 'n'.repeat(300) },
          { name: 'file', filename: 'a.txt', value: 'text' },
        ]),
        400,
        'INVALID_INPUT',
      ],
      [
        'a form without its boundary',
        t.server.app.inject({
          method: 'POST',
          url: '/v1/ingest',
          headers: { ...t.auth(key), 'content-type': 'multipart/form-data' },
          payload: 'file=x',
        }),
        400,
        'INVALID_MULTIPART',
      ],
      [
        'a form cut short',
        t.server.app.inject({
          method: 'POST',
          url: '/v1/ingest',
          headers: { ...t.auth(key), 'content-type': 'multipart/form-data; boundary=cut' },
          payload:
            '--cut\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nsome text',
        }),
        400,
        'INVALID_MULTIPART',
      ],
      [
        'JSON instead of a form',
        t.server.app.inject({
          method: 'POST',
          url: '/v1/ingest',
          headers: t.auth(key),
          payload: { file: 'text' },
        }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
    ];
    for (const [what, pending, status, code] of cases) {
      const res = await pending;
      expect(res.statusCode, what).toBe(status);
      expect(res.json().error.code, what).toBe(code);
    }
    expect(t.system.memory.stats().fragments).toBe(before);
    expect(uploadsLeft()).toEqual([]);
  });

  it('refuses an upload over server.uploadLimitBytes with 413', async () => {
    const small = await startTestServer(impl, { server: { uploadLimitBytes: 4096 } });
    try {
      const { payload, type } = await multipart([
        { name: 'file', filename: 'big.txt', value: 'word '.repeat(2000) },
      ]);
      const res = await small.server.app.inject({
        method: 'POST',
        url: '/v1/ingest',
        headers: { ...small.auth(small.adminKey), 'content-type': type },
        payload,
      });
      expect(res.statusCode).toBe(413);
      expect(res.json().error).toMatchObject({
        code: 'PAYLOAD_TOO_LARGE',
        message: 'big.txt is larger than 4,096 bytes, the most one uploaded file may be',
        details: { file: 'big.txt', limit: 4096 },
      });
      // Files each under the limit, together over it: the one that went past is named.
      const two = await multipart([
        { name: 'file', filename: 'a.txt', value: 'word '.repeat(600) },
        { name: 'file', filename: 'b.txt', value: 'word '.repeat(600) },
      ]);
      const both = await small.server.app.inject({
        method: 'POST',
        url: '/v1/ingest',
        headers: { ...small.auth(small.adminKey), 'content-type': two.type },
        payload: two.payload,
      });
      expect(both.statusCode).toBe(413);
      expect(both.json().error).toMatchObject({
        code: 'PAYLOAD_TOO_LARGE',
        message:
          'the upload is larger than 4,096 bytes in all, the most this server takes (server.uploadLimitBytes); b.txt went past it',
        details: { file: 'b.txt', limit: 4096 },
      });
      expect(
        existsSync(join(small.home, '.uploads')) ? readdirSync(join(small.home, '.uploads')) : [],
      ).toEqual([]);
    } finally {
      await small.close();
    }
  });

  it('cancels a running ingest: it stops between batches, keeps what it stored, removes the files', async () => {
    const lines = Array.from(
      { length: 40_000 },
      (_, i) =>
        `Paragraph ${i}: the inventory of shelf ${i % 97} lists ${i * 7} jars of preserves.\n`,
    );
    const res = await upload([
      { name: 'namespace', value: 'pantry' },
      { name: 'file', filename: 'inventory.txt', value: lines.join('\n') },
    ]);
    expect(res.statusCode).toBe(202);
    const id = res.json().id as string;
    // Cancelled once the job reported stored progress (never on a timer).
    const progressed = new Promise<void>((resolve) => {
      const stop = t.server.context.jobs.follow('default', id, (view) => {
        if ((view.progress?.done ?? 0) > 0) {
          stop?.();
          resolve();
        }
      });
    });
    await progressed;
    const cancel = await t.server.app.inject({
      method: 'DELETE',
      url: `/v1/jobs/${id}`,
      headers: t.auth(key),
    });
    expect(cancel.statusCode).toBe(202);
    const job = await finished(id);
    expect(job.status).toBe('cancelled');
    const result = job.result as { interrupted: string | null; chunks: number; added: number };
    expect(result.interrupted).toBe('cancelled by request');
    const stored = (await t.system.memory.list({ namespace: 'pantry' })).length;
    expect(stored).toBe(result.added);
    expect(stored).toBeGreaterThan(0);
    expect(stored).toBeLessThan(lines.length);
    expect(uploadsLeft()).toEqual([]);
  });

  it("keeps a tenant's uploads in its own home; its jobs are 404 to the owner", async () => {
    const res = await upload(
      [{ name: 'file', filename: 'mine.txt', value: 'The other tenant owns this line.' }],
      otherKey,
    );
    expect(res.statusCode).toBe(202);
    const job = await finished(res.json().id, otherKey);
    expect(job.status).toBe('succeeded');
    const read = await t.server.app.inject({
      method: 'GET',
      url: `/v1/jobs/${job.id}`,
      headers: t.auth(key),
    });
    expect(read.statusCode).toBe(404);
    expect((await t.system.memory.list()).map((f) => f.text)).not.toContain(
      'The other tenant owns this line.',
    );
    const other = await t.server.context.tenants.system('ingest-other');
    expect((await other.memory.list()).map((f) => f.text)).toContain(
      'The other tenant owns this line.',
    );
  });
});
