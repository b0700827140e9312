import { join } from 'node:path';
import type { Implementation } from '@aios/utils';
import { testImplementations } from '@aios/utils/testing';
import { describe, expect, it } from 'vitest';
import {
  cleanFailure,
  doctorPasses,
  ingestAcks,
  missingMarkers,
  mustRun,
  readHome,
  startCli,
  Tally,
  tempDirs,
  writeNotes,
} from './harness.js';

const tally = new Tally('concurrent');
const temp = tempDirs('aios-chaos-concurrent-');
const impls = testImplementations();
const pairs: Array<[Implementation, Implementation]> = impls.flatMap((a) =>
  impls.map((b): [Implementation, Implementation] => [a, b]),
);

describe.each(pairs)('two writers on one home (%s + %s)', (first, second) => {
  it('serves both or refuses one with DATA_BUSY, and never damages or loses data', async () => {
    const home = temp();
    mustRun(home, first, ['memory', 'stats']);
    const a = writeNotes(join(home, 'a'), 'a', 60);
    const b = writeNotes(join(home, 'b'), 'b', 60);
    const runA = startCli(home, first, ['ingest', join(home, 'a')]);
    const runB = startCli(home, second, ['ingest', join(home, 'b')]);
    const [endA, endB] = await Promise.all([runA.exited, runB.exited]);
    tally.operations += 2;
    const outcomes = [
      { end: endA, run: runA, markers: a },
      { end: endB, run: runB, markers: b },
    ];
    let refused = 0;
    const wanted: string[] = [];
    for (const { end, run, markers } of outcomes) {
      const failure = cleanFailure({ ...end, stdout: run.lines.join('\n'), stderr: run.stderr() });
      expect(failure, 'a writer failed without a coded error').toBeUndefined();
      if (end.code !== 0) {
        // Refused at open (another implementation holds the home): it names the holder's pid.
        expect(run.stderr()).toMatch(/\[DATA_BUSY\]/);
        expect(run.stderr()).toMatch(/process \d+/);
        refused++;
      }
      for (const file of ingestAcks(run.lines)) wanted.push(markers.get(file) as string);
    }
    // Several native processes share one home; anything else is one process at a time.
    if (first === 'native' && second === 'native') expect(refused).toBe(0);
    expect(refused).toBeLessThan(2);
    for (const impl of new Set([first, second])) {
      const { texts, integrity } = await readHome(home, impl);
      expect(integrity).toBe('ok');
      tally.acknowledged += wanted.length;
      const missing = missingMarkers(texts, wanted);
      tally.lost += missing.length;
      expect(missing).toEqual([]);
      expect(new Set(texts).size).toBe(texts.length);
    }
    doctorPasses(home, first === 'js' || second === 'js' ? 'js' : 'native');
    // The home stays usable by both implementations, with every note searchable.
    mustRun(home, second, ['ingest', join(home, 'a'), join(home, 'b')]);
    const stats = JSON.parse(mustRun(home, first, ['memory', 'stats', '--json']).stdout);
    expect(stats.fragments).toBe(120);
    const marker = [...b.values()][13] as string;
    expect(mustRun(home, first, ['memory', 'search', marker]).stdout).toContain(marker);
  });
});
