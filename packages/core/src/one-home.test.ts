import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { implementation, openDataStore } from '@aios/data';
import type { Implementation } from '@aios/utils';
import { testImplementations } from '@aios/utils/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, expectOneLineError, runCli, tempHomes } from './testing/cli.js';

// Several processes on one home, through the built CLI: native processes share it, a js
// one has it alone, and neither damages what the other wrote.

const tempHome = tempHomes('aios-one-home-');
const impls = testImplementations();
const native = impls.includes('native') && implementation('auto').implementation === 'native';
if (impls.includes('native') && !native) {
  console.warn(
    'one-home.test.ts: no native binary here; the cases with native processes are skipped',
  );
}
const usable = impls.filter((i) => i === 'js' || native);

beforeAll(() => {
  if (!existsSync(cli))
    throw new Error('one-home.test.ts runs the built CLI: run `pnpm --filter @aios/core build`');
});

const env = (impl: Implementation) => ({ AIOS_NATIVE: impl, NO_COLOR: '1' });

/** A folder of notes, each paragraph with a marker word of its own. */
function writeNotes(dir: string, tag: string, files: number, paragraphs: number): string[] {
  mkdirSync(dir, { recursive: true });
  const markers: string[] = [];
  for (let f = 0; f < files; f++) {
    const text = Array.from({ length: paragraphs }, (_, p) => {
      const marker = `${tag}mark${f}x${p}`;
      markers.push(marker);
      // Long enough that each paragraph is a chunk (a fragment) of its own.
      return `Note ${p} of ${tag} file ${f} mentions ${marker} among the ${tag} harbour records. ${'The tide tables, the pilot logs and the mooring fees are kept with it. '.repeat(4)}`;
    }).join('\n\n');
    writeFileSync(join(dir, `${tag}-${f}.md`), `${text}\n`);
  }
  return markers;
}

/** `aios --offline chat` holding the home: answers lines written to it until its stdin ends. */
function startChat(home: string, impl: Implementation) {
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    [cli, '--offline', 'chat'],
    {
      cwd: home,
      env: { PATH: process.env.PATH ?? '', AIOS_HOME: home, ...env(impl) },
    },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
  /** Asks a question and resolves once the answer is printed (the exchange is stored). */
  const ask = (question: string) =>
    new Promise<void>((resolve, reject) => {
      const answers = (out.match(/\[offline\]/g) ?? []).length;
      const look = () => {
        if ((out.match(/\[offline\]/g) ?? []).length > answers && out.endsWith('\n')) resolve();
      };
      child.stdout.on('data', look);
      exit.then((code) => reject(new Error(`chat exited ${code}: ${err}`)));
      child.stdin.write(`${question}\n`);
    });
  return { child, ask, exit, stderr: () => err };
}

async function checkDatabase(home: string, impl: Implementation) {
  const data = await openDataStore({ path: join(home, 'aios.db'), native: impl });
  try {
    const labels = (await data.fragments.list({ limit: 100_000, vectors: false })).map(
      (f) => f.attributes.label as number,
    );
    return {
      integrity: await data.integrityCheck(),
      fragments: labels.length,
      distinctLabels: new Set(labels).size,
      messages: await data.messages.count(),
    };
  } finally {
    await data.close();
  }
}

const pairs = usable.flatMap((a) => usable.map((b): [Implementation, Implementation] => [a, b]));

describe.each(pairs.filter(([a, b]) => a === 'js' || b === 'js'))(
  'a %s process holding the home, then a %s ingest',
  (first, second) => {
    it('refuses the ingest with DATA_BUSY naming the holder, and loses nothing', async () => {
      const home = tempHome();
      const markers = writeNotes(join(home, 'seed'), 'seed', 1, 6);
      expect(runCli(home, ['ingest', join(home, 'seed')], env(first)).code).toBe(0);
      writeNotes(join(home, 'more'), 'more', 2, 5);
      const chat = startChat(home, first);
      await chat.ask(`what mentions ${markers[2]}?`);
      const refused = runCli(home, ['ingest', join(home, 'more')], env(second));
      expect(refused.code).toBe(1);
      expectOneLineError(refused.stderr, 'DATA_BUSY');
      expect(refused.stderr).toContain(
        `aios.db is in use by process ${chat.child.pid} (aios --offline chat, ${first} implementation)`,
      );
      await chat.ask('and the harbour records?');
      chat.child.stdin.end();
      expect(await chat.exit).toBe(0);
      // Both answers (question and answer each) and every seeded note are there, intact.
      expect(await checkDatabase(home, second)).toEqual({
        integrity: 'ok',
        fragments: 6,
        distinctLabels: 6,
        messages: 4,
      });
      // The lease went with the chat: the ingest now runs.
      expect(runCli(home, ['ingest', join(home, 'more')], env(second)).code).toBe(0);
      expect(
        runCli(home, ['memory', 'search', 'moremark1x3', '--json'], env(first)).stdout,
      ).toContain('moremark1x3');
    }, 120_000);
  },
);

describe.runIf(native)('native processes on one home', () => {
  it('ingest at once, share no label, and a third process finds every note', async () => {
    const home = tempHome();
    expect(runCli(home, ['memory', 'stats'], env('native')).code).toBe(0);
    const a = writeNotes(join(home, 'a'), 'alpha', 6, 40);
    const b = writeNotes(join(home, 'b'), 'beta', 6, 40);
    const run = (dir: string) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [cli, 'ingest', join(home, dir)], {
          cwd: home,
          env: { PATH: process.env.PATH ?? '', AIOS_HOME: home, ...env('native') },
        });
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
        });
        child.on('exit', (code) => resolve({ code, stderr }));
      });
    const results = await Promise.all([run('a'), run('b')]);
    for (const r of results) expect(r, r.stderr).toMatchObject({ code: 0 });
    const db = await checkDatabase(home, 'native');
    expect(db.integrity).toBe('ok');
    expect(db.distinctLabels).toBe(db.fragments);
    const stats = JSON.parse(runCli(home, ['memory', 'stats', '--json'], env('native')).stdout);
    expect(stats.fragments).toBe(db.fragments);
    for (const marker of [a[0], a[123], a[239], b[0], b[77], b[239]] as string[]) {
      const found = runCli(home, ['memory', 'search', marker, '--json'], env('native')).stdout;
      expect(found).toContain(marker);
    }
  }, 120_000);
});

describe.each(usable)('a SIGKILLed %s process holding the home', (first) => {
  it('does not keep the next process out', async () => {
    const home = tempHome();
    writeNotes(join(home, 'seed'), 'seed', 1, 4);
    expect(runCli(home, ['ingest', join(home, 'seed')], env(first)).code).toBe(0);
    const chat = startChat(home, first);
    await chat.ask('what do the harbour records say?');
    chat.child.kill('SIGKILL');
    await chat.exit;
    for (const next of usable) {
      writeNotes(join(home, next), next, 1, 3);
      const r = runCli(home, ['ingest', join(home, next)], env(next));
      expect(r.code, r.stderr).toBe(0);
    }
    expect((await checkDatabase(home, first)).integrity).toBe('ok');
  }, 120_000);
});
