import { join } from 'node:path';
import { testImplementations } from '@aios/utils/testing';
import { describe, expect, it } from 'vitest';
import {
  doctorPasses,
  ingestAcks,
  kill,
  missingMarkers,
  mustRun,
  random,
  readHome,
  seed,
  sleep,
  startCli,
  Tally,
  tempDirs,
  writeNotes,
} from './harness.js';
import { KILLS_PER_IMPLEMENTATION } from './settings.js';

const tally = new Tally('ingest-kill');
const temp = tempDirs('aios-chaos-ingest-');

describe.each(testImplementations())('ingest SIGKILLed at random points (%s)', (impl) => {
  it('keeps every file it acknowledged, never twice, and the home stays usable', async () => {
    const rand = random(seed ^ (impl === 'js' ? 0x9e37 : 0x7f4a));
    const home = temp();
    const expected = new Map<string, string>();
    let kills = 0;
    for (
      let round = 0;
      kills < KILLS_PER_IMPLEMENTATION && round < 3 * KILLS_PER_IMPLEMENTATION;
      round++
    ) {
      const notes = join(home, 'inbox', `round${round}`);
      const markers = writeNotes(notes, `r${round}`, 40);
      for (const [file, marker] of markers) expected.set(file, marker);
      const run = startCli(home, impl, ['ingest', notes]);
      // Kill only once the run has acknowledged at least one file, after a random extra delay.
      const acksBefore = 1 + Math.floor(rand() * 4);
      for (let i = 0; i < acksBefore; i++) {
        await run.waitForLine(/: \d+ fragments?, /).catch(() => undefined);
        if (ingestAcks(run.lines).length >= acksBefore) break;
      }
      await sleep(Math.floor(rand() * 120));
      tally.operations++;
      if (await kill(run)) {
        tally.kills++;
        kills++;
      }
      const acked = ingestAcks(run.lines);
      expect(acked.length, `round ${round}: nothing acknowledged before the kill`).toBeGreaterThan(
        0,
      );

      const { texts, integrity } = await readHome(home, impl);
      expect(integrity).toBe('ok');
      const wanted = acked.map((f) => markers.get(f) as string);
      tally.acknowledged += wanted.length;
      const missing = missingMarkers(texts, wanted);
      tally.lost += missing.length;
      expect(missing, `round ${round}: acknowledged files lost`).toEqual([]);
      expect(new Set(texts).size, 'a fragment stored twice').toBe(texts.length);
    }
    // Resuming completes what was interrupted, adding each note exactly once.
    mustRun(home, impl, ['ingest', join(home, 'inbox')]);
    tally.operations++;
    const { texts, integrity } = await readHome(home, impl);
    expect(integrity).toBe('ok');
    expect(missingMarkers(texts, expected.values())).toEqual([]);
    expect(texts.length).toBe(expected.size);
    doctorPasses(home, impl);
    const stats = mustRun(home, impl, ['memory', 'stats', '--json']);
    expect(JSON.parse(stats.stdout).fragments).toBe(expected.size);
    const hit = mustRun(home, impl, ['memory', 'search', [...expected.values()][7] as string]);
    expect(hit.stdout).toContain([...expected.values()][7]);
  });
});
