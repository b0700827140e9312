/**
 * The repositories write parameters as SQLite's `?1`, `?2`...; PostgreSQL's are `$1`,
 * `$2`.... The text is translated once per statement (and kept), outside quoted strings
 * and identifiers.
 */
const translated = new Map<string, string>();
const MAX_KEPT = 2000;

export function toPostgresParams(sql: string): string {
  let out = translated.get(sql);
  if (out !== undefined) return out;
  out = '';
  let quote: string | null = null;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i] as string;
    if (quote !== null) {
      if (c === quote) quote = null;
      out += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      out += c;
    } else if (c === '?' && /[0-9]/.test(sql[i + 1] ?? '')) {
      out += '$';
    } else {
      out += c;
    }
  }
  // Statements are a fixed set plus a few built from counts (IN lists): keep it bounded.
  if (translated.size >= MAX_KEPT) translated.clear();
  translated.set(sql, out);
  return out;
}
