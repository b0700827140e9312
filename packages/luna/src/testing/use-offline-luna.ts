import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@aios/utils';
import { afterAll, beforeAll } from 'vitest';
import { type OpenedLuna, openLuna } from '../open.js';

type Notes = Parameters<OpenedLuna['carma']['addMany']>[0];

/** A short Markdown note at `/notes/<file>`, stored as `aios ingest` stores one (one fragment). */
export function markdownNote(file: string, text: string): Notes[number] {
  return { text, metadata: { source: `/notes/${file}`, line: 1, offset: 0, kind: 'markdown' } };
}

/**
 * Luna without a language model on the real cores of implementation `impl`, in a home of
 * its own holding `notes`: opened before the tests of the suite, closed and removed after
 * them. Call it at the top of a `describe`; read `.current` inside its tests.
 */
export function useOfflineLuna(impl: string, notes: () => Notes): { readonly current: OpenedLuna } {
  let dir: string | undefined;
  let luna: OpenedLuna | undefined;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'luna-offline-'));
    const { config } = loadConfig({
      cwd: dir,
      env: { AIOS_HOME: dir },
      overrides: { native: impl },
    });
    luna = await openLuna({ config, llm: null });
    await luna.carma.addMany(notes());
  });
  afterAll(async () => {
    await luna?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return {
    get current() {
      if (!luna) throw new Error('the offline Luna is opened in beforeAll');
      return luna;
    },
  };
}
