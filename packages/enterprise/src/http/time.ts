/** Times in answers are ISO 8601 strings (UTC); the store keeps milliseconds since the epoch. */
export const iso = (ms: number): string => new Date(ms).toISOString();

export const isoOrNull = (ms: number | null | undefined): string | null =>
  typeof ms === 'number' ? iso(ms) : null;
