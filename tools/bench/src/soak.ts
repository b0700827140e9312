// The soak of `aios serve`: a real server on loopback, in a temporary home with a few
// thousand fragments and three tenants, under a mix of every kind of request for a set
// time, sampled every few seconds (RSS and open fds from /proc, the V8 heap after a forced
// collection through the inspector on 127.0.0.1). Prints how each grows per 10,000
// requests after warm-up, and with --snapshots what grew in the heap, by constructor.
//
//   pnpm --filter @aios/bench exec tsx src/soak.ts --minutes 10 [--native js] [--snapshots]

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cli } from '@aios/enterprise';
import { processResources, seededHome, serveProcess } from './serve-process.js';
import { heapCensus, heapGrowth } from './soak/heap-diff.js';
import { connectInspector } from './soak/inspector.js';
import { MIX, nextOp, SoakClient, type Tenant } from './soak/load.js';
import { type Sample, slopePer10k } from './soak/slope.js';
import { generateCorpus } from './suites/carma.js';

// Node 20 has WebSocket (for the inspector) only behind a flag: run again with it.
if (typeof WebSocket === 'undefined') {
  const again = spawnSync(
    process.execPath,
    [...process.execArgv, '--experimental-websocket', ...process.argv.slice(1)],
    { stdio: 'inherit' },
  );
  process.exit(again.status ?? 1);
}

const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    minutes: { type: 'string', default: '10' },
    warmup: { type: 'string', description: 'minutes not counted in the slopes' },
    native: { type: 'string', default: 'native' },
    fragments: { type: 'string', default: '3000' },
    concurrency: { type: 'string', default: '8' },
    sample: { type: 'string', default: '5' },
    snapshots: { type: 'boolean', default: false },
    out: { type: 'string' },
    only: { type: 'string', description: 'comma-separated parts of the mix (search,write...)' },
  },
});
const minutes = Number(values.minutes);
const warmupSeconds = 60 * Number(values.warmup ?? Math.min(2, minutes / 5));
const native = values.native === 'js' ? 'js' : 'native';
const only = values.only?.split(',');
const mix = only ? MIX.filter((entry) => only.includes(entry.name)) : MIX;
if (mix.length === 0) throw new Error(`--only names none of ${MIX.map((e) => e.name).join(', ')}`);
const log = (message: string) => console.log(`[soak ${native}] ${message}`);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

const fileSize = (path: string) => (existsSync(path) ? statSync(path).size : 0);
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

const home = mkdtempSync(join(tmpdir(), 'aios-soak-'));
const corpus = generateCorpus(Number(values.fragments), 7);
const words = [...new Set(corpus.join(' ').split(' '))];
const seeded = await seededHome(home, native, corpus, ['admin'], log);
const tenants: Tenant[] = [{ id: 'default', key: seeded.key }];
for (const id of ['soak-a', 'soak-b']) {
  await cli.tenantsCreate(seeded.system, { id });
  const { key } = await cli.keysCreate(seeded.system, { name: id, scopes: ['admin'], tenant: id });
  tenants.push({ id, key });
}
await seeded.system.close();

const inspectPort = await freePort();
const server = await serveProcess(home, native, {
  offline: true,
  nodeArgs: [`--inspect=127.0.0.1:${inspectPort}`],
});
const pid = server.child.pid as number;
const inspector = await connectInspector(inspectPort);
const client = new SoakClient(server.url, seeded.key, words);
log(`server ${server.url} (pid ${pid}), home ${home}`);

// The other tenants start with a memory of their own.
for (const tenant of tenants.slice(1)) {
  const items = corpus.slice(0, 500).map((text) => ({ text: `${tenant.id} ${text}` }));
  await client.send('POST', '/v1/memory/batch', { key: tenant.key, json: { items } });
}

