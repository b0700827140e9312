import { describe, expect, it } from 'vitest';
import { inputPattern } from './input-pattern';
import { PATTERN } from './pattern.gen';

/** What a browser does with an input's `pattern` attribute (HTML: anchored, `v` flag). */
const browserChecks = (pattern: string) => new RegExp(`^(?:${pattern})$`, 'v');

describe('inputPattern', () => {
  it('takes in a form the tenant ids the server takes, and refuses those it refuses', () => {
    const tenant = browserChecks(inputPattern(PATTERN['POST /v1/tenants'].id));
    for (const id of ['acme', 'acme-eu-2', '7', 'a'.repeat(63)]) expect(tenant.test(id)).toBe(true);
    for (const id of ['', '-acme', 'Acme', 'acme_eu', 'a'.repeat(64), ' acme']) {
      expect(tenant.test(id)).toBe(false);
    }
  });

  it('keeps the server pattern of a backup id as the browser reads it', () => {
    const id = browserChecks(inputPattern(PATTERN['POST /v1/backups/{id}/restore'].id));
    expect(['latest', 'a3f9', 'latest2'].map((s) => id.test(s))).toEqual([true, true, false]);
  });

  it('would not compile for a browser without the escape', () => {
    expect(() => browserChecks('[a-z0-9-]')).toThrow(SyntaxError);
  });
});
