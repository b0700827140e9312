// A throwaway npm registry for the release test: verdaccio (a devDependency) on
// 127.0.0.1, storage in a temp dir, @aios/* served only from that storage (nothing is
// proxied for them), publishing for authenticated users. `deny` lists packages nobody may
// publish, to make a release fail half-way; restart with another list on the same storage.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { root } from '../lib/native-packages.mjs';

async function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

function config(dir, deny) {
  const denied = deny
    .map((name) => `  '${name}':\n    access: $all\n    publish: nobody-at-all\n`)
    .join('');
  return `storage: ${join(dir, 'storage')}
auth:
  htpasswd:
    file: ${join(dir, 'htpasswd')}
    max_users: 10
uplinks: {}
packages:
${denied}  '@aios/*':
    access: $all
    publish: $authenticated
  '**':
    access: $all
    publish: $authenticated
log: { type: stdout, format: pretty, level: warn }
`;
}

/** Starts verdaccio; resolves once it answers. `stop()` ends that process. */
export async function startRegistry(dir, { port, deny = [] } = {}) {
  const listen = port ?? (await freePort());
  const configPath = join(dir, 'config.yaml');
  writeFileSync(configPath, config(dir, deny));
  const require = createRequire(join(root, 'package.json'));
  const bin = join(require.resolve('verdaccio/package.json'), '../bin/verdaccio');
  // Its log goes to a file: a pipe would fill up (and stall it) while the test blocks in
  // spawnSync running npm against it.
  const logPath = join(dir, 'verdaccio.log');
  const log = openSync(logPath, 'a');
  const child = spawn(
    process.execPath,
    [bin, '--config', configPath, '--listen', `127.0.0.1:${listen}`],
    { stdio: ['ignore', log, log] },
  );
  closeSync(log);
  const output = () => readFileSync(logPath, 'utf8').slice(-4000);
  const url = `http://127.0.0.1:${listen}/`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`verdaccio exited:\n${output()}`);
    try {
      const response = await fetch(`${url}-/ping`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(`verdaccio did not answer within 60 s:\n${output()}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    port: listen,
    log: output,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Creates a user and returns its auth token (what `npm adduser` would store). */
export async function addUser(url, name, password) {
  const response = await fetch(`${url}-/user/org.couchdb.user:${name}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, password, email: `${name}@example.invalid` }),
  });
  const body = await response.json();
  if (!response.ok || !body.token) throw new Error(`adduser: ${JSON.stringify(body)}`);
  return body.token;
}

/** The versions of a package on the registry (empty when it is not there). */
export async function registryVersions(url, name) {
  // A fresh connection per request: verdaccio closes idle keep-alive sockets, which a
  // pooled fetch may still pick up between two publishes.
  const { status, body } = await new Promise((resolveGet, reject) => {
    get(`${url}${name.replace('/', '%2f')}`, { agent: false }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => {
        text += chunk;
      });
      response.on('end', () => resolveGet({ status: response.statusCode, body: text }));
    }).on('error', reject);
  });
  if (status === 404) return [];
  if (status !== 200) throw new Error(`GET ${name}: ${status}`);
  return Object.keys(JSON.parse(body).versions ?? {}).sort();
}
