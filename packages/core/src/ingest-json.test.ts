import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testImplementations, testSourdoughChat } from '@aios/utils/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ingest } from './ingest.js';
import { withNotesHome } from './testing/notes-home.js';

// A JSON or JSONL file is parsed once per ingest: when it is checked, before anything is
// written; its turn reads the records of that parse.

describe.each(testImplementations())('ingest of JSON files (AIOS_NATIVE=%s)', (impl) => {
  afterEach(() => {
    vi.restoreAllMocks();
  });
  /** How many times each text was given to `JSON.parse` from now on. */
  const parses = () => {
    const parse = vi.spyOn(JSON, 'parse');
    return (text: string) => parse.mock.calls.filter(([arg]) => arg === text).length;
  };

  it('parses a JSON file and a ChatGPT export once each', () =>
    withNotesHome(impl, async (aios, dir) => {
      const parsed = parses();
      const notes = JSON.stringify([{ text: 'The heron fished at dawn.' }, 'Otters at dusk.']);
      writeFileSync(join(dir, 'notes.json'), notes);
      const chat = testSourdoughChat;
      writeFileSync(join(dir, 'conversations.json'), chat);
      const result = await ingest(aios, [join(dir, 'notes.json'), join(dir, 'conversations.json')]);
      expect(result.added).toBe(4);
      expect(parsed(notes)).toBe(1);
      expect(parsed(chat)).toBe(1);
    }));

  it('still names what is wrong with a broken JSON file: named, the run fails; in a folder, it is skipped', () =>
    withNotesHome(impl, async (aios, dir) => {
      const bad = join(dir, 'bad.json');
      writeFileSync(bad, '{ "text": ');
      await expect(ingest(aios, [bad])).rejects.toMatchObject({
        code: 'INGEST_INVALID',
        message: expect.stringMatching(/^.*bad\.json: not valid JSON \(/),
      });
      const chat = join(dir, 'chat.json');
      writeFileSync(chat, JSON.stringify([{ mapping: [] }]));
      await expect(ingest(aios, [chat])).rejects.toMatchObject({
        code: 'INGEST_INVALID',
        message: expect.stringContaining('chat.json: not a valid ChatGPT export: '),
      });
      const folder = join(dir, 'exports');
      mkdirSync(folder);
      writeFileSync(join(folder, 'bad.json'), '{ "text": ');
      writeFileSync(join(folder, 'good.json'), '["The kingfisher dived at noon."]');
      const result = await ingest(aios, [folder]);
      expect(result.skipped).toEqual([
        { path: join(folder, 'bad.json'), reason: expect.stringMatching(/^not valid JSON \(/) },
      ]);
      expect(result.added).toBe(1);
      expect(aios.memory.stats().fragments).toBe(1);
    }));

  it('parses each line of a JSONL file once, and cites each fragment at its line', () =>
    withNotesHome(impl, async (aios, dir) => {
      const parsed = parses();
      const lines = ['{"text":"The heron fished at dawn."}', '', '"Otters slid down the bank."'];
      const path = join(dir, 'notes.jsonl');
      writeFileSync(path, `${lines.join('\n')}\n`);
      const result = await ingest(aios, [path]);
      expect(result.added).toBe(2);
      expect([parsed(lines[0] as string), parsed(lines[2] as string)]).toEqual([1, 1]);
      const cited = (await aios.memory.list({ namespace: result.namespace }))
        .map((f) => [f.text, f.metadata?.line, f.metadata?.offset])
        .sort();
      expect(cited).toEqual([
        ['Otters slid down the bank.', 3, 38],
        ['The heron fished at dawn.', 1, 0],
      ]);
    }));

  it('still names the broken line of a JSONL file: named, the run fails; in a folder, it is skipped', () =>
    withNotesHome(impl, async (aios, dir) => {
      const broken = '{"text":"The wren sang."}\n{oops\n';
      const bad = join(dir, 'bad.jsonl');
      writeFileSync(bad, broken);
      await expect(ingest(aios, [bad])).rejects.toMatchObject({
        code: 'INGEST_INVALID',
        message: expect.stringMatching(/bad\.jsonl: line 2 is not valid JSON \(/),
        details: { line: 2 },
      });
      const folder = join(dir, 'logs');
      mkdirSync(folder);
      writeFileSync(join(folder, 'bad.jsonl'), broken);
      writeFileSync(join(folder, 'good.jsonl'), '"The kingfisher dived at noon."\n');
      const result = await ingest(aios, [folder]);
      expect(result.skipped).toEqual([
        {
          path: join(folder, 'bad.jsonl'),
          reason: expect.stringMatching(/^line 2 is not valid JSON \(/),
        },
      ]);
      expect(result.added).toBe(1);
      expect(aios.memory.stats().fragments).toBe(1);
    }));
});
