/**
 * New labels for fragments whose label another fragment holds. Before labels came from
 * the store's counter, two processes adding at once could hand out the same ones; such a
 * database is repaired on open (and when another process's writes bring a clash).
 */
import { AiosError, describeReadOnlyCause, ErrorCode } from '@aios/utils';
import type { MemoryContext } from './context.js';
import type { FragmentRecord } from './fragment-store.js';
import { labelSet } from './label-table.js';
import { historyEntry } from './records.js';

/**
 * Stores each fragment under a new label from the store's counter, with a history entry
 * (so that other processes following the database see it), then updates the records.
 */
export async function relabel(ctx: MemoryContext, records: FragmentRecord[]): Promise<void> {
  if (records.length === 0) return;
  const readOnly = ctx.store.readOnly;
  if (readOnly !== undefined) {
    const where = ctx.store.location ?? 'this memory';
    throw new AiosError(
      ErrorCode.IO_READ_ONLY,
      `${where}: the memory is read-only (${describeReadOnlyCause(readOnly)}) and needs a repair that writes it: ${records.length === 1 ? '1 fragment holds' : `${records.length} fragments hold`} an index label another fragment holds too, as an earlier version could leave them; open it once where it can be written; nothing was changed`,
      { details: { path: where, readOnly, fragments: records.length } },
    );
  }
  ctx.fragments.checkCapacity(records.length);
  const at = ctx.now();
  const items = records.map((f) => {
    const next: FragmentRecord = { ...f, label: -1, version: f.version + 1 };
    return {
      fragment: next,
      change: historyEntry(
        next,
        'update',
        at,
        `new index label (fragment label ${f.label} was shared)`,
      ),
    };
  });
  await ctx.store.add(items, { lowestLabel: ctx.fragments.nextLabel });
  records.forEach((f, i) => {
    const next = (items[i] as { fragment: FragmentRecord }).fragment;
    f.label = next.label;
    f.version = next.version;
  });
  ctx.fragments.claimLabels(records.map((f) => f.label));
}

/**
 * The fragments that must take a new label because another one has theirs: of those
 * sharing a label, the one with the lowest id keeps it (whatever order they were read in).
 */
export function sharedLabels(records: FragmentRecord[]): FragmentRecord[] {
  // The rule: no label is held twice (only an old database repaired on open has any).
  const labels = Uint32Array.from(records, (f) => f.label);
  if (labelSet(labels).added.length === records.length) return [];
  const holder = new Map<number, FragmentRecord>();
  const out: FragmentRecord[] = [];
  for (const f of records) {
    const other = holder.get(f.label);
    if (other === undefined) {
      holder.set(f.label, f);
    } else if (f.id < other.id) {
      holder.set(f.label, f);
      out.push(other);
    } else {
      out.push(f);
    }
  }
  return out;
}
