import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@aios/utils';
import { testChatGptExport, testImplementations } from '@aios/utils/testing';
import { describe, expect, it, vi } from 'vitest';
import { createAios } from './aios.js';
import { ingest } from './ingest.js';

// A JSON or JSONL file is parsed once per ingest: when it is checked, before anything is
// written; its turn reads the records of that parse.

const SOURDOUGH = testChatGptExport([
  {
    title: 'Sourdough',
    id: 'conv-1',
    turns: [
      { role: 'user', text: 'How often should I feed my sourdough starter?' },
      { role: 'assistant', text: 'Feed the sourdough starter once a day.' },
    ],
  },
]);

describe.each(testImplementations())('ingest of JSON files (AIOS_NATIVE=%s)', (impl) => {
  const open = async () => {
    const home = mkdtempSync(join(tmpdir(), 'aios-ingest-json-'));
    const { config } = loadConfig({ cwd: home, env: { AIOS_HOME: home, AIOS_NATIVE: impl } });
    return { home, aios: await createAios({ config, offline: true }) };
  };

  it('parses a JSON file and a ChatGPT export once each', async () => {
    const { home, aios } = await open();
    const parse = vi.spyOn(JSON, 'parse');
    try {
      const notes = JSON.stringify([{ text: 'The heron fished at dawn.' }, 'Otters at dusk.']);
      writeFileSync(join(home, 'notes.json'), notes);
      const chat = SOURDOUGH;
      writeFileSync(join(home, 'conversations.json'), chat);
      const result = await ingest(aios, [
        join(home, 'notes.json'),
        join(home, 'conversations.json'),
      ]);
      expect(result.added).toBe(4);
      const parsed = (text: string) => parse.mock.calls.filter(([arg]) => arg === text).length;
      expect(parsed(notes)).toBe(1);
      expect(parsed(chat)).toBe(1);
    } finally {
      parse.mockRestore();
      await aios.close();
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('still names what is wrong with a broken JSON file: named, the run fails; in a folder, it is skipped', async () => {
    const { home, aios } = await open();
    try {
      const bad = join(home, 'bad.json');
      writeFileSync(bad, '{ "text": ');
      await expect(ingest(aios, [bad])).rejects.toMatchObject({
        code: 'INGEST_INVALID',
        message: expect.stringMatching(/^.*bad\.json: not valid JSON \(/),
      });
      const chat = join(home, 'chat.json');
      writeFileSync(chat, JSON.stringify([{ mapping: [] }]));
      await expect(ingest(aios, [chat])).rejects.toMatchObject({
        code: 'INGEST_INVALID',
        message: expect.stringContaining('chat.json: not a valid ChatGPT export: '),
      });
      const folder = join(home, 'exports');
      mkdirSync(folder);
      writeFileSync(join(folder, 'bad.json'), '{ "text": ');
      writeFileSync(join(folder, 'good.json'), '["The kingfisher dived at noon."]');
      const result = await ingest(aios, [folder]);
      expect(result.skipped).toEqual([
        { path: join(folder, 'bad.json'), reason: expect.stringMatching(/^not valid JSON \(/) },
      ]);
      expect(result.added).toBe(1);
      expect(aios.memory.stats().fragments).toBe(1);
    } finally {
      await aios.close();
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('parses each line of a JSONL file once, and cites each fragment at its line', async () => {
    const { home, aios } = await open();
    const parse = vi.spyOn(JSON, 'parse');
    try {
      const lines = ['{"text":"The heron fished at dawn."}', '', '"Otters slid down the bank."'];
      const path = join(home, 'notes.jsonl');
      writeFileSync(path, `${lines.join('\n')}\n`);
      const result = await ingest(aios, [path]);
      expect(result.added).toBe(2);
      const parsed = (text: string) => parse.mock.calls.filter(([arg]) => arg === text).length;
      expect([parsed(lines[0] as string), parsed(lines[2] as string)]).toEqual([1, 1]);
      const cited = (await aios.memory.list({ namespace: result.namespace }))
        .map((f) => [f.text, f.metadata?.line, f.metadata?.offset])
        .sort();
      expect(cited).toEqual([
        ['Otters slid down the bank.', 3, 38],
        ['The heron fished at dawn.', 1, 0],
      ]);
    } finally {
      parse.mockRestore();
      await aios.close();
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('still names the broken line of a JSONL file: named, the run fails; in a folder, it is skipped', async () => {
    const { home, aios } = await open();
    try {
      const bad = join(home, 'bad.jsonl');
      writeFileSync(bad, '{"text":"The wren sang."}\n{oops\n');
      await expect(ingest(aios, [bad])).rejects.toMatchObject({
        code: 'INGEST_INVALID',
        message: expect.stringMatching(/bad\.jsonl: line 2 is not valid JSON \(/),
        details: { line: 2 },
      });
      const folder = join(home, 'logs');
      mkdirSync(folder);
      writeFileSync(join(folder, 'bad.jsonl'), '{"text":"The wren sang."}\n{oops\n');
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
    } finally {
      await aios.close();
      rmSync(home, { recursive: true, force: true });
    }
  });
});
