import { describe, expect, it } from 'vitest';
import { AiosError } from '../errors.js';
import { callNative } from './call.js';

describe('callNative', () => {
  it('returns what the call returns, and what its promise resolves to', async () => {
    expect(callNative(() => 42)).toBe(42);
    await expect(callNative(() => Promise.resolve('ok'))).resolves.toBe('ok');
  });

  it('turns a coded native failure into an AiosError with that code', async () => {
    const sync = () =>
      callNative(() => {
        throw new Error('[AIOS:INVALID_INPUT] k: expected an integer');
      });
    expect(sync).toThrow(AiosError);
    expect(sync).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    await expect(
      callNative(() => Promise.reject(new Error('[AIOS:IO_NOT_FOUND] /x: missing'))),
    ).rejects.toMatchObject({ code: 'IO_NOT_FOUND', message: '/x: missing' });
  });

  it('calls an uncoded failure NATIVE_FAILURE and leaves AiosErrors as they are', async () => {
    await expect(callNative(() => Promise.reject(new Error('panicked')))).rejects.toMatchObject({
      code: 'NATIVE_FAILURE',
      message: 'panicked',
    });
    const own = new AiosError('DATA_CLOSED', 'closed');
    expect(() =>
      callNative(() => {
        throw own;
      }),
    ).toThrow(own);
  });

  it('makes a synchronous failure a rejection inside an async function', async () => {
    const run = async () =>
      callNative((): Promise<number> => {
        throw new Error('[AIOS:INVALID_INPUT] bad');
      });
    await expect(run()).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
