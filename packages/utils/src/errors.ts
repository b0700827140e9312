/**
 * Every error AIOS raises on purpose is an `AiosError` with a stable `code` that programs
 * can switch on; the message is for people and may change.
 */

/** Codes shared by every core. Cores add their own codes (strings) on top of these. */
export const ErrorCode = {
  /** A function was called with an argument of the wrong type, shape or range. */
  INVALID_INPUT: 'INVALID_INPUT',
  /** A configuration file or environment variable failed validation. */
  CONFIG_INVALID: 'CONFIG_INVALID',
  /** A configuration file is not valid JSON. */
  CONFIG_PARSE: 'CONFIG_PARSE',
  /** `AIOS_NATIVE=native` (or `native: 'native'`) but the native binding did not load. */
  NATIVE_UNAVAILABLE: 'NATIVE_UNAVAILABLE',
  /** The native binding failed in a way it did not classify. */
  NATIVE_FAILURE: 'NATIVE_FAILURE',
  IO_NOT_FOUND: 'IO_NOT_FOUND',
  IO_PERMISSION_DENIED: 'IO_PERMISSION_DENIED',
  IO_NOT_A_FILE: 'IO_NOT_A_FILE',
  /** The device is full (ENOSPC) or a disk quota is used up (EDQUOT). */
  IO_DISK_FULL: 'IO_DISK_FULL',
  /** The filesystem is mounted read-only (EROFS). */
  IO_READ_ONLY: 'IO_READ_ONLY',
  IO_ERROR: 'IO_ERROR',
} as const;

export type KnownErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];
/** Known codes autocomplete; cores may use their own upper-snake-case codes too. */
export type ErrorCodeLike = KnownErrorCode | (string & {});

export interface AiosErrorOptions {
  cause?: unknown;
  /** Machine-readable context (the field, the bad value, the path...). */
  details?: Record<string, unknown>;
}

/**
 * The mark of an `AiosError` made by any copy of this package: a process may load two
 * (the ES and the CommonJS build side by side, or two versions in one tree), and an error
 * thrown by one must still be an `AiosError` to the other.
 */
const AIOS_ERROR = Symbol.for('aios.error');

export class AiosError extends Error {
  readonly code: ErrorCodeLike;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCodeLike, message: string, options: AiosErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AiosError';
    this.code = code;
    this.details = options.details;
  }

  toJSON(): { name: string; code: string; message: string; details?: Record<string, unknown> } {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

Object.defineProperty(AiosError.prototype, AIOS_ERROR, { value: true });
// `instanceof AiosError` is true for an error of any copy's AiosError; subclasses (which
// inherit this) check their prototype chain as classes do.
Object.defineProperty(AiosError, Symbol.hasInstance, {
  value(this: unknown, value: unknown): boolean {
    if (this !== AiosError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as { [AIOS_ERROR]?: unknown })[AIOS_ERROR] === true
    );
  },
});

/** Raised for malformed configuration; `details.issues` lists every problem found. */
export class ConfigError extends AiosError {
  constructor(
    code: 'CONFIG_INVALID' | 'CONFIG_PARSE',
    message: string,
    options?: AiosErrorOptions,
  ) {
    super(code, message, options);
    this.name = 'ConfigError';
  }
}

export function isAiosError(value: unknown, code?: ErrorCodeLike): value is AiosError {
  return value instanceof AiosError && (code === undefined || value.code === code);
}

/** Describes a value for an error message without dumping huge or binary payloads. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' && Number.isNaN(value)) return 'NaN';
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${value.byteLength} bytes)`;
  if (Array.isArray(value)) return `array(${value.length})`;
  if (typeof value === 'string') {
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  }
  if (typeof value === 'object') return value.constructor?.name ?? 'object';
  return `${String(value)} (${typeof value})`;
}

/** An `INVALID_INPUT` error naming the argument, what was given and what is expected. */
export function invalidInput(field: string, value: unknown, expected: string): AiosError {
  return new AiosError(
    ErrorCode.INVALID_INPUT,
    `${field}: expected ${expected}, got ${describeValue(value)}`,
    { details: { field, expected } },
  );
}

const NATIVE_ERROR = /^\[AIOS:([A-Z][A-Z0-9_]*)\]\s*(.*)$/s;

/**
 * Native bindings report failures as `[AIOS:<CODE>] message`; this turns such an error
 * into an `AiosError` with that code, and anything else into `NATIVE_FAILURE`.
 */
