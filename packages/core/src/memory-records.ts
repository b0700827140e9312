/**
 * The records of `aios memory export` (JSON Lines, one fragment a line) and how
 * `aios memory import` reads them back: text, namespace, importance, core, metadata and
 * the times it was made and last changed, as they were (recency is reckoned from them).
 * How often it was used, and its history, start anew.
 */
import type { FragmentInput } from '@aios/carma';
import { AiosError } from '@aios/utils';

/** Whether `value` is a line of `aios memory export` (ingest leaves such files to import). */
export function isExportedFragment(value: unknown): boolean {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return false;
  const o = value as Record<string, unknown>;
  return (
    typeof o.id === 'string' &&
    typeof o.namespace === 'string' &&
    typeof o.text === 'string' &&
    typeof o.importance === 'number' &&
    typeof o.version === 'number' &&
    typeof o.createdAt === 'string'
  );
}

const bad = (where: string, field: string, expected: string, got: unknown) =>
  new AiosError(
    'INVALID_INPUT',
    `${where}: ${field}: expected ${expected}, got ${got === null ? 'null' : typeof got}`,
    { details: { field } },
  );

/**
 * The fragment to add for one exported record, read at `where` (`file:line`). Only `text`
 * is required, so that a file written by hand in the same shape imports too.
 */
export function importedFragment(value: unknown, where: string): FragmentInput {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw bad(where, 'record', 'an object with a text', value);
  }
  const o = value as Record<string, unknown>;
  if (typeof o.text !== 'string' || o.text.trim() === '') {
    throw bad(where, 'text', 'a text that is not blank', o.text);
  }
  const input: FragmentInput = { text: o.text };
  if (o.namespace !== undefined) {
    if (typeof o.namespace !== 'string') throw bad(where, 'namespace', 'a string', o.namespace);
    input.namespace = o.namespace;
  }
  if (o.importance !== undefined) {
    if (typeof o.importance !== 'number' || !(o.importance >= 0 && o.importance <= 1)) {
      throw bad(where, 'importance', 'a number from 0 to 1', o.importance);
    }
    input.importance = o.importance;
  }
  if (o.core !== undefined) {
    if (typeof o.core !== 'boolean') throw bad(where, 'core', 'true or false', o.core);
    input.core = o.core;
  }
  if (o.metadata !== undefined && o.metadata !== null) {
    if (typeof o.metadata !== 'object' || Array.isArray(o.metadata)) {
      throw bad(where, 'metadata', 'an object', o.metadata);
    }
    input.metadata = o.metadata as FragmentInput['metadata'];
  }
  const createdAt = time(o.createdAt, where, 'createdAt');
  const updatedAt = time(o.updatedAt, where, 'updatedAt');
  if (createdAt !== undefined) input.createdAt = createdAt;
  if (updatedAt !== undefined && updatedAt >= (createdAt ?? 0)) input.updatedAt = updatedAt;
  return input;
}

/** A time of a record (ISO 8601, as exports write them) in ms; undefined when absent. */
function time(value: unknown, where: string, field: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new AiosError(
      'INVALID_INPUT',
      `${where}: ${field}: expected a date and time such as 2024-05-03T09:30:00Z, got ${typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : value === null ? 'null' : typeof value}`,
      { details: { field } },
    );
  }
  return ms;
}
