/**
 * Who holds a lock: the record a holder writes into its lock file, and telling a live
 * holder from a stale one (a process that died, e.g. SIGKILLed, without removing it).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { isProcessAlive } from '../process/alive.js';

export interface LockHolder {
  pid: number;
  hostname: string;
  /** What the holder is doing, for the message of whoever it keeps out. */
  operation: string;
  /** When the lock was taken (ISO 8601). */
  time: string;
  /** More about the holder (e.g. "js implementation"). */
  detail?: string;
  /**
   * When the process started (Linux: clock ticks after boot), so that a lock left by a
   * dead process is not mistaken for one of a new process that got the same pid.
   */
  started?: number;
  /** Random, one per acquisition: tells this acquisition's files from any other. */
  token?: string;
}

/** A lock file as read: its text, and the holder when the text is one. */
export interface HolderFile {
  text: string;
  holder: LockHolder | undefined;
}

/**
 * The start time of a process (Linux), from `/proc/<pid>/stat`; undefined elsewhere or
 * when there is no such process.
 */
export function processStarted(pid: number): number | undefined {
  if (process.platform !== 'linux') return undefined;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Field 2 (the command name) is in parentheses and may hold spaces: count after it.
  // Fields then start at 3 (state); the start time is field 22.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[19]);
  return Number.isSafeInteger(ticks) ? ticks : undefined;
}

let ownStart: number | undefined | null = null;

/** The holder record of this process for a new acquisition. */
export function currentHolder(operation: string, detail?: string): LockHolder {
  if (ownStart === null) ownStart = processStarted(process.pid);
  return {
    pid: process.pid,
    hostname: hostname(),
    operation,
    time: new Date().toISOString(),
    ...(detail ? { detail } : {}),
    ...(ownStart === undefined ? {} : { started: ownStart }),
    token: randomBytes(16).toString('hex'),
  };
}

/**
 * Whether the holder is a process of this host that is gone (or whose pid now belongs
 * to a process started later). A holder on another host is never judged stale: there is
 * no way to ask from here.
 */
export function isStale(holder: LockHolder): boolean {
  if (holder.hostname !== hostname()) return false;
  if (!Number.isSafeInteger(holder.pid) || holder.pid <= 0) return true;
  if (!isProcessAlive(holder.pid)) return true;
  if (holder.started !== undefined) {
    const started = processStarted(holder.pid);
    if (started !== undefined && started !== holder.started) return true;
  }
  return false;
}

function parseHolder(text: string): LockHolder | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const h = value as Record<string, unknown>;
  if (typeof h.pid !== 'number' || typeof h.hostname !== 'string') return undefined;
  return {
    pid: h.pid,
    hostname: h.hostname,
    operation: typeof h.operation === 'string' ? h.operation : 'an unknown operation',
    time: typeof h.time === 'string' ? h.time : '',
    ...(typeof h.detail === 'string' ? { detail: h.detail } : {}),
    ...(typeof h.started === 'number' ? { started: h.started } : {}),
    ...(typeof h.token === 'string' ? { token: h.token } : {}),
  };
}

/** Reads a lock file; undefined when there is none (any more). */
export async function readHolderFile(path: string): Promise<HolderFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  return { text, holder: parseHolder(text) };
}

/** Reads a lock file synchronously (for the exit hook); undefined when there is none. */
export function readHolderFileSync(path: string): HolderFile | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  return { text, holder: parseHolder(text) };
}

/** "process 4242 (aios ingest, js implementation)", with the host when it is another. */
export function describeHolder(holder: LockHolder): string {
  const what = holder.detail ? `${holder.operation}, ${holder.detail}` : holder.operation;
  const host = holder.hostname === hostname() ? '' : ` on ${holder.hostname}`;
  return `process ${holder.pid}${host} (${what})`;
}
