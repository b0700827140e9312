import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerPackages } from '../scripts/openapi.js';
import { addressOf, stopProcess } from './support/serve.js';

const { cliPath } = loadServerPackages();

function listenAnywhere(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address ? address.port : 0 });
    });
  });
}

/** `aios ui`: the server and the app on loopback, on another port when the asked one is taken. */
describe('aios ui', () => {
  let home: string;
  let blocker: { server: Server; port: number };
  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'aios-web-ui-'));
    blocker = await listenAnywhere();
  });
  afterAll(() => {
    blocker.server.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('serves the web app on 127.0.0.1, on a free port when the asked one is taken', async () => {
    const child = spawn(
      process.execPath,
      [cliPath, 'ui', '--offline', '--port', String(blocker.port)],
      {
        env: { PATH: process.env.PATH ?? '', AIOS_HOME: home, AIOS_LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    try {
      const url = await addressOf(child, /web interface: (http:\/\/127\.0\.0\.1:\d+)\//);
      expect(new URL(url).port).not.toBe(String(blocker.port));
      expect(stderr).toContain(`port ${blocker.port} is taken`);
      const page = await fetch(`${url}/`, { headers: { accept: 'text/html' } });
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<div id="app">');
      expect((await fetch(`${url}/livez`)).status).toBe(200);
    } finally {
      await stopProcess(child);
    }
    expect(child.exitCode === 0 || child.exitCode === 143).toBe(true);
  });
});
