// Child process of follow.test.ts: opens the memory in `dir` and adds `batches` batches of
// fragments tagged `tag`, printing `ack <n>` once each is stored. With `hold`, it then
// waits for its stdin to end before it closes the memory.
import { openMemory } from '../dist/index.js';

const [dir, impl, tag, batches, hold] = process.argv.slice(2);
const memory = await openMemory({ dir, native: impl, dimension: 64 });
process.stdout.write('ready\n');
for (let batch = 0; batch < Number(batches); batch++) {
  await memory.addMany(
    Array.from(
      { length: 25 },
      (_, i) => `${tag} batch ${batch} note ${i}: marker${tag}x${batch}x${i}`,
    ),
  );
  process.stdout.write(`ack ${batch}\n`);
}
if (hold === 'hold') {
  process.stdin.resume();
  await new Promise((resolve) => process.stdin.on('end', resolve));
}
await memory.close();
process.stdout.write('closed\n');
