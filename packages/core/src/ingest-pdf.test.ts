import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@aios/utils';
import { testImplementations, testPdf } from '@aios/utils/testing';
import { describe, expect, it } from 'vitest';
import { createAios } from './aios.js';
import { ingest } from './ingest.js';

// A PDF is read by PDF.js on a thread of its own: while a large one is read, the JS thread
// goes on answering (a server ingesting an upload answers its other requests).

/** A PDF of `count` pages of prose: seconds of PDF.js's work at a few hundred pages. */
function largePdf(count: number): Buffer {
  const words = 'the heron fished at the weir while the boiler was serviced every spring'.split(
    ' ',
  );
  const pages: string[][][] = [];
  for (let p = 0; p < count; p++) {
    const paragraphs: string[][] = [];
    for (let q = 0; q < 6; q++) {
      const lines: string[] = [];
      for (let l = 0; l < 7; l++) {
        const line = words.map((_, i) => words[(p + q * 3 + l + i) % words.length]).join(' ');
        lines.push(`${line} ${p}.${q}.${l}`);
      }
      paragraphs.push(lines);
    }
    pages.push(paragraphs);
  }
  return testPdf(pages);
}

/** The longest wait of a 5 ms timer, in ms, from now until `stop` is called. */
function stallMeter(): { stop: () => number } {
  let last = performance.now();
  let worst = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }, 5);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(worst, performance.now() - last);
    },
  };
}

describe.each(testImplementations())('ingest of a PDF (AIOS_NATIVE=%s)', (impl) => {
  const open = async () => {
    const home = mkdtempSync(join(tmpdir(), 'aios-ingest-pdf-'));
    const { config } = loadConfig({ cwd: home, env: { AIOS_HOME: home, AIOS_NATIVE: impl } });
    return { home, aios: await createAios({ config, offline: true }) };
  };

  it('keeps the JS thread answering while a large PDF is read', async () => {
    const { home, aios } = await open();
    try {
      const file = join(home, 'manual.pdf');
      writeFileSync(file, largePdf(300));
      const started = performance.now();
      const meter = stallMeter();
      let read: number | undefined;
      let stall = 0;
      const result = await ingest(aios, [file], {
        // The first batch is stored once the whole PDF was read.
        onProgress: () => {
          if (read !== undefined) return;
          read = performance.now() - started;
          stall = meter.stop();
        },
      });
      expect(result.files).toMatchObject([{ status: 'new', chunks: 300 * 12 }]);
      // Reading it takes about a second here; no wait of the timer is a fraction of that.
      expect(read).toBeGreaterThan(300);
      expect(stall).toBeLessThan((read as number) / 4);
    } finally {
      await aios.close();
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('stops while a large PDF is read: nothing of it stored, the run says it was interrupted', async () => {
    const { home, aios } = await open();
    try {
      const file = join(home, 'manual.pdf');
      writeFileSync(file, largePdf(1500));
      const stop = new AbortController();
      const timer = setTimeout(() => stop.abort('SIGINT'), 200);
      const started = performance.now();
      const result = await ingest(aios, [file], { signal: stop.signal });
      const took = performance.now() - started;
      clearTimeout(timer);
      expect(result.interrupted).toBe('SIGINT');
      expect(result.chunks).toBe(0);
      expect(aios.memory.stats().fragments).toBe(0);
      // Reading it whole takes seconds: the stop came well before.
      expect(took).toBeLessThan(1500);
      // The next PDF is read by a new thread.
      const small = join(home, 'note.pdf');
      writeFileSync(small, testPdf([[['The heron fished at dawn.']]]));
      expect((await ingest(aios, [small])).added).toBe(1);
    } finally {
      await aios.close();
      rmSync(home, { recursive: true, force: true });
    }
  });
});
