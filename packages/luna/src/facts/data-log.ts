/**
 * The log of memory changes in the SQLite store (@aios/data): each change, and each undo,
 * is a new version of the state `<personality>.memory` of the personality table (the same
 * versioned, per-name JSON states the personality is kept in). No schema of its own; one
 * write per record, so a change and its record can share a transaction of the store.
 */
import type { DataStore, JsonObject } from '@aios/data';
import type { MemoryChange, MemoryChangeLog } from './types.js';

type Entry =
  | { kind: 'change'; change: MemoryChange }
  | { kind: 'undo'; id: string; at: string; restoredAs?: string };

export function dataMemoryChangeLog(store: DataStore, name: string): MemoryChangeLog {
  return {
    async recordMemoryChanges(changes) {
      for (const change of changes) {
        const entry: Entry = { kind: 'change', change };
        await store.personality.save(name, entry as unknown as JsonObject);
      }
    },

    async listMemoryChanges() {
      // Newest first: read back in the order written.
      const rows = await store.personality.history(name, { limit: 1_000_000 });
      const byId = new Map<string, MemoryChange>();
      for (let i = rows.length - 1; i >= 0; i--) {
        const entry = rows[i]?.state as unknown as Entry | undefined;
        if (entry?.kind === 'change' && typeof entry.change?.id === 'string') {
          byId.set(entry.change.id, { ...entry.change });
        } else if (entry?.kind === 'undo') {
          const change = byId.get(entry.id);
          if (change) {
            change.undone = true;
            change.undoneAt = entry.at;
            if (entry.restoredAs) change.restoredAs = entry.restoredAs;
          }
        }
      }
      return [...byId.values()];
    },

    async markMemoryChangeUndone(id, at, restoredAs) {
      const entry: Entry = { kind: 'undo', id, at, ...(restoredAs ? { restoredAs } : {}) };
      await store.personality.save(name, entry as unknown as JsonObject);
    },
  };
}
