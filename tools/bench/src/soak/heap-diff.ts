// What a V8 heap snapshot holds, by constructor: the soak compares the snapshot taken after
// warm-up with the one taken at the end to name what grew.

export type HeapCensus = Map<string, { count: number; bytes: number }>;

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Objects and closures by constructor name; other nodes by their type, in parentheses. */
export function heapCensus(json: string): HeapCensus {
  const { snapshot, nodes, strings } = JSON.parse(json) as Snapshot;
  const fields = snapshot.meta.node_fields;
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const types = snapshot.meta.node_types[0];
  const census: HeapCensus = new Map();
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + typeAt] as number] ?? '?';
    const key =
      type === 'object' || type === 'closure'
        ? (strings[nodes[i + nameAt] as number] ?? '?')
        : `(${type})`;
    const entry = census.get(key) ?? { count: 0, bytes: 0 };
    entry.count += 1;
    entry.bytes += nodes[i + sizeAt] as number;
    census.set(key, entry);
  }
  return census;
}

/** The `top` kinds whose retained bytes grew most from `before` to `after`. */
export function heapGrowth(
  before: HeapCensus,
  after: HeapCensus,
  top = 15,
): Array<{ kind: string; count: number; bytes: number }> {
  return [...after]
    .map(([kind, now]) => {
      const then = before.get(kind) ?? { count: 0, bytes: 0 };
      return { kind, count: now.count - then.count, bytes: now.bytes - then.bytes };
    })
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, top);
}
