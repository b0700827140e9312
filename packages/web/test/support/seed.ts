import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadServerPackages } from '../../scripts/openapi.js';

const WORDS =
  'river stone lantern harbour meadow copper falcon orchard glacier violet canyon ember willow thistle beacon'.split(
    ' ',
  );

/** The text of seeded fragment `i`: two of fifteen words, a day and a code, all distinct. */
export function seededText(i: number): string {
  const a = WORDS[i % WORDS.length];
  const b = WORDS[(i * 7 + 3) % WORDS.length];
  return `Note ${i}: the ${a} near the ${b} was logged on day ${i % 365} with code ${i.toString(36)}.`;
}

interface SeedCore {
  loadConfig(o: { overrides: Record<string, unknown>; env: Record<string, string> }): {
    config: unknown;
  };
  createAios(o: { config: unknown; offline: boolean }): Promise<{
    memory: { addMany(inputs: Array<{ text: string; namespace: string }>): Promise<unknown> };
    close(): Promise<void>;
  }>;
}

/** A home holding `count` fragments, written in-process (the server is started on it after). */
export async function seededHome(count: number): Promise<string> {
  const home = mkdtempSync(join(tmpdir(), 'aios-web-seed-'));
  const core = loadServerPackages().core as unknown as SeedCore;
  const { config } = core.loadConfig({ overrides: { home, logLevel: 'silent' }, env: {} });
  const aios = await core.createAios({ config, offline: true });
  try {
    for (let i = 0; i < count; i += 1000) {
      const batch: Array<{ text: string; namespace: string }> = [];
      for (let j = i; j < Math.min(count, i + 1000); j++) {
        batch.push({ text: seededText(j), namespace: 'notes' });
      }
      await aios.memory.addMany(batch);
    }
  } finally {
    await aios.close();
  }
  return home;
}
