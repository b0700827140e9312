import type { Engine } from '../engine/types.js';
import type { SnapshotFile } from '../format.js';

// What the modules behind the Repository facade need of it: narrow views it implements,
// so that they never depend on the class itself.

/** A repository's directory and data-path engine: enough to read and check packs. */
export interface PackStore {
  readonly path: string;
  readonly engine: Engine;
}

/** A pack store that also reads its snapshot files, each checked against its id. */
export interface SnapshotStore extends PackStore {
  snapshotIds(): Promise<string[]>;
  loadSnapshot(idOrPrefix: string): Promise<SnapshotFile & { id: string }>;
}
