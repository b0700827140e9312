import { createHash } from 'node:crypto';
import { invalidInput } from '@aios/utils';
import type {
  AuditEntry,
  AuditEntryInput,
  AuditProblem,
  AuditRepository,
  AuditVerification,
} from './access-types.js';
import { chain, type Steps } from './awaitable.js';
import { atomically, type StoreContext } from './context.js';
import type { SqlRow } from './driver.js';
import { num, numOrNull, strOrNull } from './rows.js';
import {
  count,
  isPlainObject,
  json,
  nonNegativeInt,
  optionalString,
  parseJson,
  requireString,
  timestamp,
} from './validate.js';

/** The `prev_hash` of the first entry. */
export const AUDIT_GENESIS = '0'.repeat(64);
/**
 * The last entry's seq and hash, kept in `meta` in the transaction that appends: without
 * it, removing the newest entries would leave a valid (shorter) chain.
 */
const HEAD_KEY = 'data.audit_head';
const PAGE = 5000;

type Fields = Omit<AuditEntry, 'hash'>;

/** The hash of an entry: SHA-256 over its fields, in a fixed order, and the previous hash. */
export function auditHash(e: Fields): string {
  const canonical = JSON.stringify([
    e.seq,
    e.at,
    e.tenantId,
    e.keyId,
    e.action,
    e.outcome,
    e.status,
    e.requestId,
    e.target,
    e.details,
    e.prevHash,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

const toEntry = (r: SqlRow): AuditEntry => ({
  seq: num(r.seq),
  at: num(r.at),
  tenantId: strOrNull(r.tenant_id),
  keyId: strOrNull(r.key_id),
  action: String(r.action),
  outcome: String(r.outcome),
  status: numOrNull(r.status),
  requestId: strOrNull(r.request_id),
  target: strOrNull(r.target),
  details: parseJson(r.details),
  prevHash: String(r.prev_hash),
  hash: String(r.hash),
});

function checkInput(input: AuditEntryInput, i: number, now: number) {
  const at = `entries[${i}]`;
  if (!isPlainObject(input)) throw invalidInput(at, input, 'an audit entry { action, outcome }');
  const status = input.status ?? null;
  if (status !== null && (!Number.isInteger(status) || status < 100 || status > 599)) {
    throw invalidInput(`${at}.status`, status, 'an HTTP status');
  }
  const details = json(input.details ?? {}, `${at}.details`);
  return {
    at: timestamp(input.at, `${at}.at`, now),
    tenantId: optionalString(input.tenantId, `${at}.tenantId`),
    keyId: optionalString(input.keyId, `${at}.keyId`),
    action: requireString(input.action, `${at}.action`),
    outcome: requireString(input.outcome, `${at}.outcome`),
    status,
    requestId: optionalString(input.requestId, `${at}.requestId`),
    target: optionalString(input.target, `${at}.target`),
    details: parseJson(details),
  };
}

function problem(seq: number, kind: AuditProblem, message: string): AuditVerification['firstBad'] {
  return { seq, problem: kind, message: `audit entry ${seq}: ${message}` };
}

export function createAuditRepository(ctx: StoreContext): AuditRepository {
  const { driver, serial, steps } = ctx;
  const HEAD = 'SELECT value FROM meta WHERE key = ?1';
  const toHead = (rows: SqlRow[]): { seq: number; hash: string } => {
    const row = rows[0];
    return row
      ? (JSON.parse(String(row.value)) as { seq: number; hash: string })
      : { seq: 0, hash: AUDIT_GENESIS };
  };
  function* appendSteps(inputs: ReturnType<typeof checkInput>[]): Steps<AuditEntry[]> {
    const current: SqlRow[] = yield driver.query(HEAD, [HEAD_KEY]);
    let { seq, hash } = toHead(current);
    const stored: AuditEntry[] = [];
    for (const input of inputs) {
      const fields: Fields = { seq: seq + 1, ...input, prevHash: hash };
      const entry = { ...fields, hash: auditHash(fields) };
      yield driver.run(
        'INSERT INTO audit_log (seq, at, tenant_id, key_id, action, outcome, status, request_id, target, details, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)',
        [
          entry.seq,
          entry.at,
          entry.tenantId,
          entry.keyId,
          entry.action,
          entry.outcome,
          entry.status,
          entry.requestId,
          entry.target,
          JSON.stringify(entry.details),
          entry.prevHash,
          entry.hash,
        ],
      );
      stored.push(entry);
      seq = entry.seq;
      hash = entry.hash;
    }
    yield driver.run(
      'INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      [HEAD_KEY, JSON.stringify({ seq, hash })],
    );
    return stored;
  }

  function* verifySteps(): Steps<AuditVerification> {
    const head = toHead(yield driver.query(HEAD, [HEAD_KEY]));
    // Every hash, to tell an entry moved from elsewhere in the chain from a forged one.
    const known = new Set(
      (yield driver.query('SELECT hash FROM audit_log')).map((r: SqlRow) => String(r.hash)),
    );
    let expectedSeq = 1;
    let prev = AUDIT_GENESIS;
    let entries = 0;
    for (let after = 0; ; ) {
      const rows = yield driver.query(
        'SELECT * FROM audit_log WHERE seq > ?1 ORDER BY seq LIMIT ?2',
        [after, PAGE],
      );
      if (rows.length === 0) break;
      for (const row of rows) {
        const e = toEntry(row);
        entries++;
        after = e.seq;
        if (e.seq !== expectedSeq) {
          return {
            ok: false,
            entries,
            firstBad: problem(expectedSeq, 'deleted', `missing (the next entry is ${e.seq})`),
          };
        }
        if (e.seq > head.seq) {
          return {
            ok: false,
            entries,
            firstBad: problem(e.seq, 'inserted', 'not appended by the store'),
          };
        }
        if (e.prevHash !== prev) {
          const kind = known.has(e.prevHash) ? 'reordered' : 'inserted';
          return {
            ok: false,
            entries,
            firstBad: problem(
              e.seq,
              kind,
              kind === 'reordered'
                ? 'it follows another entry than the one before it'
                : 'it does not follow from the entry before it',
            ),
          };
        }
        if (auditHash(e) !== e.hash) {
          return {
            ok: false,
            entries,
            firstBad: problem(e.seq, 'edited', 'its content was changed'),
          };
        }
        prev = e.hash;
        expectedSeq++;
      }
    }
    const last = expectedSeq - 1;
    if (last < head.seq) {
      return {
        ok: false,
        entries,
        firstBad: problem(last + 1, 'deleted', `missing (the log ended at ${head.seq})`),
      };
    }
    if (last > head.seq) {
      return {
        ok: false,
        entries,
        firstBad: problem(head.seq + 1, 'inserted', 'not appended by the store'),
      };
    }
    if (prev !== head.hash) {
      return { ok: false, entries, firstBad: problem(last, 'edited', 'it was replaced') };
    }
    return { ok: true, entries };
  }

  return {
    async append(entries) {
      if (!Array.isArray(entries))
        throw invalidInput('entries', entries, 'an array of audit entries');
      const now = Date.now();
      const inputs = entries.map((e, i) => checkInput(e, i, now));
      return serial(() =>
        atomically(
          driver,
          () => appendSteps(inputs),
          // Entries from other connections wait: the chain has one order, the commit order.
          'audit',
        ),
      );
    },
    async list(options = {}) {
      const limit = count(options.limit, 'limit', 100, 1_000_000);
      const after =
        options.afterSeq === undefined ? 0 : nonNegativeInt(options.afterSeq, 'afterSeq');
      const tenantId =
        options.tenantId === undefined ? undefined : requireString(options.tenantId, 'tenantId');
      return serial(() =>
        chain(
          tenantId === undefined
            ? driver.query('SELECT * FROM audit_log WHERE seq > ?1 ORDER BY seq LIMIT ?2', [
                after,
                limit,
              ])
            : driver.query(
                'SELECT * FROM audit_log WHERE tenant_id = ?3 AND seq > ?1 ORDER BY seq LIMIT ?2',
                [after, limit, tenantId],
              ),
          (rows) => rows.map(toEntry),
        ),
      );
    },
    async verify() {
      return steps(verifySteps);
    },
  };
}
