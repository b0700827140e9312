import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ChatServer, startChatServer } from '@aios/luna/testing';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempHomes } from './testing/cli.js';
import { CTRL_C, ENTER, python, runInPty } from './testing/pty.js';
import { runCliAsync } from './testing/run.js';

// API keys end to end: kept in <home>/secrets.json (owner-only), used, and never printed by
// any command, nor put in a backup unless asked. Every byte the CLI writes is collected and
// searched for the keys.

const tempHome = tempHomes('aios-secrets-');
const LLM_KEY = 'sk-llm-0123456789abcdefghijklmnopqrstuv';
const EMBEDDER_KEY = 'sk-embed-9876543210zyxwvutsrqponmlkji';
const posix = process.platform !== 'win32';

let server: ChatServer;
beforeAll(async () => {
  server = await startChatServer();
});
afterAll(() => server.close());

describe.each(testImplementations())('API keys (AIOS_NATIVE=%s)', (impl) => {
  const env = { AIOS_NATIVE: impl };
  const outputs: string[] = [];
  const aios = async (home: string, args: string[], input?: string) => {
    const r = await runCliAsync(home, args, env, input);
    outputs.push(r.stdout, r.stderr);
    return r;
  };

  afterAll(() => {
    // Whatever the tests ran, no command printed a key.
    const all = outputs.join('\n');
    expect(all.length).toBeGreaterThan(0);
    expect(all).not.toContain(LLM_KEY);
    expect(all).not.toContain(EMBEDDER_KEY);
  });

  it('are stored owner-only apart from config.json, masked when shown, and used', {
    timeout: 180_000,
  }, async () => {
    const home = tempHome();
    const set = await aios(home, ['config', 'set', 'luna.llm.apiKey', LLM_KEY]);
    expect(set.code).toBe(0);
    expect(set.stdout).toContain('luna.llm.apiKey = "****stuv"');
    expect(set.stdout).toContain('readable by you only');
    // Left out on the command line: read from standard input.
    const piped = await aios(home, ['config', 'set', 'carma.embedder.apiKey'], `${EMBEDDER_KEY}\n`);
    expect(piped.code).toBe(0);
    const secrets = join(home, 'secrets.json');
    if (posix) expect(statSync(secrets).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(secrets, 'utf8'))).toEqual({
      luna: { llm: { apiKey: LLM_KEY } },
      carma: { embedder: { apiKey: EMBEDDER_KEY } },
    });

    expect((await aios(home, ['config', 'set', 'luna.llm.baseUrl', server.baseUrl])).code).toBe(0);
    expect(readFileSync(join(home, 'config.json'), 'utf8')).not.toContain(LLM_KEY);
    expect((await aios(home, ['config', 'get', 'luna.llm.apiKey'])).stdout).toBe('****stuv\n');
    const all = JSON.parse((await aios(home, ['config', 'get', '--json'])).stdout);
    expect(all.luna.llm).toMatchObject({ apiKey: '****stuv', baseUrl: server.baseUrl });
    const list = await aios(home, ['config', 'list']);
    expect(list.stdout).toMatch(/luna\.llm\.apiKey\s+\*\*\*\*stuv\s+\(.*secrets\.json\)/);

    // The key reaches the model server, and nothing prints it.
    const before = server.requests.length;
    const ask = await aios(home, ['ask', 'what is the wifi password', '--json']);
    expect(ask.code).toBe(0);
    expect(JSON.parse(ask.stdout).mode).toBe('llm');
    const sent = server.requests.slice(before);
    expect(sent.length).toBeGreaterThan(0);
    for (const r of sent) expect(r.headers.authorization).toBe(`Bearer ${LLM_KEY}`);
    await aios(home, ['status']);
    await aios(home, ['models']);
    await aios(home, ['health']);

    const unset = await aios(home, ['config', 'unset', 'luna.llm.apiKey']);
    expect(unset.code).toBe(0);
    expect(JSON.parse(readFileSync(secrets, 'utf8'))).toEqual({
      carma: { embedder: { apiKey: EMBEDDER_KEY } },
    });
  });

  it.skipIf(!python)(
    'typed at a terminal are not shown, and Ctrl-C there changes nothing',
    { timeout: 120_000 },
    async () => {
      const home = tempHome();
      const typed = await runInPty(home, ['config', 'set', 'luna.llm.apiKey'], env, [
        { wait: '(what you type is not shown): ', send: `${LLM_KEY}${ENTER}` },
      ]);
      outputs.push(typed.raw);
      expect(typed.done, typed.output).toBe(1);
      expect(typed.status).toBe(0);
      expect(typed.output).toContain('luna.llm.apiKey = "****stuv"');
      expect(JSON.parse(readFileSync(join(home, 'secrets.json'), 'utf8'))).toEqual({
        luna: { llm: { apiKey: LLM_KEY } },
      });

      const other = tempHome();
      const cancelled = await runInPty(other, ['config', 'set', 'carma.embedder.apiKey'], env, [
        { wait: '(what you type is not shown): ', send: `half-typed${CTRL_C}` },
      ]);
      outputs.push(cancelled.raw);
      expect(cancelled.status).toBe(1);
      expect(cancelled.output).toContain('[CANCELLED]');
      expect(cancelled.output).not.toContain('half-typed');
      expect(existsSync(join(other, 'secrets.json'))).toBe(false);
    },
  );

  it('found in an existing config.json are moved to the secrets file', async () => {
    const home = tempHome();
    const config = join(home, 'config.json');
    writeFileSync(config, JSON.stringify({ luna: { llm: { apiKey: LLM_KEY, model: 'm' } } }));
    const r = await aios(home, ['config', 'get', 'luna.llm.model']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('m\n');
    expect(r.stderr).toContain('moved luna.llm.apiKey from');
    expect(r.stderr).toContain('[CONFIG_SECRETS_MOVED]');
    expect(JSON.parse(readFileSync(config, 'utf8'))).toEqual({ luna: { llm: { model: 'm' } } });
    expect(readFileSync(join(home, 'secrets.json'), 'utf8')).toContain(LLM_KEY);
  });

  it('stay out of backups unless asked for with --include-secrets', {
    timeout: 120_000,
  }, async () => {
    const home = tempHome();
    await aios(home, ['config', 'set', 'luna.llm.apiKey', LLM_KEY]);
    await aios(home, ['config', 'set', 'luna.llm.model', 'm']);
    const snapshotHolds = async (args: string[]) => {
      const created = await aios(home, ['--offline', 'backup', 'create', '--json', ...args]);
      expect(created.code).toBe(0);
      const id = JSON.parse(created.stdout).snapshot.id as string;
      const tar = join(home, `${id.slice(0, 12)}.tar`);
      expect((await aios(home, ['backup', 'export', id, tar])).code).toBe(0);
      const bytes = readFileSync(tar).toString('latin1');
      expect(bytes).toContain('config.json');
      return { key: bytes.includes(LLM_KEY), file: bytes.includes('secrets.json') };
    };
    expect(await snapshotHolds([])).toEqual({ key: false, file: false });
    expect(await snapshotHolds(['--include-secrets'])).toEqual({ key: true, file: true });
  });
});
