/**
 * The index file in TypeScript: the same bytes as crates/carma/src/vector/file.rs writes,
 * and the same checks (in the same order, with the same messages) when reading.
 */
import { readFile } from 'node:fs/promises';
import {
  AiosError,
  atomicWriteFile,
  createHashing,
  fromNodeIoError,
  type Hashing,
} from '@aios/utils';
import { checkHnsw, checkPath } from '../checks.js';
import {
  CHECKSUM_BYTES,
  CODES_FLAG,
  END,
  FORMAT_VERSION,
  GRAPH_FLAG,
  HEADER_PREFIX_BYTES,
  MAGIC,
  ROW_BOUND_BYTES,
  tempPath,
  unitSlack,
} from '../file-format.js';
import {
  type HnswParams,
  type LoadOptions,
  MAX_DIMENSION,
  type Metric,
  NO_LABEL,
} from '../types.js';
import { FileReader } from './file-reader.js';
import { JsHnsw, MAX_LEVEL } from './hnsw.js';

/** What an index file holds: `count` slots of rows, their labels and liveness, a graph. */
export interface IndexFileContents {
  dim: number;
  metric: Metric;
  count: number;
  labels: Uint32Array;
  alive: Uint8Array;
  data: Float32Array;
  graph: JsHnsw | null;
}

let hashing: Promise<Hashing> | undefined;

/** BLAKE3 of the js implementation (hash-wasm through @aios/utils), created once. */
export function jsHashing(): Promise<Hashing> {
  hashing ??= createHashing({ native: 'js' }).catch((error: unknown) => {
    hashing = undefined;
    throw error;
  });
  return hashing;
}

/**
 * Writes the bytes `encode` makes to `path` atomically. The temp file's name carries this
 * pid, so that a writer killed mid-way leaves a file that removeStaleIndexTempFiles
 * recognises.
 */
export async function saveIndexFile(
  path: string,
  encode: (blake3: Hashing) => Uint8Array,
): Promise<void> {
  checkPath(path);
  await atomicWriteFile(path, encode(await jsHashing()), { tempPath: tempPath(path) });
}

/** Reads an index file for `decode`: an unreadable one is an `IO_*` error naming it. */
export async function loadIndexFile<T>(
  path: string,
  decode: (bytes: Uint8Array, blake3: Hashing) => T,
): Promise<T> {
  checkPath(path);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw fromNodeIoError(error, path);
  }
  return decode(bytes, await jsHashing());
}

const corrupt = (what: string) => new AiosError('INDEX_CORRUPT', `index file: ${what}`);

