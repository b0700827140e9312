/**
 * A process that only opens a home's memory (CARMA on its database, as `aios` opens it)
 * and answers one search: how long that takes, and what it holds afterwards, its own
 * memory (anonymous pages) apart from the pages of the index files it mapped.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runProcess } from '@aios/utils/testing';

const SCRIPT = `
import { readFileSync } from 'node:fs';
const [carma, data, dir, db, query, native] = process.argv.slice(2);
const { openMemory } = await import(carma);
const { openDataStore } = await import(data);
const started = performance.now();
const store = await openDataStore({ path: db, native });
const memory = await openMemory({ dir, data: store, native });
await memory.search(query, { k: 3 });
const ms = performance.now() - started;
const status = readFileSync('/proc/self/status', 'utf8');
const bytes = (key) => Number(new RegExp(key + ':\\\\s*(\\\\d+) kB').exec(status)?.[1] ?? 0) * 1024;
const report = { ms, peak: bytes('VmHWM'), anon: bytes('RssAnon'), file: bytes('RssFile') };
await memory.close();
await store.close();
process.stdout.write(JSON.stringify(report));
`;

export interface MemoryProcess {
  /** Open + first search. */
  ms: number;
  /** Peak resident set. */
  peak: number;
  /** Resident after the search: the process's own pages, and mapped file pages. */
  anon: number;
  file: number;
}

export async function memoryProcess(
  scratch: string,
  home: string,
  native: string,
  query: string,
): Promise<MemoryProcess> {
  const script = join(scratch, 'memory-process.mjs');
  writeFileSync(script, SCRIPT);
  const args = [
    script,
    import.meta.resolve('@aios/carma'),
    import.meta.resolve('@aios/data'),
    join(home, 'carma'),
    join(home, 'aios.db'),
    query,
    native,
  ];
  const run = await runProcess(process.execPath, args);
  if (run.code !== 0) throw new Error(`the memory process exited with ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout) as MemoryProcess;
}
