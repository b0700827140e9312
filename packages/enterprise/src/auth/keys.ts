import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys look like `aios_sk_<id>_<secret>`: the id (10 lowercase base32 characters) is
 * visible and names the key everywhere (lists, audit entries, logs); the secret is 32
 * random bytes (256 bits, base64url). Only the SHA-256 of the secret is stored: a slow
 * password hash buys nothing for a 256-bit random secret, and a fast one keeps
 * authentication under a microsecond.
 */
export const KEY_PREFIX = 'aios_sk_';

export const SCOPES = ['memory:read', 'memory:write', 'chat', 'ingest', 'backup', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const KEY_PATTERN = /^aios_sk_([a-z2-7]{10})_([A-Za-z0-9_-]{43})$/;

export interface GeneratedKey {
  id: string;
  /** The whole key, shown once. */
  key: string;
  secretHash: string;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function generateKey(): GeneratedKey {
  const idBytes = randomBytes(10);
  let id = '';
  for (const byte of idBytes) id += ID_ALPHABET[byte & 31];
  const secret = randomBytes(32).toString('base64url');
  return { id, key: `${KEY_PREFIX}${id}_${secret}`, secretHash: hashSecret(secret) };
}

/** The id and secret of a well-formed key, or null. */
export function parseKey(key: string): { id: string; secret: string } | null {
  const match = KEY_PATTERN.exec(key);
  return match?.[1] && match[2] ? { id: match[1], secret: match[2] } : null;
}

/** Whether `secret` hashes to `secretHash`, in constant time. */
export function secretMatches(secret: string, secretHash: string): boolean {
  const given = Buffer.from(hashSecret(secret), 'hex');
  const stored = Buffer.from(secretHash, 'hex');
  return given.length === stored.length && timingSafeEqual(given, stored);
}

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/** `admin` holds every scope. */
export function hasScope(scopes: readonly string[], needed: Scope): boolean {
  return scopes.includes(needed) || scopes.includes('admin');
}
