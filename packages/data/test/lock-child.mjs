// Child process of lock.test.ts: opens a store and writes batches of fragments, printing
// `ack <n>` once each is committed. `hold`: after the first batch, keeps the store open
// until its stdin ends, then closes it. `write`: writes `count` batches and closes.
// A refused open prints `refused <code> <message>` and exits with 3.
import { openDataStore } from '../dist/index.js';

const [path, impl, mode, tag, count = '1'] = process.argv.slice(2);
let store;
try {
  store = await openDataStore({ path, native: impl, operation: `lock test ${tag}` });
} catch (error) {
  process.stdout.write(`refused ${error.code} ${error.message}\n`);
  process.exit(3);
}
const batches = mode === 'hold' ? 1 : Number(count);
for (let batch = 0; batch < batches; batch++) {
  await store.fragments.put(
    Array.from({ length: 20 }, (_, i) => ({
      id: `${tag}-${batch}-${i}`,
      text: `${tag} batch ${batch} fragment ${i} `.repeat(20),
      vector: new Float32Array(16).fill(batch + 1),
    })),
  );
  process.stdout.write(`ack ${batch}\n`);
}
if (mode === 'hold') {
  process.stdin.resume();
  await new Promise((resolve) => process.stdin.on('end', resolve));
}
await store.close();
process.stdout.write('closed\n');