const samples: Sample[] = [];
const started = Date.now();
const elapsed = () => (Date.now() - started) / 1000;
async function sample(): Promise<Sample> {
  const metrics = await (await client.call('GET', '/metrics')).text();
  const heapBytes = await inspector.heapAfterGc();
  const externalBytes = await inspector.externalBytes();
  const { rssBytes, anonBytes, fds } = processResources(pid);
  const reading: Sample = {
    seconds: Math.round(elapsed()),
    requests: client.requests,
    rssBytes,
    anonBytes,
    externalBytes,
    walBytes: fileSize(join(home, 'aios.db-wal')),
    heapBytes,
    fds,
    metricLines: metrics.split('\n').length,
  };
  samples.push(reading);
  log(
    `${String(reading.seconds).padStart(5)} s ${String(reading.requests).padStart(7)} req  rss ${mb(rssBytes)} MB (anon ${mb(anonBytes)})  heap ${mb(heapBytes)} MB  external ${mb(externalBytes)} MB  wal ${mb(reading.walBytes)} MB  fds ${fds}  metric lines ${reading.metricLines}`,
  );
  return reading;
}

const failures = new Map<string, number>();
const deadline = started + minutes * 60_000;
async function loop(): Promise<void> {
  while (Date.now() < deadline) {
    const { name, op, tenant } = nextOp(mix, tenants);
    try {
      await op(client, tenant);
    } catch (error) {
      const seen = failures.get(name) ?? 0;
      failures.set(name, seen + 1);
      if (seen === 0) log(`${name} failed: ${(error as Error).message}`);
    }
  }
}

let before: ReturnType<typeof heapCensus> | undefined;
// Taking a snapshot raises RSS once (V8 builds it in memory): the slopes start after it.
let steadyFrom = warmupSeconds;
const sampling = (async () => {
  await sample();
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, Number(values.sample) * 1000));
    await sample();
    if (values.snapshots && !before && elapsed() >= warmupSeconds) {
      before = heapCensus(await inspector.heapSnapshot());
      steadyFrom = elapsed();
    }
  }
})();
await Promise.all([...Array.from({ length: Number(values.concurrency) }, () => loop()), sampling]);
// What the last requests left behind is let go before the last reading.
await new Promise((resolve) => setTimeout(resolve, 2000));
await sample();
const grown =
  values.snapshots && before ? heapGrowth(before, heapCensus(await inspector.heapSnapshot())) : [];

const steady = samples.filter((s) => s.seconds >= steadyFrom);
const slopes = {
  rssMbPer10k: slopePer10k(steady, (s) => s.rssBytes / 1024 / 1024),
  anonMbPer10k: slopePer10k(steady, (s) => s.anonBytes / 1024 / 1024),
  externalMbPer10k: slopePer10k(steady, (s) => s.externalBytes / 1024 / 1024),
  heapMbPer10k: slopePer10k(steady, (s) => s.heapBytes / 1024 / 1024),
  fdsPer10k: slopePer10k(steady, (s) => s.fds),
  metricLinesPer10k: slopePer10k(steady, (s) => s.metricLines),
};
const first = steady[0];
const last = samples[samples.length - 1];
log(
  `requests ${client.requests} in ${Math.round(elapsed())} s; answers ${JSON.stringify(Object.fromEntries(client.outcomes))}`,
);
if (failures.size > 0) log(`client-side failures ${JSON.stringify(Object.fromEntries(failures))}`);
if (first && last) {
  log(
    `after warm-up (${first.requests} -> ${last.requests} requests): rss ${mb(first.rssBytes)} -> ${mb(last.rssBytes)} MB, heap ${mb(first.heapBytes)} -> ${mb(last.heapBytes)} MB, fds ${first.fds} -> ${last.fds}, metric lines ${first.metricLines} -> ${last.metricLines}`,
  );
}
log(
  `per 10k requests: rss ${slopes.rssMbPer10k.toFixed(2)} MB (anon ${slopes.anonMbPer10k.toFixed(2)}), external ${slopes.externalMbPer10k.toFixed(2)} MB, heap ${slopes.heapMbPer10k.toFixed(2)} MB, fds ${slopes.fdsPer10k.toFixed(2)}, metric lines ${slopes.metricLinesPer10k.toFixed(2)}`,
);
for (const g of grown)
  log(`heap grew: ${g.kind} ${g.count} objects, ${(g.bytes / 1024).toFixed(1)} KB`);
if (values.out) {
  writeFileSync(values.out, JSON.stringify({ native, minutes, slopes, samples, grown }, null, 2));
}

inspector.close();
await server.stop();
rmSync(home, { recursive: true, force: true });
