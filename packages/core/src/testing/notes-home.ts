import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@aios/utils';
import { type Aios, createAios } from '../aios.js';

/**
 * Runs `run` on a system (offline, implementation `impl`) in a fresh home with an empty
 * `notes` folder to ingest from, then closes it and removes the home.
 */
export async function withNotesHome(
  impl: string,
  run: (aios: Aios, notes: string) => Promise<void>,
): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'aios-notes-home-'));
  const { config } = loadConfig({ cwd: home, env: { AIOS_HOME: home, AIOS_NATIVE: impl } });
  const aios = await createAios({ config, offline: true });
  const notes = join(home, 'notes');
  mkdirSync(notes);
  try {
    await run(aios, notes);
  } finally {
    await aios.close();
    rmSync(home, { recursive: true, force: true });
  }
}
