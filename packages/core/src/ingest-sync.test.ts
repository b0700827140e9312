import { AsyncResource } from 'node:async_hooks';
import { mkdirSync, renameSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testDocx, testImplementations } from '@aios/utils/testing';
import { describe, expect, it } from 'vitest';
import { type Aios, createAios } from './aios.js';
import { atomically } from './ingest/target.js';
import { forgetSources, ingest, planForget } from './ingest.js';
import { withNotesHome } from './testing/notes-home.js';

// The source index through the API: what `aios ingest` and `aios forget` are built on.

describe.each(testImplementations())('ingest with the source index (AIOS_NATIVE=%s)', (impl) => {
  const withAios = (run: (aios: Aios, dir: string) => Promise<void>) => withNotesHome(impl, run);
  const texts = async (aios: Aios) => (await aios.memory.list()).map((f) => f.text).sort();
  const byText = async (aios: Aios, text: string) =>
    (await aios.memory.list()).find((f) => f.text === text);

  it('cleans up after ingests made before the index: the edit kept, the copy of the old text gone', async () => {
    await withAios(async (aios, dir) => {
      const file = join(dir, 'grandma.md');
      writeFileSync(
        file,
        '# Grandma\n\nShe is allergic to cats.\n\n# Car\n\nServiced in spring.\n',
      );
      // Ingests without the index add only, as every ingest did before it existed: an edit
      // followed by such an ingest stores the file's text again beside the edit.
      await ingest(aios.memory, [file]);
      const original = await byText(aios, '# Grandma\n\nShe is allergic to cats.');
      await aios.memory.update(original?.id as string, { text: 'Grandma is allergic to cats.' });
      await ingest(aios.memory, [file]);
      expect(await texts(aios)).toHaveLength(3);

      const synced = await ingest(aios, [file]);
      expect(synced).toMatchObject({ added: 0, edited: 1, removed: 1, conflicts: [] });
      expect(await texts(aios)).toEqual([
        '# Car\n\nServiced in spring.',
        'Grandma is allergic to cats.',
      ]);
      expect((await ingest(aios, [file])).unchanged).toBe(1);
    });
  });

  it('keeps a fragment two files share until neither has it, and the user’s own text always', async () => {
    await withAios(async (aios, dir) => {
      const shared = 'The spare key is with Mrs Green at number 14.';
      const own = 'The bins go out on Monday evenings.';
      await aios.memory.add({ text: own, namespace: 'documents' });
      const [a, b, c] = ['a.md', 'b.md', 'c.md'].map((name) => join(dir, name)) as [
        string,
        string,
        string,
      ];
      writeFileSync(a, `${shared}\n\n# A\n\nOnly in a.\n`);
      writeFileSync(b, `${shared}\n\n# B\n\nOnly in b.\n`);
      writeFileSync(c, `${own}\n`);
      expect((await ingest(aios, [dir])).added).toBe(3);
      expect(await texts(aios)).toHaveLength(4);

      // a drops the shared paragraph: b still has it, so it stays, as b's.
      writeFileSync(a, '# A\n\nOnly in a.\n');
      expect((await ingest(aios, [a])).removed).toBe(0);
      expect((await byText(aios, shared))?.metadata.source).toBe(b);

      // Forgetting b takes the shared paragraph with it; forgetting c, which only repeated
      // the user's own text, takes nothing.
      const plan = await planForget(aios, { paths: [b] });
      expect(plan.fragments.map((f) => f.text).sort()).toEqual(['# B\n\nOnly in b.', shared]);
      expect(await forgetSources(aios, plan)).toMatchObject({ sources: 1, fragments: 2 });
      expect(await forgetSources(aios, await planForget(aios, { paths: [c] }))).toMatchObject({
        sources: 1,
        fragments: 0,
      });
      expect(await texts(aios)).toEqual(['# A\n\nOnly in a.', own]);
    });
  });

  it('forgetting one of two files that share a fragment keeps it, now as the other file’s', async () => {
    await withAios(async (aios, dir) => {
      const shared = 'The wifi hint is the name of the dog.';
      const a = join(dir, 'a.md');
      const b = join(dir, 'b.md');
      writeFileSync(a, `${shared}\n`);
      writeFileSync(b, `${shared}\n`);
      await ingest(aios, [dir]);
      const plan = await planForget(aios, { paths: [a] });
      expect(plan.fragments).toEqual([]);
      expect(plan.shared).toEqual([{ id: (await byText(aios, shared))?.id, source: b }]);
      expect(await forgetSources(aios, plan)).toMatchObject({ sources: 1, shared: 1 });
      expect((await byText(aios, shared))?.metadata.source).toBe(b);
      expect(await forgetSources(aios, await planForget(aios, { paths: [b] }))).toMatchObject({
        fragments: 1,
      });
      expect(await texts(aios)).toEqual([]);
    });
  });

  // Two processes on one home: a native store only (a js one has its file to itself).
  it.skipIf(impl === 'js')(
    'a file another process ingested meanwhile is known, not taken for one the user deleted',
    async () => {
      await withAios(async (aios, dir) => {
        const other = await createAios({ config: aios.config, offline: true });
        try {
          const file = join(dir, 'bins.md');
          const bins = '# Bins\n\nThe black bin goes out on Monday evenings.';
          const recycling = '# Recycling\n\nThe green bin is for glass and goes out on Fridays.';
          writeFileSync(file, `${bins}\n`);
          // `aios` looked at the memory before the other one stored the file.
          expect(await texts(aios)).toEqual([]);
          expect(await ingest(other, [file])).toMatchObject({ added: 1 });
          writeFileSync(file, `${bins}\n\n${recycling}\n`);
          const again = await ingest(aios, [file]);
          expect(again).toMatchObject({ added: 1, kept: 1, deleted: 0 });
          expect(await texts(aios)).toEqual([bins, recycling]);
        } finally {
          await other.close();
        }
      });
    },
  );

  it('a file staged in another place each time is one source under the name it is given', async () => {
    await withAios(async (aios, dir) => {
      // As two servers stage one upload: each in a folder of its own, named as uploaded.
      const stage = (where: string, text: string) => {
        const folder = join(dir, where);
        mkdirSync(folder, { recursive: true });
        writeFileSync(join(folder, 'plan.md'), text);
        return { path: join(folder, 'plan.md'), sourceName: () => 'plan.md' };
      };
      const first = stage('a', '# Plan\n\nPaint the shed in June.\n\n# Bins\n\nBins on Monday.\n');
      await ingest(aios, [first.path], { sourceName: first.sourceName });
      const second = stage('b', '# Plan\n\nPaint the shed in July.\n\n# Bins\n\nBins on Monday.\n');
      const again = await ingest(aios, [second.path], { sourceName: second.sourceName });
      expect(again.files[0]).toMatchObject({
        path: second.path,
        status: 'changed',
        kept: 1,
        removed: 1,
      });
      expect(await texts(aios)).toEqual([
        '# Bins\n\nBins on Monday.',
        '# Plan\n\nPaint the shed in July.',
      ]);
      const sources = (await aios.memory.list()).map((f) => [f.metadata.source, f.metadata.line]);
      expect(sources.sort()).toEqual([
        ['plan.md', 1],
        ['plan.md', 5],
      ]);
      expect((await aios.data.sources.list()).map((s) => s.path)).toEqual(['plan.md']);
    });
  });

  it('a renamed file takes its fragments over with their lines, and pruning the old name keeps them', async () => {
    await withAios(async (aios, dir) => {
      const old = join(dir, 'dentist.md');
      const renamed = join(dir, 'my dentist.md');
      writeFileSync(
        old,
        'Dr. Sørensen is the dentist.\n\n# Phone\n\nThe office phone is 555-0199.\n',
      );
      await ingest(aios, [dir]);
      renameSync(old, renamed);
      const again = await ingest(aios, [dir], { prune: true });
      expect(again.added).toBe(0);
      const placed = (await aios.memory.list())
        .map((f) => [f.text, f.metadata.source, f.metadata.line])
        .sort();
      expect(placed).toEqual([
        ['# Phone\n\nThe office phone is 555-0199.', renamed, 3],
        ['Dr. Sørensen is the dentist.', renamed, 1],
      ]);
      // And it is the new name's to forget.
      await forgetSources(aios, await planForget(aios, { paths: [renamed] }));
      expect(await texts(aios)).toEqual([]);
    });
  });

  it('a document damaged since it was ingested is skipped in its turn, its fragments kept', async () => {
    await withAios(async (aios, dir) => {
      const letter = join(dir, 'letter.docx');
      const whole = testDocx([{ text: 'The hedge on Mill Lane blocks the footpath.' }]);
      writeFileSync(letter, whole);
      writeFileSync(join(dir, 'note.md'), 'The heron fished at dawn.\n');
      expect((await ingest(aios, [dir])).added).toBe(2);
      // Same size, another time: only reading it can tell it changed.
      writeFileSync(
        letter,
        Buffer.concat([whole.subarray(0, 200), Buffer.alloc(whole.length - 200)]),
      );
      utimesSync(letter, new Date(), new Date(Date.now() + 5_000));
      const again = await ingest(aios, [dir]);
      expect(again.skipped).toEqual([
        { path: letter, reason: expect.stringMatching(/^a damaged Word document \(/) },
      ]);
      expect(again.unchanged).toBe(1);
      expect(await texts(aios)).toEqual(
        ['The heron fished at dawn.', 'The hedge on Mill Lane blocks the footpath.'].sort(),
      );
    });
  });

  it('a stopped ingest resumes: what it stored is kept, nothing is stored twice', async () => {
    await withAios(async (aios, dir) => {
      const file = join(dir, 'long.md');
      const sections = Array.from({ length: 60 }, (_, i) => `# Part ${i}\n\nPart ${i} text.`);
      writeFileSync(file, `${sections.join('\n\n')}\n`);
      const stop = new AbortController();
      const first = await ingest(aios, [file], {
        signal: stop.signal,
        batchSize: 8,
        onProgress: (p) => {
          if (p.chunksDone >= 16) stop.abort('SIGINT');
        },
      });
      expect(first.interrupted).toBe('SIGINT');
      expect(first.added).toBe(16);
      const rest = await ingest(aios, [file], { batchSize: 8 });
      expect(rest).toMatchObject({ added: 44, kept: 16, removed: 0 });
      expect(rest.files[0]?.status).toBe('changed');
      expect(await texts(aios)).toHaveLength(60);
      // Progress ends at its total, whether a file is read or found unchanged.
      const note = join(dir, 'note.md');
      writeFileSync(note, 'The heron fished at dawn.\n');
      for (let round = 0; round < 2; round++) {
        const seen: Array<[number, number]> = [];
        await ingest(aios, [file, note], {
          onProgress: (p) => seen.push([p.bytesDone, p.bytesTotal]),
        });
        const total = statSync(file).size + statSync(note).size;
        expect(seen.every(([done, all]) => all === total && done <= all)).toBe(true);
        expect(seen.at(-1)).toEqual([total, total]);
      }
    });
  });

  it('keeps namespaces apart: the same file in two namespaces, forgotten from one', async () => {
    await withAios(async (aios, dir) => {
      const file = join(dir, 'note.md');
      writeFileSync(file, 'The heron fished at dawn.\n');
      await ingest(aios, [file]);
      expect((await ingest(aios, [file], { namespace: 'demo' })).added).toBe(1);
      expect(aios.memory.namespaces()).toEqual({ documents: 1, demo: 1 });
      await forgetSources(aios, await planForget(aios, { namespace: 'demo' }));
      expect(aios.memory.namespaces()).toEqual({ documents: 1 });
      expect((await ingest(aios, [file])).unchanged).toBe(1);
    });
  });
  it('lets a write from elsewhere wait for an ingest transaction, and neither hangs', async () => {
    await withAios(async (aios) => {
      // Bound out here: called from inside the transaction, it is still someone else's write
      // (another request of a server, a catch-up after another server's notice).
      const fromElsewhere = AsyncResource.bind((text: string) => aios.memory.add(text));
      let other: Promise<unknown> | undefined;
      await atomically(aios, async () => {
        const file = { namespace: 'documents', path: '/notes/a.md', contentHash: null };
        await aios.data.sources.put({ ...file, size: 1, modifiedAt: 0, ingestedAt: 0 });
        other = fromElsewhere('Written by someone else meanwhile.');
        await new Promise((resolve) => setTimeout(resolve, 20));
        await aios.memory.add({ text: 'Written by the ingest.', namespace: 'documents' });
      });
      await other;
      expect(await texts(aios)).toEqual([
        'Written by someone else meanwhile.',
        'Written by the ingest.',
      ]);
      expect(await aios.data.sources.list()).toHaveLength(1);
    });
  });
});
