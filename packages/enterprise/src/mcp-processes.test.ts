/**
 * One home, three processes at once: an MCP stdio server (`aios mcp`), the CLI (`aios
 * ingest`) and `aios serve` (its `/mcp` endpoint) all write memories concurrently. Other MCP
 * memory servers are reported to corrupt or lose data this way; here every acknowledged
 * write must be there afterwards, findable, in a home that `aios doctor` finds sound. A write
 * that is refused must say why (DATA_BUSY) and is not counted as acknowledged.
 *
 * Native stores share a home (SQLite's own locks serialise the processes); a js store keeps
 * its home to itself, so on js the second process is refused at once, naming the first.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAios, loadConfig } from '@aios/core';
import { runProcess, testImplementations } from '@aios/utils/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { cli } from './index.js';
import { aiosCli, runAios, serveAios } from './test-support/cli.js';
import { type McpTestClient, mcpOverHttp, mcpOverStdio } from './test-support/mcp-client.js';

const implementations = testImplementations();

/** `aios <args>` on `home` without blocking the event loop (the other writers run meanwhile). */
function aiosAsync(home: string, args: string[], env: Record<string, string>) {
  return runProcess(process.execPath, [aiosCli, ...args], {
    cwd: home,
    env: { PATH: process.env.PATH ?? '', AIOS_HOME: home, AIOS_LOG_LEVEL: 'warn', ...env },
  });
}

async function setUpHome(impl: 'native' | 'js'): Promise<{ home: string; key: string }> {
  const home = mkdtempSync(join(tmpdir(), 'aios-three-processes-'));
  const config = loadConfig({
    overrides: { home, native: impl, logLevel: 'silent' },
    env: {},
  }).config;
  const setup = await createAios({ config, offline: true });
  const { key } = await cli.keysCreate(setup, {
    name: 'writer',
    scopes: ['memory:read', 'memory:write'],
  });
  await setup.close();
  return { home, key };
}

describe('one home, several processes', () => {
  const cleanup: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await Promise.resolve(step()).catch(() => 0);
  });

  it.runIf(implementations.includes('native'))(
    'an MCP stdio server, the CLI and aios serve write at once: every acknowledged write is kept (native)',
    async () => {
      const env = { AIOS_NATIVE: 'native' };
      const { home, key } = await setUpHome('native');
      cleanup.push(() => rmSync(home, { recursive: true, force: true }));
      const served = await serveAios(home, ['--offline'], env);
      cleanup.push(() => served.child.kill('SIGKILL'));
      const stdio = await mcpOverStdio(home, env, ['--offline']);
      cleanup.push(() => stdio.close());
      const http = await mcpOverHttp(served.url, key);
      cleanup.push(() => http.close());

      const acknowledged: string[] = [];
      const refusals: string[] = [];
      const byWriter: Record<string, number> = { stdio: 0, http: 0, cli: 0 };
      const viaMcp = async (name: 'stdio' | 'http', client: McpTestClient, count: number) => {
        for (let i = 0; i < count; i++) {
          const token = `${name}fact${i}zq`;
          const result = await client.call('memory_add', {
            text: `Written by the ${name} writer: ${token}.`,
          });
          if (result.isError) {
            refusals.push(JSON.stringify(result.content));
          } else {
            acknowledged.push(token);
            byWriter[name] = (byWriter[name] ?? 0) + 1;
          }
        }
      };
      const viaCli = async (count: number) => {
        for (let i = 0; i < count; i++) {
          const token = `clifact${i}zq`;
          const file = join(home, `note-${i}.md`);
          writeFileSync(file, `Written by the CLI writer: ${token}.\n`);
          const result = await aiosAsync(home, ['ingest', file], env);
          if (result.code === 0) {
            acknowledged.push(token);
            byWriter.cli = (byWriter.cli ?? 0) + 1;
          } else {
            refusals.push(result.stderr);
          }
        }
      };
      await Promise.all([viaMcp('stdio', stdio, 30), viaMcp('http', http, 30), viaCli(6)]);

      // A write may be refused while another process holds the lock, and then says so.
      for (const refusal of refusals) expect(refusal).toMatch(/DATA_BUSY|LOCK_BUSY/);
      expect(byWriter.stdio).toBeGreaterThanOrEqual(15);
      expect(byWriter.http).toBeGreaterThanOrEqual(15);
      expect(byWriter.cli).toBeGreaterThanOrEqual(3);

      // The open MCP session sees every other process's writes.
      const listed = await stdio.ok<{ total: number }>('memory_list', { limit: 1 });
      expect(listed.total).toBeGreaterThanOrEqual(acknowledged.length);
      for (const token of acknowledged.filter((t) => !t.startsWith('stdio')).slice(0, 5)) {
        const found = await stdio.ok<{ results: Array<{ text: string }> }>('memory_search', {
          query: token,
          k: 1,
          mode: 'lexical',
        });
        expect(found.results[0]?.text).toContain(token);
      }

      // Every process closes cleanly; then the home holds every acknowledged write.
      await stdio.close();
      await http.close();
      served.child.kill('SIGTERM');
      // Stopped by SIGTERM after closing cleanly: the CLI's exit status for that is 143.
      expect(await served.exited).toBe(143);
      expect(served.stderr()).toMatch(/stopped/);
      const config = loadConfig({
        overrides: { home, native: 'native', logLevel: 'silent' },
        env: {},
      }).config;
      const after = await createAios({ config, offline: true });
      try {
        const texts = (await after.memory.list()).map((f) => f.text);
        const missing = acknowledged.filter((token) => !texts.some((t) => t.includes(token)));
        expect(missing).toEqual([]);
        for (const token of acknowledged) {
          const [hit] = await after.memory.search(token, { k: 1, mode: 'lexical' });
          expect(hit?.fragment.text, token).toContain(token);
        }
      } finally {
        await after.close();
      }
      const doctor = runAios(home, ['doctor', '--json'], env);
      expect(doctor.code, doctor.stdout + doctor.stderr).toBe(0);
    },
    240_000,
  );

  it.runIf(implementations.includes('js'))(
    'on js the home is one process’s: the server and the CLI are refused, naming the holder, and its writes are kept',
    async () => {
      const env = { AIOS_NATIVE: 'js' };
      const { home } = await setUpHome('js');
      cleanup.push(() => rmSync(home, { recursive: true, force: true }));
      const stdio = await mcpOverStdio(home, env, ['--offline']);
      cleanup.push(() => stdio.close());
      await stdio.ok('memory_add', { text: 'Kept by the js holder: jsfactzq.' });
      await expect(serveAios(home, ['--offline'], env)).rejects.toThrow(/DATA_BUSY|LOCK_BUSY/);
      const ingest = await aiosAsync(home, ['memory', 'stats'], env);
      expect(ingest.code).not.toBe(0);
      expect(ingest.stderr).toMatch(/DATA_BUSY|LOCK_BUSY/);
      await stdio.ok('memory_add', { text: 'Still writing: jsfact2zq.' });
      await stdio.close();
      const config = loadConfig({
        overrides: { home, native: 'js', logLevel: 'silent' },
        env: {},
      }).config;
      const after = await createAios({ config, offline: true });
      try {
        const texts = (await after.memory.list()).map((f) => f.text);
        expect(texts.some((t) => t.includes('jsfactzq'))).toBe(true);
        expect(texts.some((t) => t.includes('jsfact2zq'))).toBe(true);
      } finally {
        await after.close();
      }
    },
    120_000,
  );
});
