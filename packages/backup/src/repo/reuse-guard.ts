import type { IndexFile } from '../format.js';
import type { ChunkLocation } from './chunk-index.js';
import { isCurrent, type PackCheck, packStats, recordPackCheck } from './pack-checks.js';
import { checkPackData } from './read-pack.js';
import type { PackStore } from './stores.js';

/** A stored chunk found damaged while a backup was about to reuse it. */
export interface DamagedCopy {
  chunk: string;
  pack: string;
  /** Another intact copy of the chunk is used instead. */
  relocated: boolean;
}

/**
 * Makes sure a backup reuses only chunks whose stored copy is intact. A pack whose check
 * record is current (nothing wrote to it since it was written or last read whole) is
 * trusted; any other pack holding a chunk about to be reused is read whole first. A
 * damaged copy is recorded, and the chunk is pointed at another intact copy or dropped
 * from `index`, so that the backup stores it again from the live data.
 */
export class ReuseGuard {
  private readonly proven = new Set<string>();
  private readonly files: Map<string, IndexFile>;
  readonly damaged: DamagedCopy[] = [];

  constructor(
    private readonly repo: PackStore,
    /** The chunks the backup may reuse, at the copy it would use (updated in place). */
    private readonly index: Map<string, ChunkLocation>,
    files: IndexFile[],
    private readonly checks: Map<string, PackCheck>,
  ) {
    this.files = new Map(files.map((f) => [f.pack, f]));
  }

  /** A pack this backup wrote: its bytes are known. */
  written(pack: string): void {
    this.proven.add(pack);
  }

  /** Checks the packs holding `ids` (those the index has) that are not proven yet. */
  async ensure(ids: Iterable<string>, signal?: AbortSignal): Promise<void> {
    let pending = new Set(ids);
    while (pending.size > 0) {
      const packs = new Set<string>();
      for (const id of pending) {
        const loc = this.index.get(id);
        if (loc && !this.proven.has(loc.pack)) packs.add(loc.pack);
      }
      const moved = new Set<string>();
      for (const pack of packs) {
        if (signal?.aborted) return;
        for (const id of await this.checkPack(pack)) moved.add(id);
      }
      // Chunks re-pointed at another copy: that copy's pack may need a check too.
      pending = moved;
    }
  }

  /** Proves one pack; returns the chunks re-pointed at another copy. */
  private async checkPack(pack: string): Promise<string[]> {
    const before = await packStats(this.repo.path, pack);
    let damaged: string[];
    if (isCurrent(this.checks.get(pack), before)) {
      damaged = this.checks.get(pack)?.damaged ?? [];
    } else {
      const file = this.files.get(pack);
      if (!before || !file) {
        damaged = file ? file.blobs.map((b) => b.id) : [];
      } else {
        try {
          damaged = (await checkPackData(this.repo, file)).damaged;
          const check = await recordPackCheck(this.repo.path, pack, before, damaged);
          if (check) this.checks.set(pack, check);
        } catch {
          damaged = file.blobs.map((b) => b.id); // unreadable: nothing in it is reused
        }
      }
    }
    this.proven.add(pack);
    const moved: string[] = [];
    for (const id of damaged) {
      const loc = this.index.get(id);
      if (!loc || loc.pack !== pack) continue;
      let other = loc.next;
      while (other && (other.damaged || other.pack === pack)) other = other.next;
      this.damaged.push({ chunk: id, pack, relocated: other !== undefined });
      if (other) {
        this.index.set(id, other);
        moved.push(id);
      } else this.index.delete(id);
    }
    return moved;
  }
}
