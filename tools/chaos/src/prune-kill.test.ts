import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { testImplementations } from '@aios/utils/testing';
import { describe, expect, it } from 'vitest';
import {
  createdId,
  hashesUnder,
  KillClock,
  kill,
  mustRun,
  random,
  seed,
  sleep,
  snapshotIds,
  startCli,
  Tally,
  tempDirs,
  writeRandomFile,
} from './harness.js';
import { KILLS_PER_IMPLEMENTATION } from './settings.js';

const tally = new Tally('prune-kill');
const temp = tempDirs('aios-chaos-prune-');
const BLOB = 3 * 1024 * 1024;

describe.each(testImplementations())('forget --prune SIGKILLed (%s)', (impl) => {
  it('never loses the data of a snapshot it keeps', async () => {
    const rand = random(seed ^ (impl === 'js' ? 0x1f3d : 0x4e6c));
    const home = temp();
    /** What each snapshot holds: the file it was made with and its hash. */
    const held = new Map<string, { file: string; hash: string }>();
    let made = 0;
    const snapshot = () => {
      // One file per snapshot, the previous one gone: forgetting a snapshot frees its data.
      const file = `blob-${made}.bin`;
      if (made > 0) unlinkSync(join(home, 'files', `blob-${made - 1}.bin`));
      const hash = writeRandomFile(join(home, 'files', file), BLOB);
      made++;
      const id = createdId(mustRun(home, impl, ['backup', 'create', '--json']).stdout);
      tally.operations++;
      held.set(id, { file, hash });
    };
    for (let i = 0; i < 4; i++) snapshot();

    const clock = new KillClock(1500, rand);
    let kills = 0;
    for (
      let round = 0;
      kills < KILLS_PER_IMPLEMENTATION && round < 3 * KILLS_PER_IMPLEMENTATION;
      round++
    ) {
      snapshot();
      snapshot();
      const newest = snapshotIds(home, impl).slice(-2);
      const started = performance.now();
      const run = startCli(home, impl, ['backup', 'forget', '--keep-last', '2', '--prune']);
      await sleep(clock.delay());
      tally.operations++;
      if (await kill(run)) {
        tally.kills++;
        kills++;
      } else clock.finishedIn(performance.now() - started);
      // The two newest are kept whatever happened; every snapshot still listed is whole.
      const listed = snapshotIds(home, impl);
      for (const id of newest) expect(listed).toContain(id);
      const check = new Set([...newest, listed[0] as string]);
      for (const id of check) {
        const want = held.get(id) as { file: string; hash: string };
        const target = mkdtempSync(join(home, '..', 'aios-chaos-pruned-'));
        try {
          const r = mustRun(home, impl, ['backup', 'restore', id, '--target', target]);
          tally.operations++;
          tally.acknowledged++;
          const got = hashesUnder(target, new Set([want.file])).get(want.file);
          if (got !== want.hash) tally.lost++;
          expect(got, `${id} after a killed prune: ${r.stdout}`).toBe(want.hash);
        } finally {
          rmSync(target, { recursive: true, force: true });
        }
      }
    }
    // A complete run afterwards leaves a repository that verifies, data and all.
    mustRun(home, impl, ['backup', 'forget', '--keep-last', '2', '--prune']);
    mustRun(home, impl, ['backup', 'prune']);
    expect(mustRun(home, impl, ['backup', 'verify', '--read-data', '100']).code).toBe(0);
    expect(snapshotIds(home, impl)).toHaveLength(2);
  });
});
