// Child process of crash.test.ts: adds batches of fragments to a memory forever, printing
// `ack <n>` once each batch is acknowledged, until the test kills it with SIGKILL.
import { openMemory } from '../dist/index.js';

const [dir, impl, base] = process.argv.slice(2);
// Index files written often, so that kills also land while one is being written.
const memory = await openMemory({ dir, native: impl, dimension: 64, checkpointEvery: 60 });
process.stdout.write('ready\n');
for (let batch = Number(base); ; batch++) {
  await memory.addMany(
    Array.from({ length: 20 }, (_, i) => ({
      text: `batch ${batch} item ${i}: reading ${(batch * 31 + i * 7) % 997} on sensor ${i}`,
      metadata: { batch },
    })),
  );
  if (batch % 3 === 0) await memory.search(`batch ${batch} item 3`, { k: 2 });
  process.stdout.write(`ack ${batch}\n`);
}
