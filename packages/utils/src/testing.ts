import type { Implementation } from './native/index.js';

/**
 * The implementations a test suite should run: both by default, or the comma-separated
 * list in `AIOS_TEST_IMPLEMENTATIONS` (e.g. `js` on a machine without Rust).
 * Use with `describe.each(testImplementations())`.
 */
export function testImplementations(env: NodeJS.ProcessEnv = process.env): Implementation[] {
  const raw = env.AIOS_TEST_IMPLEMENTATIONS;
  if (!raw) return ['native', 'js'];
  const list = raw.split(',').map((s) => s.trim());
  for (const item of list) {
    if (item !== 'native' && item !== 'js') {
      throw new Error(`AIOS_TEST_IMPLEMENTATIONS: unknown implementation ${JSON.stringify(item)}`);
    }
  }
  return list as Implementation[];
}