function leBytes(a: Uint32Array | Float32Array | Uint8Array): Uint8Array {
  // Little-endian platforms (every supported target) can copy the memory as is.
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function padded(bytes: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(n + ((4 - (n % 4)) % 4));
  out.set(bytes.subarray(0, n));
  return out;
}

export function encodeIndexFile(c: IndexFileContents, blake3: Hashing): Uint8Array {
  const n = c.count;
  const header = new DataView(new ArrayBuffer(28));
  for (let i = 0; i < 8; i++) header.setUint8(i, MAGIC.charCodeAt(i));
  header.setUint32(8, FORMAT_VERSION, true);
  header.setUint32(12, c.dim, true);
  header.setUint32(16, c.metric === 'cosine' ? 0 : 1, true);
  header.setUint32(20, n, true);
  header.setUint32(24, c.graph ? GRAPH_FLAG : 0, true);
  const parts: Uint8Array[] = [
    new Uint8Array(header.buffer),
    leBytes(c.labels.subarray(0, n)),
    padded(c.alive, n),
    leBytes(c.data.subarray(0, n * c.dim)),
  ];
  const g = c.graph;
  if (g) {
    parts.push(
      leBytes(
        Uint32Array.from([
          g.params.m,
          g.params.efConstruction,
          g.params.seed >>> 0,
          0,
          g.entry < 0 ? NO_LABEL : g.entry,
          g.entry < 0 ? 0 : g.entryLevel,
        ]),
      ),
    );
    parts.push(padded(Uint8Array.from(g.levels), n));
    // Layer 0: a record of 2m + 1 words per node (the count, the ids, zeros).
    const stride = 2 * g.params.m + 1;
    const layer0 = new Uint32Array(n * stride);
    g.links.forEach((node, i) => {
      const list = (node[0] ?? []).slice(0, stride - 1);
      layer0[i * stride] = list.length;
      layer0.set(list, i * stride + 1);
    });
    parts.push(leBytes(layer0));
    const upper: number[] = [];
    for (const node of g.links) {
      for (const list of node.slice(1)) {
        upper.push(list.length);
        for (const id of list) upper.push(id);
      }
    }
    parts.push(leBytes(Uint32Array.from(upper)));
  }
  parts.push(new Uint8Array(Buffer.from(END, 'latin1')));
  const body = Buffer.concat(parts);
  const sum = Buffer.from(blake3.hashSync(body), 'hex');
  return Buffer.concat([body, sum]);
}

/**
 * Reads a file of either version; `INDEX_CORRUPT` when it cannot be trusted. With
 * `owned` (bytes nothing else holds, as those of a file just read) the rows are a view on
 * them rather than a copy: loading a file then holds its rows once, not twice.
 */
export function decodeIndexFile(
  bytes: Uint8Array,
  blake3: Hashing,
  options: { owned?: boolean } & LoadOptions = {},
): IndexFileContents {
  if (bytes.length < HEADER_PREFIX_BYTES) throw corrupt('truncated');
  if (Buffer.from(bytes.subarray(0, 8)).toString('latin1') !== MAGIC) {
    throw corrupt('not a CARMA vector index (bad magic)');
  }
  const full = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = full.getUint32(8, true);
  let body: Uint8Array;
  if (version === 1) {
    body = bytes;
  } else if (version >= 2 && version <= FORMAT_VERSION) {
    if (bytes.length < HEADER_PREFIX_BYTES + CHECKSUM_BYTES) throw corrupt('truncated');
    body = bytes.subarray(0, bytes.length - CHECKSUM_BYTES);
    const stored = Buffer.from(bytes.subarray(bytes.length - CHECKSUM_BYTES)).toString('hex');
    if (!options.verified && blake3.hashSync(body) !== stored) {
      throw corrupt('checksum mismatch (damaged or incomplete since it was written)');
    }
  } else {
    throw corrupt(`unsupported version ${version}`);
  }
  const r = new FileReader(body, HEADER_PREFIX_BYTES, corrupt);
  const dim = r.u32();
  const metricCode = r.u32();
  if (metricCode > 1) throw corrupt(`unknown metric ${metricCode}`);
  const n = r.u32();
  const flags = r.u32();
  if (dim < 1 || dim > MAX_DIMENSION) throw corrupt(`bad dimension ${dim}`);
  const labels = r.u32s(n);
  const alive = r.take(n).slice();
  r.take((4 - (n % 4)) % 4);
  const data = options.owned ? r.f32View(n * dim) : r.f32s(n * dim);
  // The native implementation's row codes (version 3): not used here.
  if (version >= 3 && flags & CODES_FLAG) {
    r.take(n * dim + ((4 - ((n * dim) % 4)) % 4) + ROW_BOUND_BYTES * n);
  }
  const live = new Set<number>();
  for (let s = 0; s < n; s++) {
    if (!alive[s]) continue;
    const l = labels[s] as number;
    if (l === NO_LABEL) throw corrupt('label 4294967295 (reserved) is live');
    if (live.has(l)) throw corrupt(`label ${l} is live twice`);
    live.add(l);
  }
  const graph = flags & GRAPH_FLAG ? readGraph(r, n, version) : null;
  if (Buffer.from(r.take(8)).toString('latin1') !== END) {
    throw corrupt('missing end marker (truncated write?)');
  }
  if (r.pos !== body.length) throw corrupt('bytes after the end marker');
  const metric: Metric = metricCode === 0 ? 'cosine' : 'dot';
  if (!options.verified) checkRows(data, dim, metric);
  return { dim, metric, count: n, labels, alive, data, graph };
}

function readGraph(r: FileReader, n: number, version: number): JsHnsw {
  const m = r.u32();
  const efConstruction = r.u32();
  const seed = r.u32();
  const seedHi = r.u32();
  const entry = r.u32();
  const entryLevel = r.u32();
  const params: HnswParams = { m, efConstruction, seed };
  try {
    checkHnsw(params);
  } catch {
    throw corrupt('bad graph parameters');
  }
  if (seedHi !== 0) throw corrupt('seed wider than 32 bits is not supported');
  const levels = Array.from(r.take(n));
  r.take((4 - (n % 4)) % 4);
  if (levels.some((lv) => lv > MAX_LEVEL)) throw corrupt('bad node level');
  const graph = new JsHnsw(params);
  graph.levels = levels;
  if (entry !== NO_LABEL) {
    if (entry >= n) throw corrupt('entry out of range');
    if (levels[entry] !== entryLevel) throw corrupt("entry level differs from its node's level");
    graph.entry = entry;
    graph.entryLevel = entryLevel;
  }
  /** A list of `level` read and checked: within the graph and its levels. */
  const list = (level: number): number[] => {
    const count = r.u32();
    if (count > (level === 0 ? 2 * m : m)) {
      throw corrupt('a neighbour list longer than the graph allows');
    }
    const ids = Array.from(r.u32s(count));
    for (const id of ids) {
      const to = levels[id];
      if (to === undefined) throw corrupt('link out of range');
      if (to < level) throw corrupt('link to a node below its level');
    }
    return ids;
  };
  if (version < 4) {
    // Each node's lists one after the other, layer 0's as long as it is.
    for (const lv of levels) {
      const node: number[][] = [];
      for (let level = 0; level <= lv; level++) node.push(list(level));
      graph.links.push(node);
    }
    return graph;
  }
  // Layer 0 in records of 2m + 1 words, then the lists of the levels above.
  const stride = 2 * m + 1;
  const layer0 = r.u32s(n * stride);
  for (let node = 0; node < n; node++) {
    const count = layer0[node * stride] as number;
    if (count > 2 * m) throw corrupt('a neighbour list longer than the graph allows');
    const ids = Array.from(layer0.subarray(node * stride + 1, node * stride + 1 + count));
    if (ids.some((id) => id >= n)) throw corrupt('link out of range');
    graph.links.push([ids]);
  }
  levels.forEach((lv, node) => {
    for (let level = 1; level <= lv; level++) graph.links[node]?.push(list(level));
  });
  return graph;
}

/** Rows as `add` stores them: finite, and at most unit length under the cosine metric. */
function checkRows(data: Float32Array, dim: number, metric: Metric): void {
  const limit = 1 + unitSlack(dim);
  for (let slot = 0, at = 0; at < data.length; slot++, at += dim) {
    let sq = 0;
    for (let i = at; i < at + dim; i++) {
      const v = data[i] as number;
      if (!Number.isFinite(v)) throw corrupt(`row ${slot} holds a non-finite number`);
      sq += v * v;
    }
    if (metric === 'cosine' && sq > limit) {
      throw corrupt(`row ${slot} is longer than unit length under the cosine metric`);
    }
  }
}
