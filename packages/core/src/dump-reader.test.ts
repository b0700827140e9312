import { describe, expect, it } from 'vitest';
import { type DumpFacts, readDump } from './dump-reader.js';

const DUMP = [
  'SET client_encoding = UTF8;',
  'DROP TABLE IF EXISTS public.fragments;',
  'DROP SCHEMA IF EXISTS public;',
  'CREATE SCHEMA public;',
  "COMMENT ON SCHEMA public IS 'standard public schema';",
  'CREATE TABLE public.fragments (id text);',
  'COPY public.fragments (id, text) FROM stdin;',
  'a\tCREATE SCHEMA public;',
  'CREATE SCHEMA public;',
  'b\t\\\\.',
  '\\.',
  'COPY public.schema_migrations (version, name, applied_at) FROM stdin;',
  '1\tinitial\t1',
  '6\tsources\t2',
  '\\.',
  'COPY public.meta (key, value) FROM stdin;',
  '\\.',
  'CREATE SCHEMA other;',
  '',
].join('\n');

/** The dump in pieces of `size` bytes, cutting lines anywhere. */
async function* pieces(text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function read(size: number): Promise<{ text: string; facts: DumpFacts }> {
  const facts: DumpFacts = { rows: new Map(), schemaVersion: 0 };
  const parts: Uint8Array[] = [];
  for await (const p of readDump(pieces(DUMP, size), 'public', facts)) parts.push(p);
  return { text: Buffer.concat(parts).toString(), facts };
}

describe('readDump', () => {
  it.each([1, 7, 64, 100_000])(
    'counts rows and leaves out the schema statements (pieces of %i)',
    async (size) => {
      const { text, facts } = await read(size);
      expect(Object.fromEntries(facts.rows)).toEqual({
        'public.fragments': 3,
        'public.schema_migrations': 2,
        'public.meta': 0,
      });
      expect(facts.schemaVersion).toBe(6);
      // Only the statements about the store's own schema go; rows that read like them stay.
      expect(text).toBe(
        DUMP.replace(
          "DROP SCHEMA IF EXISTS public;\nCREATE SCHEMA public;\nCOMMENT ON SCHEMA public IS 'standard public schema';\n",
          '',
        ),
      );
    },
  );
});
