import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, describe, expect, it } from 'vitest';

// Drives the built CLI as a person would: a child process with its own AIOS_HOME.
const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli.js');
const home = mkdtempSync(join(tmpdir(), 'aios-cli-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

function aios(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    cwd: home,
    env: { PATH: process.env.PATH ?? '', AIOS_HOME: home, ...env },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe.each(testImplementations())('aios status (AIOS_NATIVE=%s)', (impl) => {
  it('lists every core with its version and implementation', () => {
    const run = aios(['status'], { AIOS_NATIVE: impl });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`@aios/utils\\s+\\d+\\.\\d+\\.\\d+\\s+${impl}`));
    expect(run.stdout).toContain(`home    ${home}`);
  });

  it('prints JSON for scripts', () => {
    const run = aios(['status', '--json'], { AIOS_NATIVE: impl });
    expect(run.code).toBe(0);
    const status = JSON.parse(run.stdout);
    expect(status.native).toBe(impl);
    expect(status.cores.map((core: { name: string }) => core.name)).toContain('@aios/utils');
    for (const core of status.cores) {
      expect(core).toMatchObject({ implementation: impl, loadErrors: [] });
    }
  });
});

describe('aios status, rate limits of aios serve', () => {
  it('says they are per instance without redis.url', () => {
    const run = aios(['status']);
    expect(run.stdout).toContain('per aios serve instance (no redis.url)');
    const json = JSON.parse(aios(['status', '--json']).stdout);
    expect(json.rateLimits).toEqual({ scope: 'instance', redis: null, requestsPerMinute: 1200 });
  });

  it('says they are shared through the Redis URL, never showing its password', () => {
    const env = {
      AIOS_REDIS__URL: 'redis://limits@10.0.0.5:6380/1',
      AIOS_REDIS__PASSWORD: 'redis-password-not-shown',
    };
    const run = aios(['status'], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('shared by every aios serve using redis://limits@10.0.0.5:6380/1');
    const json = aios(['status', '--json'], env).stdout;
    expect(JSON.parse(json).rateLimits).toEqual({
      scope: 'shared',
      redis: 'redis://limits@10.0.0.5:6380/1',
      requestsPerMinute: 1200,
    });
    expect(run.stdout + json).not.toContain('redis-password-not-shown');
  });
});

describe('aios status, the memory embedder', () => {
  it('names the model, its dimension and the query/document split', () => {
    const run = aios(['status']);
    expect(run.stdout).toContain('memory  carma-hash-v1 (384; query/document: none');
    const env = {
      AIOS_CARMA__EMBEDDER__PROVIDER: 'openai',
      AIOS_CARMA__EMBEDDER__BASE_URL: 'http://127.0.0.1:9/v1',
      AIOS_CARMA__EMBEDDER__MODEL: 'multilingual-e5-small-q4',
    };
    expect(JSON.parse(aios(['status', '--json'], env).stdout).embedder).toEqual({
      embedder: 'openai:http://127.0.0.1:9/v1#multilingual-e5-small-q4',
      dimension: null,
      roles: { query: { inputType: 'query' }, document: { inputType: 'passage' } },
    });
    expect(aios(['status'], env).stdout).toContain(
      'query/document: query: input_type "query"; document: input_type "passage"',
    );
  });
});

describe('aios output to a pipe', () => {
  it('has no colour codes, even where CI or FORCE_COLOR would ask for them', () => {
    const run = aios(['status'], { CI: 'true', FORCE_COLOR: '1' });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('@aios/utils');
    expect(run.stdout).not.toContain('\u001b[');
  });
});

describe('aios status, bad input', () => {
  it('the --native flag overrides AIOS_NATIVE', () => {
    const run = aios(['--native', 'js', 'status', '--json'], { AIOS_NATIVE: 'native' });
    expect(JSON.parse(run.stdout).cores[0].implementation).toBe('js');
  });

  it('a bad config value is one clear line, not a stack trace', () => {
    const run = aios(['status'], { AIOS_NATIVE: 'turbo' });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('native = "turbo" (from AIOS_NATIVE)');
    expect(run.stderr).toContain('[CONFIG_INVALID]');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('a malformed config file names the file', () => {
    const file = join(home, 'broken.json');
    writeFileSync(file, '{ nope');
    const run = aios(['--config', file, 'status']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${file} is not valid JSON`);
  });

  it('unknown commands and flags exit non-zero with usage help', () => {
    const unknown = aios(['frobnicate']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    const flag = aios(['status', '--colour']);
    expect(flag.code).not.toBe(0);
    expect(flag.stderr).toContain("unknown option '--colour'");
  });
});
