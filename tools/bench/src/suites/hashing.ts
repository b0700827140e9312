import { createHashing } from '@aios/utils';
import { blake3 as napiBlake3 } from '@napi-rs/blake-hash';
import { blake3 as nobleBlake3 } from '@noble/hashes/blake3.js';
import { measure } from '../measure.js';
import type { BenchResult, Suite } from '../types.js';

const MiB = 1024 * 1024;

function sizeLabel(bytes: number): string {
  return bytes >= MiB ? `${bytes / MiB}MiB` : `${bytes / 1024}KiB`;
}

export const hashingSuite: Suite = {
  name: 'hashing',
  description: 'BLAKE3 content ids of in-memory buffers',
  async run({ quick, log }) {
    const native = await createHashing({ native: 'native' });
    const js = await createHashing({ native: 'js' });
    const sizes = quick ? [1024, MiB, 8 * MiB] : [1024, MiB, 64 * MiB];
    const results: BenchResult[] = [];
    for (const bytes of sizes) {
      const data = new Uint8Array(bytes);
      for (let i = 0; i < bytes; i++) data[i] = (i * 31 + 7) & 0xff;
      const expected = native.hashSync(data);
      // Every subject must produce the same digest, or its figure means nothing.
      const peers = {
        '@napi-rs/blake-hash': () => napiBlake3(data).toString('hex'),
        '@noble/hashes': () => Buffer.from(nobleBlake3(data)).toString('hex'),
      };
      for (const [name, fn] of Object.entries(peers)) {
        if (fn() !== expected) throw new Error(`${name} disagrees on blake3 of ${bytes} bytes`);
      }
      if (js.hashSync(data) !== expected) throw new Error('js disagrees with native');

      const large = bytes >= 8 * MiB;
      const timeMs = quick ? 150 : large ? 2000 : 1000;
      log(`hashing ${sizeLabel(bytes)}`);
      const measured = await measure(
        [
          { subject: 'native', fn: large ? () => native.hash(data) : () => native.hashSync(data) },
          { subject: 'js', fn: () => js.hashSync(data) },
          ...Object.entries(peers).map(([subject, fn]) => ({ subject, fn })),
        ],
        { timeMs },
      );
      for (const m of measured) {
        results.push({
          suite: 'hashing',
          case: `blake3-${sizeLabel(bytes)}`,
          subject: m.subject,
          metric: 'mb_per_s',
          value: bytes / MiB / (m.p50_ms / 1000),
          params: { bytes, api: m.subject === 'native' && large ? 'hash (off-thread)' : 'sync' },
        });
      }
    }
    return results;
  },
};
