import { describe, expect, it } from 'vitest';
import {
  AiosError,
  describeValue,
  fromNativeError,
  fromNodeIoError,
  invalidInput,
} from './errors.js';

describe('errors', () => {
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
