import { AiosError, ErrorCode, invalidInput, nonNegativeInteger } from '@aios/utils';

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

/** Each bucket rule: its key, the bucket a time falls in, and the bucket's name in words. */
const BUCKETS: Array<
  [Exclude<keyof RetentionPolicy, 'keepLast' | 'keepTags'>, (d: Date) => string, string]
> = [
  ['keepHourly', (d) => d.toISOString().slice(0, 13), 'hour'],
  ['keepDaily', (d) => d.toISOString().slice(0, 10), 'day'],
  ['keepWeekly', isoWeek, 'week'],
  ['keepMonthly', (d) => d.toISOString().slice(0, 7), 'month'],
  ['keepYearly', (d) => d.toISOString().slice(0, 4), 'year'],
];

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/** A policy in words: "a policy to keep the last 0 snapshots and those tagged "x"". */
export function describePolicy(policy: RetentionPolicy): string {
  const rules: string[] = [];
  if (policy.keepLast !== undefined) rules.push(`the last ${plural(policy.keepLast, 'snapshot')}`);
  for (const [key, , unit] of BUCKETS) {
    const n = policy[key];
    if (n !== undefined) rules.push(`the newest of each of the last ${plural(n, unit)}`);
  }
  if (policy.keepTags !== undefined) {
    rules.push(
      policy.keepTags.length === 0
        ? 'those tagged with one of no tags'
        : `those tagged ${policy.keepTags.map((t) => JSON.stringify(t)).join(' or ')}`,
    );
  }
  return rules.length === 0
    ? 'a policy with no keep rule'
    : `a policy to keep ${rules.join(' and ')}`;
}

/** What every refusal of a policy that would forget every snapshot expects. */
const KEEP_ONE =
  'keep rules that keep at least one snapshot (forgetting every snapshot is refused)';

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
    throw new AiosError(
      ErrorCode.INVALID_INPUT,
      `policy: expected ${KEEP_ONE}, got ${describePolicy(policy)}`,
      { details: { field: 'policy', expected: KEEP_ONE } },
    );
  }
  return policy;
}

/**
 * The refusal of a policy that keeps none of a group's snapshots: rules that can keep
 * nothing (tags no snapshot carries) must not empty a backup any more than `keepLast: 0`
 * may; forgetting snapshots by id stays the way to remove them all.
 */
export function keepsNothing(
  policy: RetentionPolicy,
  group: { hostname: string; paths: string[]; snapshots: number },
): AiosError {
  const of = `${group.paths.join(', ')} (host ${group.hostname})`;
  return new AiosError(
    ErrorCode.INVALID_INPUT,
    `policy: expected ${KEEP_ONE}, got ${describePolicy(policy)}, which keeps none of the ${plural(group.snapshots, 'snapshot')} of ${of}; nothing was forgotten (give a rule that keeps one, or forget snapshots by id)`,
    { details: { field: 'policy', expected: KEEP_ONE, ...group } },
  );
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
