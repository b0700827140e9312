import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '@aios/utils';
import { testImplementations } from '@aios/utils/testing';
import { describe, expect, it } from 'vitest';
import { createAios } from './aios.js';
import { chunkText } from './ingest.js';
import { cli, tempHomes } from './testing/cli.js';

// `aios ingest` of a large file stopped by SIGINT / SIGTERM once it reported progress: it
// stops between batches, keeps what it reported stored, closes the stores and says what it
// ingested. The signal is sent only after a progress line was seen, never on a timer.
const tempHome = tempHomes('aios-ingest-signal-');

/** About 12 MB of prose in numbered paragraphs: far more than is stored before the signal. */
function prose(): string {
  const out: string[] = [];
  for (let i = 0; i < 120_000; i++) {
    out.push(
      `Note ${i} says the heron fished at pond ${i % 17} at dawn.${i % 3 === 0 ? '\nA wrapped line.' : ''} It rained ${i % 5} times that week.\n\n`,
    );
  }
  return out.join('');
}

interface Stopped {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Fragments the last progress line before the signal reported stored. */
  reported: number;
  /** Milliseconds from the signal to the exit. */
  stopMs: number;
}

function ingestUntilProgress(
  home: string,
  file: string,
  impl: string,
  signal: NodeJS.Signals,
): Promise<Stopped> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, '--offline', 'ingest', file], {
      cwd: home,
      env: { PATH: process.env.PATH ?? '', AIOS_HOME: home, AIOS_NATIVE: impl },
    });
    let stdout = '';
    let stderr = '';
    let reported = -1;
    let sentAt = 0;
    child.stdout.on('data', (c) => {
      stdout += c;
    });
    child.stderr.on('data', (c) => {
      stderr += c;
      const progress = [...stderr.matchAll(/(\d+) fragments stored/g)].at(-1);
      if (progress && sentAt === 0) {
        reported = Number(progress[1]);
        sentAt = performance.now();
        child.kill(signal);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (sentAt === 0) reject(new Error(`ingest ended before any progress: ${stderr}`));
      else resolve({ code, stdout, stderr, reported, stopMs: performance.now() - sentAt });
    });
  });
}

describe.each(testImplementations())('a signal during a large ingest (AIOS_NATIVE=%s)', (impl) => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)(
    '%s: stops between batches, keeps what it reported, exits %i',
    async (signal, exitCode) => {
      const home = tempHome();
      const file = join(home, 'big.txt');
      const text = prose();
      writeFileSync(file, text);
      const chunks = chunkText(text, file);

      const run = await ingestUntilProgress(home, file, impl, signal);
      expect(run.stderr).not.toMatch(/\n\s+at /);
      expect(run.stderr).toContain(`aios: ${signal}, closing after the current step…\n`);
      expect(run.code).toBe(exitCode);
      // Promptly: the current batch (about a quarter of a second) and closing; generous here
      // for a busy machine, and far less than the rest of the file would take.
      expect(run.stopMs).toBeLessThan(15_000);
      const summary =
        /interrupted by (\w+): ingested 0 files and big\.txt up to line (\d+): (\d+) fragments added, (\d+) already known\n/.exec(
          run.stdout,
        );
      expect(summary?.[1]).toBe(signal);
      const added = Number(summary?.[3]);
      const stored = added + Number(summary?.[4]);
      expect(stored).toBeGreaterThanOrEqual(run.reported);
      expect(stored).toBeLessThan(chunks.length);
      expect(Number(summary?.[2])).toBe(chunks[stored - 1]?.line);

      // The database is whole and holds exactly the start of the file it reported.
      const { config } = loadConfig({ cwd: home, env: { AIOS_HOME: home, AIOS_NATIVE: impl } });
      const aios = await createAios({ config, offline: true });
      try {
        expect(await aios.data.integrityCheck()).toBe('ok');
        expect(aios.memory.stats().fragments).toBe(added);
        const texts = new Set((await aios.memory.list()).map((f) => f.text));
        for (const c of chunks.slice(0, stored)) expect(texts.has(c.text)).toBe(true);
        expect(texts.has((chunks[stored] as { text: string }).text)).toBe(false);
      } finally {
        await aios.close();
      }
    },
  );
});
