/**
 * Reads a plain-format pg_dump as it streams into psql: counts the rows of each COPY
 * block (what the restored database must hold), takes the store's schema version from its
 * `schema_migrations` rows, and leaves out the statements that drop, create or comment on
 * the schema itself: a restore keeps the schema (its grants, the objects of extensions in
 * it) and drops the store's objects in it instead.
 */
export interface DumpFacts {
  /** Rows per table, by the name the dump gives it (`public.fragments`). */
  rows: Map<string, number>;
  /** The highest `schema_migrations.version` in the dump (0 without one). */
  schemaVersion: number;
}

const NEWLINE = 10;
/** `\.`, the line that ends a COPY block. */
const END_OF_COPY = Buffer.from('\\.');

function schemaStatements(schema: string): RegExp {
  const name = `(?:${schema}|"${schema}")`;
  return new RegExp(
    `^(?:DROP SCHEMA IF EXISTS ${name};|DROP SCHEMA ${name};|CREATE SCHEMA ${name};|COMMENT ON SCHEMA ${name} IS '(?:[^']|'')*';)$`,
  );
}

/** The table of a `COPY <table> [(<columns>)] FROM stdin;` line. */
function copyTable(line: string): string | undefined {
  const m = /^COPY (\S+)(?: \(.*\))? FROM stdin;$/.exec(line);
  return m?.[1];
}

export async function* readDump(
  source: AsyncIterable<Uint8Array>,
  schema: string,
  facts: DumpFacts,
): AsyncGenerator<Uint8Array> {
  const dropped = schemaStatements(schema);
  const migrations = new Set([`${schema}.schema_migrations`, `"${schema}".schema_migrations`]);
  let copying: string | undefined;
  let rest: Buffer = Buffer.alloc(0);
  for await (const piece of source) {
    const view = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    const buf = rest.length > 0 ? Buffer.concat([rest, view]) : view;
    let start = 0;
    let kept = 0;
    const out: Buffer[] = [];
    for (let nl = buf.indexOf(NEWLINE, start); nl >= 0; nl = buf.indexOf(NEWLINE, start)) {
      if (copying !== undefined) {
        if (nl - start === 2 && buf.compare(END_OF_COPY, 0, 2, start, nl) === 0) {
          copying = undefined;
        } else {
          facts.rows.set(copying, (facts.rows.get(copying) ?? 0) + 1);
          if (migrations.has(copying)) {
            const tab = buf.indexOf(9, start);
            const version = Number(buf.toString('utf8', start, tab < 0 || tab > nl ? nl : tab));
            if (version > facts.schemaVersion) facts.schemaVersion = version;
          }
        }
      } else {
        const line = buf.toString('utf8', start, nl);
        const table = copyTable(line);
        if (table !== undefined) {
          copying = table;
          facts.rows.set(table, facts.rows.get(table) ?? 0);
        } else if (dropped.test(line)) {
          out.push(buf.subarray(kept, start));
          kept = nl + 1;
        }
      }
      start = nl + 1;
    }
    out.push(buf.subarray(kept, start));
    rest = Buffer.from(buf.subarray(start));
    for (const part of out) if (part.length > 0) yield part;
  }
  if (rest.length > 0) yield rest;
}
