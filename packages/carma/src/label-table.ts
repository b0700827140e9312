/**
 * Values by index label. Labels are handed out in order from 0 and never reused, so while
 * they are not much more numerous than the values (as in most memories) the table is a
 * dense array: a lookup is one load, where a Map of 100k entries cost a search several
 * cache misses per candidate (a fifth of its main-thread time at 100k fragments). Once the
 * labels outnumber the values SPARSE_FACTOR times (a long history of updates and deletes),
 * it moves to a Map, so that a memory never holds a slot per label it ever handed out; it
 * moves back once they are within DENSE_FACTOR (values arriving in any label order, as on
 * open, may cross both).
 */
const SPARSE_FACTOR = 4;
const DENSE_FACTOR = 2;
/** Labels below this always fit the array, whatever the count. */
const SPARSE_FLOOR = 65_536;

export class LabelTable<T> {
  private dense: (T | undefined)[] | undefined = [];
  private sparse: Map<number, T> | undefined;
  private count = 0;
  /** The highest label set while sparse (not lowered by deletes). */
  private maxLabel = -1;

  get size(): number {
    return this.count;
  }

  get(label: number): T | undefined {
    return this.dense ? this.dense[label] : this.sparse?.get(label);
  }

  has(label: number): boolean {
    return this.get(label) !== undefined;
  }

  set(label: number, value: T): void {
    const dense = this.dense;
    if (dense === undefined) {
      const sparse = this.sparse as Map<number, T>;
      if (!sparse.has(label)) this.count++;
      sparse.set(label, value);
      this.maxLabel = Math.max(this.maxLabel, label);
      if (this.maxLabel < DENSE_FACTOR * this.count + SPARSE_FLOOR) this.toDense(sparse);
      return;
    }
    if (label >= dense.length) {
      if (label >= SPARSE_FACTOR * (this.count + 1) + SPARSE_FLOOR) {
        this.toSparse(dense);
        this.set(label, value);
        return;
      }
      // Filled up to the label, never holes: a far write would turn the array into a
      // dictionary, as slow as the Map.
      while (dense.length < label) dense.push(undefined);
      dense.push(value);
      this.count++;
      return;
    }
    if (dense[label] === undefined) this.count++;
    dense[label] = value;
  }

  delete(label: number): boolean {
    if (this.dense === undefined) {
      const deleted = (this.sparse as Map<number, T>).delete(label);
      if (deleted) this.count--;
      return deleted;
    }
    if (this.dense[label] === undefined) return false;
    this.dense[label] = undefined;
    this.count--;
    return true;
  }

  /** The entries in label order (insertion order once sparse). */
  *[Symbol.iterator](): IterableIterator<[number, T]> {
    if (this.dense === undefined) {
      yield* this.sparse as Map<number, T>;
      return;
    }
    const dense = this.dense;
    for (let label = 0; label < dense.length; label++) {
      const value = dense[label];
      if (value !== undefined) yield [label, value];
    }
  }

  private toSparse(dense: (T | undefined)[]): void {
    const sparse = new Map<number, T>();
    dense.forEach((value, label) => {
      if (value !== undefined) sparse.set(label, value);
    });
    this.sparse = sparse;
    this.maxLabel = dense.length - 1;
    this.dense = undefined;
  }

  private toDense(sparse: Map<number, T>): void {
    const dense: (T | undefined)[] = new Array(this.maxLabel + 1).fill(undefined);
    for (const [label, value] of sparse) dense[label] = value;
    this.dense = dense;
    this.sparse = undefined;
  }
}

/** Labels below this always go in a bitmap, whatever their count. */
const BITMAP_FLOOR = 1 << 20;

/**
 * The labels as a set to test against, and each distinct one once. A bitmap while the
 * labels are not much sparser than their count (opening a 100k memory tests every
 * fragment's label, several times faster than in a Set); a Set otherwise.
 */
export function labelSet(labels: ArrayLike<number> & Iterable<number>): {
  has(label: number): boolean;
  added: number[];
} {
  let top = 0;
  for (const l of labels) if (l > top) top = l;
  const added: number[] = [];
  if (top >= 8 * labels.length + BITMAP_FLOOR) {
    const set = new Set<number>();
    for (const l of labels) if (!set.has(l) && set.add(l)) added.push(l);
    return { has: (label) => set.has(label), added };
  }
  const bits = new Uint8Array(top + 1);
  for (const l of labels) {
    if (bits[l] === 1) continue;
    bits[l] = 1;
    added.push(l);
  }
  return { has: (label) => bits[label] === 1, added };
}
