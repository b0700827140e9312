import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createAios, loadConfig } from '@aios/core';
import { quietMachine } from '../machine.js';
import { percentile, seededHome } from '../serve-process.js';
import type { BenchResult, Suite } from '../types.js';
import { generateCorpus } from './carma.js';
import { type MemoryProcess, memoryProcess } from './startup-memory-process.js';

const require = createRequire(import.meta.url);
const aiosCli = join(require.resolve('@aios/core/package.json'), '..', 'dist', 'cli.js');

/**
 * How long a home's index files must have been left alone before an open records its full
 * check of them (packages/carma/src/checked-files.ts), with a margin: later opens then
 * check their structure only.
 */
const SETTLE_MS = 2_500;

/** Notes in the folder the suite ingests at once. */
const FOLDER_NOTES = 300;

/** Node 22, as the release test gets it (tools/scripts/release-test/tools.mjs). */
function node22(): string {
  const tools = fileURLToPath(new URL('../../../scripts/release-test/tools.mjs', import.meta.url));
  const script = `import { node22 } from ${JSON.stringify(tools)}; process.stdout.write(node22());`;
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
}

/**
 * Loaded before the CLI: writes the process's peak resident set (bytes) when it exits.
 * Linux's VmHWM is the peak of this program's own memory; getrusage's maxrss would also
 * count the bench process it was forked from (kept across exec).
 */
const RSS_PRELOAD = `
import { readFileSync, writeFileSync } from 'node:fs';
process.on('exit', () => {
  let peak;
  try {
    const kb = /VmHWM:\\s*(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (kb) peak = Number(kb[1]) * 1024;
  } catch {}
  writeFileSync(process.env.BENCH_RSS_FILE, String(peak ?? process.resourceUsage().maxRSS * 1024));
});
`;

interface Run {
  wallMs: number;
  rssBytes: number;
}

/**
 * The environment a command runs in: this one without NODE_EXTRA_CA_CERTS, which a
 * machine behind a TLS-inspecting proxy sets and a user's usually does not. Node 20 reads
 * and parses that whole bundle before running any program (Node 22 when first needed):
 * tens of milliseconds the suite reports on their own (`nodeStart`).
 */
function userEnv(): NodeJS.ProcessEnv {
  const { NODE_EXTRA_CA_CERTS: _proxyCerts, ...env } = process.env;
  return env;
}

/** Median wall time of an empty program on `node`, in `env`: Node's own start. */
function nodeStart(node: string, env: NodeJS.ProcessEnv, runs: number): number {
  const walls: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    execFileSync(node, ['-e', '0'], { env, stdio: 'ignore' });
    walls.push(performance.now() - start);
  }
  return percentile(
    walls.sort((a, b) => a - b),
    50,
  );
}

/** One `aios ...` as a user types it: wall time from spawn to exit, and peak RSS. */
function runCli(
  node: string,
  args: string[],
  home: string,
  native: string,
  preload: string,
  rssFile: string,
): Promise<Run> {
  const start = performance.now();
  const child = spawn(node, ['--import', preload, aiosCli, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...userEnv(),
      AIOS_HOME: home,
      AIOS_NATIVE: native,
      AIOS_LOG_LEVEL: 'warn',
      BENCH_RSS_FILE: rssFile,
    },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      const wallMs = performance.now() - start;
      if (code !== 0) {
        reject(new Error(`aios ${args.join(' ')} exited with ${code}: ${stderr}`));
        return;
      }
      resolve({ wallMs, rssBytes: Number(readFileSync(rssFile, 'utf8')) });
    });
  });
}

function bytesOf(paths: string[]): number {
  let total = 0;
  for (const path of paths) {
    try {
      total += statSync(path).size;
    } catch {
      // absent (no WAL left after a clean close)
    }
  }
  return total;
}

