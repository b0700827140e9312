import { describe, expect, it, vi } from 'vitest';
import {
  AiosError,
  ConfigError,
  describeReadOnlyCause,
  describeValue,
  fromNativeError,
  fromNodeIoError,
  invalidInput,
  isAiosError,
  readOnlyCauseOf,
  readOnlyRefusal,
} from './errors.js';

describe('errors', () => {
  it('recognises the errors of another copy of the package (an ES and a CommonJS build)', async () => {
    vi.resetModules();
    // A second instance of the module, as another build of the package gives.
    const other = (await import('./errors.js?copy' as string)) as typeof import('./errors.js');
    expect(other.AiosError).not.toBe(AiosError);
    const theirs = new other.AiosError('FRAGMENT_NOT_FOUND', 'gone');
    expect(theirs).toBeInstanceOf(AiosError);
    expect(isAiosError(theirs, 'FRAGMENT_NOT_FOUND')).toBe(true);
    expect(new AiosError('X', 'mine')).toBeInstanceOf(other.AiosError);
    expect(new other.ConfigError('CONFIG_INVALID', 'bad')).toBeInstanceOf(AiosError);
    // Subclasses and other errors check as classes do.
    expect(new ConfigError('CONFIG_PARSE', 'bad')).toBeInstanceOf(ConfigError);
    expect(new AiosError('X', 'plain')).not.toBeInstanceOf(ConfigError);
    expect(new Error('plain')).not.toBeInstanceOf(AiosError);
    expect(Object.assign(new Error('look-alike'), { code: 'X' })).not.toBeInstanceOf(AiosError);
    expect(isAiosError(null)).toBe(false);
    expect(isAiosError('AiosError')).toBe(false);
  });

  it('maps coded native errors to AiosError with the same code', () => {
    const error = fromNativeError(new Error('[AIOS:IO_NOT_FOUND] /x: No such file'));
    expect(error).toBeInstanceOf(AiosError);
    expect(error.code).toBe('IO_NOT_FOUND');
    expect(error.message).toBe('/x: No such file');
    expect(fromNativeError(new Error('boom')).code).toBe('NATIVE_FAILURE');
  });

  it('maps Node system errors to IO codes', () => {
    const enoent = Object.assign(new Error('nope'), { code: 'ENOENT' });
    const eacces = Object.assign(new Error('denied'), { code: 'EACCES' });
    expect(fromNodeIoError(enoent, '/a').code).toBe('IO_NOT_FOUND');
    expect(fromNodeIoError(eacces, '/a').code).toBe('IO_PERMISSION_DENIED');
  });

  it('names a full disk and a read-only filesystem, with what was being written', () => {
    const errno = (code: string) => Object.assign(new Error(`${code}: failed, write`), { code });
    for (const code of ['ENOSPC', 'EDQUOT']) {
      const full = fromNodeIoError(errno(code), '/home/a.db', 'writing the lease');
      expect(full.code).toBe('IO_DISK_FULL');
      expect(full.message).toBe(
        `/home/a.db: no space left on the device (writing the lease: ${code}: failed, write); free some space and try again`,
      );
      expect(full.details).toEqual({ path: '/home/a.db' });
    }
    const readOnly = fromNodeIoError(errno('EROFS'), '/home/a.db');
    expect(readOnly.code).toBe('IO_READ_ONLY');
    expect(readOnly.message).toMatch(/^\/home\/a\.db: the filesystem is read-only \(EROFS/);
  });

  it('tells a folder that cannot be written by its error, and refuses a write there saying why', () => {
    const errno = (code: string) => Object.assign(new Error(code), { code });
    expect(readOnlyCauseOf(errno('EROFS'))).toBe('filesystem');
    expect(readOnlyCauseOf(errno('EACCES'))).toBe('permissions');
    expect(readOnlyCauseOf(errno('EPERM'))).toBe('permissions');
    expect(readOnlyCauseOf(fromNodeIoError(errno('EROFS'), '/h'))).toBe('filesystem');
    expect(readOnlyCauseOf(fromNodeIoError(errno('EACCES'), '/h'))).toBe('permissions');
    expect(readOnlyCauseOf(errno('ENOSPC'))).toBeUndefined();
    expect(readOnlyCauseOf(fromNodeIoError(errno('ENOENT'), '/h'))).toBeUndefined();
    const refused = readOnlyRefusal('/h', 'the AIOS home', 'permissions', '`aios memory add`');
    expect(refused.code).toBe('IO_READ_ONLY');
    expect(refused.message).toBe(
      '/h: the AIOS home is read-only (this user may not write to it): `aios memory add` was refused; nothing was changed',
    );
    expect(refused.details).toEqual({ path: '/h', readOnly: 'permissions' });
    expect(describeReadOnlyCause('filesystem')).toBe('its filesystem is mounted read-only');
  });

  it('describes bad values briefly', () => {
    expect(describeValue(Number.NaN)).toBe('NaN');
    expect(describeValue(new Float32Array(3))).toBe('Float32Array(12 bytes)');
    expect(describeValue('x'.repeat(200))).toHaveLength(82);
    expect(invalidInput('k', -1, 'a positive integer').message).toBe(
      'k: expected a positive integer, got -1 (number)',
    );
  });

  it('serialises to JSON with its code', () => {
    const error = new AiosError('X_CODE', 'msg', { details: { a: 1 } });
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      name: 'AiosError',
      code: 'X_CODE',
      message: 'msg',
      details: { a: 1 },
    });
  });
});
