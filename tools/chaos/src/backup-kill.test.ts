import { mkdtempSync, rmSync } from 'node:fs';
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
  seed,
  sleep,
  snapshotIds,
  startCli,
  Tally,
  tempDirs,
  writeNotes,
  writeRandomFile,
} from './harness.js';
import { KILLS_PER_IMPLEMENTATION } from './settings.js';

const tally = new Tally('backup-create-kill');
const temp = tempDirs('aios-chaos-backup-');
const BLOB = 12 * 1024 * 1024;

describe.each(testImplementations())('backup create SIGKILLed at random points (%s)', (impl) => {
  it('keeps every snapshot it reported, each restoring exactly the data it held', async () => {
    const rand = random(seed ^ (impl === 'js' ? 0x51ed : 0x2c1b));
    const home = temp();
    writeNotes(join(home, 'notes'), 'n', 30);
    mustRun(home, impl, ['ingest', join(home, 'notes')]);
    const files = new Map<string, string>();
    files.set('blob-base.bin', writeRandomFile(join(home, 'files', 'blob-base.bin'), BLOB));

    /** Snapshots reported created, with the file hashes they must restore. */
    const acked = new Map<string, Map<string, string>>();
    const create = () => {
      const started = performance.now();
      const id = createdId(mustRun(home, impl, ['backup', 'create', '--json']).stdout);
      tally.operations++;
      acked.set(id, new Map(files));
      return performance.now() - started;
    };
    const full = create();

    const clock = new KillClock(full, rand);
    let kills = 0;
    for (
      let round = 0;
      kills < KILLS_PER_IMPLEMENTATION && round < 3 * KILLS_PER_IMPLEMENTATION;
      round++
    ) {
      const name = `blob-${round}.bin`;
      files.set(name, writeRandomFile(join(home, 'files', name), BLOB / 2));
      const started = performance.now();
      const run = startCli(home, impl, ['backup', 'create', '--json']);
      await sleep(clock.delay());
      tally.operations++;
      if (await kill(run)) {
        tally.kills++;
        kills++;
      } else {
        clock.finishedIn(performance.now() - started);
        if ((await run.exited).code === 0)
          acked.set(createdId(run.lines.join('\n')), new Map(files));
      }
      // Every snapshot reported so far is still listed; the repository takes new ones.
      const listed = new Set(snapshotIds(home, impl));
      for (const id of acked.keys()) {
        if (!listed.has(id)) tally.lost++;
        expect(listed.has(id), `round ${round}: snapshot ${id} lost`).toBe(true);
      }
      if (round % 3 === 2) create();
    }
    create();
    expect(mustRun(home, impl, ['backup', 'verify', '--read-data', '100']).code).toBe(0);
    // Each acknowledged snapshot restores the bytes it held (the first, the last, and two between).
    const ids = [...acked.keys()];
    const sample = new Set([ids[0], ids[Math.floor(ids.length / 3)], ids.at(-2), ids.at(-1)]);
    for (const id of sample) {
      if (!id) continue;
      const want = acked.get(id) as Map<string, string>;
      const target = mkdtempSync(join(home, '..', 'aios-chaos-restored-'));
      try {
        mustRun(home, impl, ['backup', 'restore', id, '--target', target]);
        tally.operations++;
        const got = hashesUnder(target, new Set(want.keys()));
        for (const [file, hash] of want) {
          tally.acknowledged++;
          if (got.get(file) !== hash) tally.lost++;
          expect(got.get(file), `${id}: ${file}`).toBe(hash);
        }
      } finally {
        rmSync(target, { recursive: true, force: true });
      }
    }
    doctorPasses(home, impl);
    const { integrity } = await readHome(home, impl);
    expect(integrity).toBe('ok');
  });
});