/** What the suite measures on one seeded home (its files just written). */
interface HomeRun {
  home: string;
  native: 'native' | 'js';
  runs: number;
  /** The texts the home was seeded with. */
  corpus: string[];
  /** Added to every case's name (a home of another size than the suite's). */
  label?: string;
  nodes: Array<[string, string]>;
  scratch: string;
  preload: string;
  rssFile: string;
  log: (message: string) => void;
}

async function measureHome(run: HomeRun): Promise<BenchResult[]> {
  const { home, native, runs, nodes, corpus, scratch, preload, rssFile, log } = run;
  const out: BenchResult[] = [];
  const params = { fragments: corpus.length, runs };
  const named = (name: string) => (run.label ? `${name}, ${run.label}` : name);
  const textBytes = corpus.reduce((sum, text) => sum + Buffer.byteLength(text), 0);
  const query = (corpus[42] as string).split(' ').slice(0, 2).join(' ');
  const commands: Array<{ case: string; args: string[] }> = [
    { case: 'aios memory search -k 3', args: ['memory', 'search', query, '-k', '3'] },
    { case: 'aios ask --offline', args: ['ask', '--offline', `what about ${query}?`] },
  ];
  const files = [join(home, 'aios.db'), join(home, 'aios.db-wal')];
  const onDisk = bytesOf(files) + bytesOf(indexFiles(home));
  out.push({
    suite: 'startup',
    case: named('home on disk'),
    subject: native,
    metric: 'mb',
    value: onDisk / 2 ** 20,
    params,
  });

  // Opening the system in-process (the memory with its indexes), then closing it:
  // first right after the files were written (checked in full), then, once they have
  // settled and an open recorded that check, as every later open finds them.
  const { config } = loadConfig({
    overrides: { home, native, logLevel: 'silent' },
    env: {},
  });
  {
    const start = performance.now();
    const opened = await createAios({ config, offline: true });
    await opened.memory.search(query, { k: 3 });
    const ms = performance.now() - start;
    await opened.close();
    out.push({
      suite: 'startup',
      case: named('open + first search, in-process, right after a write'),
      subject: native,
      metric: 'open_ms',
      value: ms,
      params,
    });
  }
  await sleep(SETTLE_MS);
  await (await createAios({ config, offline: true })).close();
  const opens: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const opened = await createAios({ config, offline: true });
    await opened.memory.search(query, { k: 3 });
    opens.push(performance.now() - start);
    await opened.close();
  }
  opens.sort((a, b) => a - b);
  out.push({
    suite: 'startup',
    case: named('open + first search, in-process'),
    subject: native,
    metric: 'p50_ms',
    value: percentile(opens, 50),
    params,
  });

  // A process that opens the memory alone and answers a search: what it holds,
  // against the bytes of what the memory holds (its index files and texts).
  {
    const measured: MemoryProcess[] = [];
    for (let i = 0; i < runs; i++) {
      measured.push(await memoryProcess(scratch, home, native, query));
    }
    const median = (pick: (m: MemoryProcess) => number) =>
      percentile(
        measured.map(pick).sort((a, b) => a - b),
        50,
      );
    const live = bytesOf(indexFiles(home)) + textBytes;
    const peak = median((m) => m.peak);
    const metrics: Array<[string, number]> = [
      ['p50_ms', median((m) => m.ms)],
      ['peak_rss_mb', peak / 2 ** 20],
      ['anon_mb', median((m) => m.anon) / 2 ** 20],
      ['mapped_file_mb', median((m) => m.file) / 2 ** 20],
      ['live_data_mb', live / 2 ** 20],
      ['peak_rss_per_live_data', peak / live],
    ];
    log(
      `startup ${native} memory process: ${measured.map((m) => `${m.ms.toFixed(0)} ms ${(m.peak / 2 ** 20).toFixed(0)} MB (anon ${(m.anon / 2 ** 20).toFixed(0)}, file ${(m.file / 2 ** 20).toFixed(0)})`).join(', ')}`,
    );
    for (const [metric, value] of metrics) {
      out.push({
        suite: 'startup',
        case: named('open + first search, a process of its own'),
        subject: native,
        metric,
        value,
        params,
      });
    }
  }

  const summarize = (name: string, measured: Run[]) => {
    const walls = measured.map((r) => r.wallMs).sort((a, b) => a - b);
    const rss = measured.map((r) => r.rssBytes).sort((a, b) => a - b);
    log(
      `startup ${native} ${name}: ${measured.map((r) => `${r.wallMs.toFixed(0)} ms ${(r.rssBytes / 2 ** 20).toFixed(0)} MB`).join(', ')}`,
    );
    out.push(
      {
        suite: 'startup',
        case: name,
        subject: native,
        metric: 'wall_p50_ms',
        value: percentile(walls, 50),
        params,
      },
      {
        suite: 'startup',
        case: name,
        subject: native,
        metric: 'rss_mb',
        value: percentile(rss, 50) / 2 ** 20,
        params,
      },
    );
  };
  const times = async (node: string, args: string[]) => {
    const measured: Run[] = [];
    for (let i = 0; i < runs; i++) {
      measured.push(await runCli(node, args, home, native, preload, rssFile));
    }
    return measured;
  };

  // Each command on this Node and on Node 22, whose compile cache the CLI turns on
  // (its first run fills the cache: not measured).
  for (const [node, on] of nodes) {
    await runCli(node, commands[0]?.args ?? [], home, native, preload, rssFile);
    for (const command of commands) {
      summarize(named(`${command.case} (${on})`), await times(node, command.args));
    }
  }

  // A note ingested at the prompt (a file changed each time: its fragment replaced), then
  // the search again: a few changes are left for the next open to replay from the history
  // rather than written into the index files again, which takes time with their size.
  {
    const note = join(scratch, `note-${native}-${corpus.length}.txt`);
    const ingests: Run[] = [];
    for (let i = 0; i < runs; i++) {
      writeFileSync(note, `a note written at the prompt, number ${i}: ${corpus[i]}\n`);
      ingests.push(
        await runCli(process.execPath, ['ingest', note], home, native, preload, rssFile),
      );
    }
    const on = `Node ${process.versions.node}`;
    summarize(named(`aios ingest <one note> (${on})`), ingests);
    const search = commands[0] as (typeof commands)[number];
    summarize(
      named(`${search.case}, after the notes (${on})`),
      await times(process.execPath, search.args),
    );
    // Then a folder of notes at once (once: it changes the home): more changes than the
    // next open may replay, so its close writes the index files again.
    const folder = join(scratch, `notes-${native}-${corpus.length}`);
    mkdirSync(folder, { recursive: true });
    for (let i = 0; i < FOLDER_NOTES; i++) {
      writeFileSync(
        join(folder, `note-${i}.md`),
        `a note in a folder, number ${i}: ${corpus[i + runs]}\n`,
      );
    }
    summarize(named(`aios ingest <a folder of ${FOLDER_NOTES} notes> (${on})`), [
      await runCli(process.execPath, ['ingest', folder], home, native, preload, rssFile),
    ]);
  }

  // Last, as its close may write the index files (their writeback would slow what runs
  // next): the first write after opening (natively: the rows are still mapped from the index
  // file, and that write copies them), with searches running one after the other
  // beside it: how long the slowest of them waited.
  {
    const opened = await createAios({ config, offline: true });
    await opened.memory.search(query, { k: 3 });
    const waits: number[] = [];
    let writing = true;
    const searching = (async () => {
      while (writing) {
        const start = performance.now();
        await opened.memory.search(query, { k: 3 });
        waits.push(performance.now() - start);
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const start = performance.now();
    await opened.memory.add(`${corpus[7]} written after opening`);
    const writeMs = performance.now() - start;
    writing = false;
    await searching;
    await opened.close();
    waits.sort((a, b) => a - b);
    out.push(
      {
        suite: 'startup',
        case: named('first write beside searches'),
        subject: native,
        metric: 'write_ms',
        value: writeMs,
        params,
      },
      {
        suite: 'startup',
        case: named('first write beside searches'),
        subject: native,
        metric: 'slowest_search_ms',
        value: waits.at(-1) ?? 0,
        params: { ...params, searches: waits.length },
      },
    );
  }

  return out;
}

export const startupSuite: Suite = {
  name: 'startup',
  description:
    'a command at the prompt on a seeded home: aios memory search and aios ask --offline on Node 20 and 22 (wall time, peak RSS), aios ingest of one note and of a folder of notes, opening the system in-process (right after a write, and once the files were checked), a process that opens the memory alone (time, RSS against the live data), and the slowest search beside the first write after opening; outside --quick the same natively on a 1M-fragment home',
  async run({ quick, scratch, log }) {
    const results: BenchResult[] = [];
    const size = quick ? 10_000 : 100_000;
    const runs = quick ? 2 : 5;
    const corpus = generateCorpus(size, 11);
    const preload = join(scratch, 'rss-preload.mjs');
    writeFileSync(preload, RSS_PRELOAD);
    const rssFile = join(scratch, 'rss');
    const nodes: Array<[string, string]> = [[process.execPath, `Node ${process.versions.node}`]];
    const other = node22();
    nodes.push([
      other,
      `Node ${execFileSync(other, ['--version'], { encoding: 'utf8' }).trim().slice(1)}`,
    ]);
    /** Seeds a home, measures it, removes it (a 1M-fragment one takes gigabytes). */
    const seedAndMeasure = async (
      native: 'native' | 'js',
      corpus: string[],
      name: string,
      runs: number,
      label?: string,
    ) => {
      const home = join(scratch, name);
      const started = performance.now();
      const { system } = await seededHome(home, native, corpus, ['admin'], (m) =>
        log(`startup ${m}`),
      );
      await system.close();
      log(
        `startup ${native}: ${corpus.length} fragments added in ${((performance.now() - started) / 1000).toFixed(0)} s`,
      );
      // The home's gigabytes written back to disk first, and the machine left to settle:
      // commands are measured as a user runs them, not while the kernel still flushes the
      // adds and frees the memory that made them (after the 1M adds it kept a core busy
      // for about 20 s in one run).
      execFileSync('sync');
      const waited = await quietMachine();
      log(`startup ${native}: the machine settled after ${(waited / 1000).toFixed(0)} s`);
      const run = { home, native, runs, corpus, nodes, scratch, preload, rssFile, log };
      results.push(...(await measureHome(label ? { ...run, label } : run)));
      await rm(home, { recursive: true, force: true });
    };
    // What each Node takes to start an empty program: the floor under every command.
    for (const [node, on] of nodes) {
      const variants: Array<[string, NodeJS.ProcessEnv]> = [[on, userEnv()]];
      if (process.env.NODE_EXTRA_CA_CERTS) {
        variants.push([`${on}, NODE_EXTRA_CA_CERTS set`, process.env]);
      }
      for (const [name, env] of variants) {
        results.push({
          suite: 'startup',
          case: `node -e 0 (${name})`,
          subject: 'node',
          metric: 'wall_p50_ms',
          value: nodeStart(node, env, 11),
          params: { runs: 11 },
        });
      }
    }
    for (const native of ['native', 'js'] as const) {
      await seedAndMeasure(native, corpus, `startup-${native}`, runs);
    }
    // A home ten times larger, natively (the js implementation adds too slowly to make one
    // in a bench run): the same measures.
    if (!quick) {
      await seedAndMeasure(
        'native',
        generateCorpus(1_000_000, 13),
        'startup-native-1m',
        5,
        '1M fragments',
      );
    }
    return results;
  },
};

/** The vector index files of a home (CARMA's checkpoints). */
function indexFiles(home: string): string[] {
  const dir = join(home, 'carma');
  try {
    return readdirSync(dir)
      .filter((name) => name.endsWith('.bin'))
      .map((name) => join(dir, name));
  } catch {
    return [];
  }
}
