// Child process of crash.test.ts: writes batches forever, printing `ack <n>` after each
// batch is committed, until the test kills it with SIGKILL.
import { openDataStore } from '../dist/index.js';

const [path, impl, base] = process.argv.slice(2);
const store = await openDataStore({ path, native: impl });
process.stdout.write('ready\n');
for (let batch = Number(base); ; batch++) {
  await store.fragments.put(
    Array.from({ length: 50 }, (_, i) => ({
      id: `b${batch}-${i}`,
      text: `batch ${batch} fragment ${i} `.repeat(8),
      metadata: { batch },
      vector: new Float32Array(32).fill(batch % 1000),
    })),
  );
  await store.events.add([{ type: 'batch', value: batch }]);
  process.stdout.write(`ack ${batch}\n`);
}
