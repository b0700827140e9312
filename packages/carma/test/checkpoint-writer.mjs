// Child process of checkpoint-lock.test.ts: opens the memory in `dir` and, `rounds` times,
// adds a batch of fragments tagged `tag` and flushes with no replay allowed, so that every
// round writes the index files (as a server's checkpoints do), racing the other writers.
import { openMemory } from '../dist/index.js';

const [dir, tag, rounds] = process.argv.slice(2);
const memory = await openMemory({ dir, native: 'native', dimension: 64, replayLimit: 0 });
for (let round = 0; round < Number(rounds); round++) {
  await memory.addMany(
    Array.from(
      { length: 10 },
      (_, i) => `${tag} round ${round} note ${i}: mark${tag}r${round}n${i}`,
    ),
  );
  await memory.flush();
}
await memory.close();
