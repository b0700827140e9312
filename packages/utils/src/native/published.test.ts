import { describe, expect, it } from 'vitest';
import { isAiosError } from '../errors.js';
import { describeLoadFailure, loadNativeBinding, publishedPlatforms } from './bridge.js';

// What the napi-generated loader throws on a platform whose binary package is absent.
const NPM_BUG =
  'Cannot find native binding. npm has a bug related to optional dependencies (https://github.com/npm/cli/issues/4828). Please try `npm i` again after removing both package-lock.json and node_modules directory.';

function loaderFailingFor(platform: string) {
  return (): never => {
    const outer = new Error(NPM_BUG);
    outer.cause = new Error(`Cannot find module './x.${platform}.node'\nRequire stack:\n- a`);
    (outer.cause as Error).cause = new Error(
      `Cannot find module '@aios/x-${platform}'\nRequire stack:\n- a`,
    );
    throw outer;
  };
}

let counter = 0;
const uniqueCore = () => `@aios/published-test-${counter++}`;

describe('load errors name the platforms binaries are published for', () => {
  it('reads the published platforms from the binary packages @aios/utils declares', () => {
    expect(publishedPlatforms()).toContain('linux-x64-gnu');
    expect(publishedPlatforms()).not.toContain('darwin-arm64');
  });

  it('says plainly that no binary exists for an unpublished platform, without the npm bug', () => {
    const failure = describeLoadFailure(
      [NPM_BUG, "Cannot find module '@aios/luna-darwin-arm64'"],
      ['linux-x64-gnu'],
    );
    expect(failure).toEqual({
      summary: 'no native binary is published for darwin-arm64 (binaries exist for: linux-x64-gnu)',
      published: false,
    });
    expect(
      describeLoadFailure(["Cannot find module '@aios/luna-linux-arm64-musl'"], ['linux-x64-gnu'])
        .summary,
    ).toMatch(/^no native binary is published for linux-arm64-musl/);
    expect(describeLoadFailure(['Unsupported OS: aix, architecture: ppc64'], []).summary).toMatch(
      /^no native binary is published for .* \(binaries exist for: none\)/,
    );
  });

  it('names a published binary package that was left out of the install', () => {
    const failure = describeLoadFailure(
      [NPM_BUG, "Cannot find module '@aios/luna-linux-x64-gnu'"],
      ['linux-x64-gnu'],
    );
    expect(failure).toEqual({ summary: '@aios/luna-linux-x64-gnu is not installed', published: true });
  });

  it('auto mode on an unpublished platform reports js without quoting npm', () => {
    const { report } = loadNativeBinding({
      core: uniqueCore(),
      mode: 'auto',
      load: loaderFailingFor('freebsd-x64'),
    });
    expect(report.implementation).toBe('js');
    expect(report.reason).toBe(
      `no native binary is published for freebsd-x64 (binaries exist for: ${publishedPlatforms().join(', ')}); running the js implementation`,
    );
  });

  it('native mode on an unpublished platform fails with that reason and without the npm hint', () => {
    try {
      loadNativeBinding({ core: uniqueCore(), mode: 'native', load: loaderFailingFor('win32-x64-msvc') });
      expect.unreachable();
    } catch (error) {
      expect(isAiosError(error, 'NATIVE_UNAVAILABLE')).toBe(true);
      const message = (error as Error).message;
      expect(message).toContain('no native binary is published for win32-x64-msvc');
      expect(message).not.toContain('npm has a bug');
    }
  });
});
