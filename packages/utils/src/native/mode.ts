import { AiosError, ErrorCode } from '../errors.js';

/** How a core picks its implementation: see the hybrid rule in ARCHITECTURE.md. */
export type NativeMode = 'auto' | 'js' | 'native';
export type Implementation = 'native' | 'js';

export const NATIVE_MODES: readonly NativeMode[] = ['auto', 'js', 'native'];

export function isNativeMode(value: unknown): value is NativeMode {
  return typeof value === 'string' && (NATIVE_MODES as readonly string[]).includes(value);
}

/**
 * The mode in force: an explicit value wins, then `AIOS_NATIVE`, then `auto`.
 * An unknown value is an error, never silently `auto`.
 */
export function resolveNativeMode(
  explicit?: NativeMode,
  env: NodeJS.ProcessEnv = process.env,
): NativeMode {
  const value = explicit ?? env.AIOS_NATIVE;
  if (value === undefined || value === '') return 'auto';
  if (isNativeMode(value)) return value;
  throw new AiosError(
    ErrorCode.CONFIG_INVALID,
    `AIOS_NATIVE=${JSON.stringify(value)} is not allowed; use one of: ${NATIVE_MODES.join(', ')}`,
    { details: { field: 'native', value, allowed: NATIVE_MODES } },
  );
}