export function fromNativeError(error: unknown): AiosError {
  if (error instanceof AiosError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const match = NATIVE_ERROR.exec(message);
  if (match?.[1] && match[2] !== undefined) {
    return new AiosError(match[1], match[2], { cause: error });
  }
  return new AiosError(ErrorCode.NATIVE_FAILURE, message, { cause: error });
}

/**
 * Maps a Node.js system error (`ENOENT`, `EACCES`, `ENOSPC`...) to an `AiosError` with an
 * IO code. A full disk and a read-only filesystem have codes of their own: what a user
 * does about them (free space, remount) is not what any other failure asks for. `doing`
 * says what was being done when the path alone does not (e.g. "writing the lease").
 */
export function fromNodeIoError(error: unknown, path: string, doing?: string): AiosError {
  const errno = (error as NodeJS.ErrnoException | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  const reason = doing ? `${doing}: ${message}` : message;
  if (errno === 'ENOSPC' || errno === 'EDQUOT') return diskFull(path, reason, error);
  if (errno === 'EROFS') return readOnly(path, reason, error);
  const code =
    errno === 'ENOENT'
      ? ErrorCode.IO_NOT_FOUND
      : errno === 'EACCES' || errno === 'EPERM'
        ? ErrorCode.IO_PERMISSION_DENIED
        : errno === 'EISDIR'
          ? ErrorCode.IO_NOT_A_FILE
          : ErrorCode.IO_ERROR;
  return new AiosError(code, `${path}: ${reason}`, { cause: error, details: { path } });
}

/** `IO_DISK_FULL` for a write to `path` that found no space (`reason`: what failed). */
export function diskFull(path: string, reason: string, cause?: unknown): AiosError {
  return new AiosError(
    ErrorCode.IO_DISK_FULL,
    `${path}: no space left on the device (${reason}); free some space and try again`,
    { cause, details: { path } },
  );
}

/**
 * Why a folder (an AIOS home, the folder of a database) is open to read only: it is on a
 * filesystem mounted read-only (EROFS), it is not this user's to write (EACCES, EPERM), or
 * reading only was asked for.
 */
export type ReadOnlyCause = 'filesystem' | 'permissions' | 'asked';

/** The cause of a read-only folder said in a few words, for messages. */
export function describeReadOnlyCause(cause: ReadOnlyCause): string {
  switch (cause) {
    case 'filesystem':
      return 'its filesystem is mounted read-only';
    case 'permissions':
      return 'this user may not write to it';
    case 'asked':
      return 'opened to read only, as asked';
  }
}

/**
 * The cause of a failed write, when the failure says the place cannot be written: a
 * read-only filesystem (`IO_READ_ONLY`, EROFS) or a refused permission
 * (`IO_PERMISSION_DENIED`, EACCES, EPERM). Undefined for any other failure.
 */
export function readOnlyCauseOf(error: unknown): 'filesystem' | 'permissions' | undefined {
  if (isAiosError(error, ErrorCode.IO_READ_ONLY)) return 'filesystem';
  if (isAiosError(error, ErrorCode.IO_PERMISSION_DENIED)) return 'permissions';
  const errno = (error as NodeJS.ErrnoException | undefined)?.code;
  if (errno === 'EROFS') return 'filesystem';
  if (errno === 'EACCES' || errno === 'EPERM') return 'permissions';
  return undefined;
}

/**
 * `IO_READ_ONLY` for a write refused because `path` is open to read only (`cause`):
 * `refused` says what would have written (`"\`aios memory add\`"`, "writing the
 * database"). The message ends by saying that nothing was changed: a refusal comes before
 * anything is written.
 */
export function readOnlyRefusal(
  path: string,
  what: string,
  cause: ReadOnlyCause,
  refused: string,
  error?: unknown,
): AiosError {
  return new AiosError(
    ErrorCode.IO_READ_ONLY,
    `${path}: ${what} is read-only (${describeReadOnlyCause(cause)}): ${refused} was refused; nothing was changed`,
    { ...(error === undefined ? {} : { cause: error }), details: { path, readOnly: cause } },
  );
}

/** `IO_READ_ONLY` for a write to `path` on a read-only filesystem (`reason`: what failed). */
export function readOnly(path: string, reason: string, cause?: unknown): AiosError {
  return new AiosError(
    ErrorCode.IO_READ_ONLY,
    `${path}: the filesystem is read-only (${reason}); nothing can be written there`,
    { cause, details: { path } },
  );
}
