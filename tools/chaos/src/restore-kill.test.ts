import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { testImplementations } from '@aios/utils/testing';
import { describe, expect, it } from 'vitest';
import {
  createdId,
  doctorPasses,
  hashesUnder,
  KillClock,
  kill,
  mustRun,
  random,
  readHome,
  restoreLeftovers,
  seed,
  sleep,
  startCli,
  Tally,
  tempDirs,
  writeNotes,
  writeRandomFile,
} from './harness.js';
import { KILLS_PER_IMPLEMENTATION } from './settings.js';

const tally = new Tally('restore-kill');
const temp = tempDirs('aios-chaos-restore-');
const BLOB = 16 * 1024 * 1024;

const fragments = (home: string, impl: 'native' | 'js') =>
  JSON.parse(mustRun(home, impl, ['memory', 'stats', '--json']).stdout).fragments as number;

describe.each(testImplementations())('restore in place SIGKILLed (%s)', (impl) => {
  it('leaves a usable home holding one snapshot or the other, then restores cleanly', async () => {
    const rand = random(seed ^ (impl === 'js' ? 0x3a5f : 0x6b2d));
    const home = temp();
    // Two states of the home, each in a snapshot: 30 notes and one file, then 50 and another.
    writeNotes(join(home, 'notes-a'), 'a', 30);
    mustRun(home, impl, ['ingest', join(home, 'notes-a')]);
    const blobA = writeRandomFile(join(home, 'files', 'blob.bin'), BLOB);
    const first = createdId(mustRun(home, impl, ['backup', 'create', '--json']).stdout);
    writeNotes(join(home, 'notes-b'), 'b', 20);
    mustRun(home, impl, ['ingest', join(home, 'notes-b')]);
    const blobB = writeRandomFile(join(home, 'files', 'blob.bin'), BLOB);
    const second = createdId(mustRun(home, impl, ['backup', 'create', '--json']).stdout);
    const states = new Map([
      [first, { fragments: 30, blob: blobA }],
      [second, { fragments: 50, blob: blobB }],
    ]);

    const started = performance.now();
    mustRun(home, impl, ['backup', 'restore', first]);
    const full = performance.now() - started;
    expect(fragments(home, impl)).toBe(30);

    const clock = new KillClock(full, rand);
    let kills = 0;
    for (
      let round = 0;
      kills < KILLS_PER_IMPLEMENTATION && round < 3 * KILLS_PER_IMPLEMENTATION;
      round++
    ) {
      const id = round % 2 === 0 ? second : first;
      const started = performance.now();
      const run = startCli(home, impl, ['backup', 'restore', id]);
      await sleep(clock.delay());
      tally.operations++;
      if (await kill(run)) {
        tally.kills++;
        kills++;
      } else clock.finishedIn(performance.now() - started);
      // Whatever the moment of the kill, the home opens and holds one of the two states.
      const count = fragments(home, impl);
      expect([30, 50], `round ${round}: ${count} fragments after the kill`).toContain(count);
      const { integrity } = await readHome(home, impl);
      expect(integrity).toBe('ok');
      // Running the restore again completes it.
      mustRun(home, impl, ['backup', 'restore', id]);
      tally.operations++;
      const want = states.get(id) as { fragments: number; blob: string };
      tally.acknowledged += want.fragments + 1;
      const got = fragments(home, impl);
      const blob = hashesUnder(join(home, 'files'), new Set(['blob.bin'])).get('blob.bin');
      if (got !== want.fragments) tally.lost += Math.abs(want.fragments - got);
      if (blob !== want.blob) tally.lost++;
      expect(got).toBe(want.fragments);
      expect(blob).toBe(want.blob);
      expect(restoreLeftovers(home), 'staging folders left by killed restores').toEqual([]);
    }
    doctorPasses(home, impl);
  });
});
