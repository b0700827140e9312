import { invalidInput, nonNegativeInteger } from '@aios/utils';

/** How many snapshots to keep; a snapshot kept by any rule stays. */
export interface RetentionPolicy {
  /** The n most recent snapshots. */
  keepLast?: number;
  /** The most recent snapshot of each of the last n hours/days/... that have one (UTC). */
  keepHourly?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  keepYearly?: number;
  /** Snapshots carrying any of these tags. */
  keepTags?: string[];
}

const pad = (n: number) => String(n).padStart(2, '0');

/** ISO 8601 week of a UTC date, as `YYYY-Www`. */
export function isoWeek(date: Date): string {
  const d = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const day = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - day);
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((d.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${d.getUTCFullYear()}-W${pad(week)}`;
}

const BUCKETS: Array<[keyof RetentionPolicy, (d: Date) => string]> = [
  ['keepHourly', (d) => d.toISOString().slice(0, 13)],
  ['keepDaily', (d) => d.toISOString().slice(0, 10)],
  ['keepWeekly', isoWeek],
  ['keepMonthly', (d) => d.toISOString().slice(0, 7)],
  ['keepYearly', (d) => d.toISOString().slice(0, 4)],
];

export function validatePolicy(policy: RetentionPolicy): RetentionPolicy {
  if (typeof policy !== 'object' || policy === null) {
    throw invalidInput('policy', policy, 'a retention policy object');
  }
  let any = false;
  for (const key of ['keepLast', ...BUCKETS.map(([k]) => k)] as const) {
    const v = policy[key];
    if (v === undefined) continue;
    if (nonNegativeInteger(v, `policy.${key}`) > 0) any = true;
  }
  if (policy.keepTags !== undefined) {
    if (!Array.isArray(policy.keepTags) || !policy.keepTags.every((t) => typeof t === 'string')) {
      throw invalidInput('policy.keepTags', policy.keepTags, 'an array of strings');
    }
    if (policy.keepTags.length > 0) any = true;
  }
  if (!any) {
    throw invalidInput(
      'policy',
      policy,
      'at least one keep rule (forgetting every snapshot is refused)',
    );
  }
  return policy;
}

/**
 * Which snapshots of one group a policy keeps (restic's semantics): snapshots are taken
 * newest first; `keepLast` keeps the first n; each bucket rule keeps the newest snapshot of
 * each new bucket until it has kept n buckets.
 */
export function applyRetention<T extends { id: string; time: string; tags?: string[] }>(
  snapshots: readonly T[],
  policy: RetentionPolicy,
): { keep: T[]; remove: T[] } {
  const sorted = [...snapshots].sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0));
  const kept = new Set<string>();
  for (const s of sorted.slice(0, policy.keepLast ?? 0)) kept.add(s.id);
  for (const [key, bucketOf] of BUCKETS) {
    const n = (policy[key] as number | undefined) ?? 0;
    const seen = new Set<string>();
    for (const s of sorted) {
      if (seen.size >= n) break;
      const bucket = bucketOf(new Date(s.time));
      if (seen.has(bucket)) continue;
      seen.add(bucket);
      kept.add(s.id);
    }
  }
  if (policy.keepTags?.length) {
    for (const s of sorted) if (s.tags?.some((t) => policy.keepTags?.includes(t))) kept.add(s.id);
  }
  return {
    keep: sorted.filter((s) => kept.has(s.id)),
    remove: sorted.filter((s) => !kept.has(s.id)),
  };
}
