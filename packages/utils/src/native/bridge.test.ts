import { describe, expect, it } from 'vitest';
import { isAiosError } from '../errors.js';
import { collectLoadErrors, loadNativeBinding } from './bridge.js';
import { resolveNativeMode } from './mode.js';

let counter = 0;
const uniqueCore = () => `@aios/test-core-${counter++}`;

function failingLoader(): never {
  const inner = new Error("Cannot find module '@aios/x-linux-x64-gnu'\nRequire stack:\n- a");
  const outer = new Error('Failed to load native binding');
  outer.cause = inner;
  throw outer;
}

describe('native bridge', () => {
  it('js mode never calls the loader', () => {
    let called = false;
    const { binding, report } = loadNativeBinding({
      core: uniqueCore(),
      mode: 'js',
      load: () => {
        called = true;
        return {};
      },
    });
    expect(called).toBe(false);
    expect(binding).toBeUndefined();
    expect(report).toMatchObject({ implementation: 'js', mode: 'js', loadErrors: [] });
    expect(report.reason).toMatch(/requested/);
  });

  it('auto mode uses the binary when it loads, once per core', () => {
    const core = uniqueCore();
    let loads = 0;
    const load = () => ({ loads: ++loads });
    const first = loadNativeBinding({ core, mode: 'auto', load });
    const second = loadNativeBinding({ core, mode: 'native', load });
    expect(first.report.implementation).toBe('native');
    expect(second.binding).toBe(first.binding);
    expect(loads).toBe(1);
  });

  it('auto mode falls back to js and keeps every load error', () => {
    const { binding, report } = loadNativeBinding({
      core: uniqueCore(),
      mode: 'auto',
      load: failingLoader,
    });
    expect(binding).toBeUndefined();
    expect(report.implementation).toBe('js');
    expect(report.loadErrors).toEqual([
      'Failed to load native binding',
      "Cannot find module '@aios/x-linux-x64-gnu'",
    ]);
    expect(report.reason).toMatch(
      /no native binding for .* \(@aios\/x-linux-x64-gnu is not installed\); using js/,
    );
  });

  it('native mode without a binary fails naming what it tried', () => {
    const core = uniqueCore();
    try {
      loadNativeBinding({ core, mode: 'native', load: failingLoader });
      expect.unreachable();
    } catch (error) {
      expect(isAiosError(error, 'NATIVE_UNAVAILABLE')).toBe(true);
      expect((error as Error).message).toContain(core);
      expect((error as Error).message).toContain("Cannot find module '@aios/x-linux-x64-gnu'");
    }
  });

  it('reads AIOS_NATIVE and rejects unknown values', () => {
    expect(resolveNativeMode(undefined, {})).toBe('auto');
    expect(resolveNativeMode(undefined, { AIOS_NATIVE: 'js' })).toBe('js');
    expect(resolveNativeMode('native', { AIOS_NATIVE: 'js' })).toBe('native');
    expect(() => resolveNativeMode(undefined, { AIOS_NATIVE: 'fast' })).toThrow(
      /AIOS_NATIVE="fast" is not allowed; use one of: auto, js, native/,
    );
  });

  it('collects non-Error causes and cycles safely', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(collectLoadErrors(b)).toEqual(['b', 'a']);
    expect(collectLoadErrors('plain')).toEqual(['plain']);
  });
});
