import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { runProcess, testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, expectOneLineError, runCli, tempHomes } from './testing/cli.js';

// `aios config` and `aios memory show|edit|delete|consolidate`, end to end: the built CLI
// in child processes, each suite with its own AIOS_HOME, offline.
const tempHome = tempHomes('aios-manage-');

const run = (home: string, args: string[], env: Record<string, string> = {}) =>
  runCli(home, ['--offline', ...args], env);

const oneLineError = expectOneLineError;

describe.each(testImplementations())('aios config (AIOS_NATIVE=%s)', (impl) => {
  const home = tempHome();
  const file = join(home, 'config.json');
  const aios = (...args: string[]) => run(home, args, { AIOS_NATIVE: impl });

  it('get shows the effective config or one key', () => {
    const all = aios('config', 'get', '--json');
    expect(all.code).toBe(0);
    expect(JSON.parse(all.stdout)).toMatchObject({ home, carma: { search: { k: 8 } } });
    expect(aios('config', 'get', 'carma.search.k').stdout).toBe('8\n');
    expect(JSON.parse(aios('config', 'get', 'luna.llm.model', '--json').stdout)).toBeNull();
    const unknown = aios('config', 'get', 'carma.nope');
    expect(unknown.code).toBe(1);
    oneLineError(unknown.stderr, 'CONFIG_UNKNOWN_KEY');
  });

  it('set writes <home>/config.json after validating; a bad value leaves it untouched', () => {
    const set = aios('config', 'set', 'carma.search.k', '5', '--json');
    expect(set.stderr).toBe('');
    expect(set.code).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ carma: { search: { k: 5 } } });
    expect(aios('config', 'set', 'luna.llm.model', 'qwen3').code).toBe(0);
    expect(aios('config', 'get', 'carma.search.k').stdout).toBe('5\n');
    const before = readFileSync(file, 'utf8');

    const bad = aios('config', 'set', 'carma.search.k', '0');
    expect(bad.code).toBe(1);
    oneLineError(bad.stderr, 'CONFIG_INVALID');
    expect(bad.stderr).toContain('carma.search.k');
    expect(bad.stderr).toContain('>=1');
    const url = aios('config', 'set', 'luna.llm.baseUrl', 'not-a-url');
    expect(url.code).toBe(1);
    expect(url.stderr).toContain('http(s) URL');
    const typo = aios('config', 'set', 'carma.serch.k', '3');
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain('unknown field');
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(existsSync(`${file}.tmp`)).toBe(false);
  });

  it('validate lists every problem and exits 1', () => {
    expect(aios('config', 'validate').code).toBe(0);
    writeFileSync(file, JSON.stringify({ carma: { search: { k: 0 } }, logLevl: 'debug' }));
    const bad = aios('config', 'validate');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('2 problems [CONFIG_INVALID]');
    expect(bad.stderr).toContain('carma.search.k');
    expect(bad.stderr).toContain('logLevl');
    const json = aios('config', 'validate', '--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ valid: false, file });
    expect(JSON.parse(json.stdout).issues).toHaveLength(2);
    writeFileSync(file, '{ not json');
    const broken = aios('config', 'validate');
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('not valid JSON');
    expect(aios('config', 'get', '--help').stdout).toContain('Usage: aios config get');
    rmSync(file);
  });
});

describe.each(testImplementations())(
  'aios memory show|edit|delete|consolidate (AIOS_NATIVE=%s)',
  (impl) => {
    const home = tempHome();
    const aios = (...args: string[]) => run(home, args, { AIOS_NATIVE: impl });

    it('shows, edits, consolidates and deletes fragments', () => {
      const notes = join(home, 'heron.md');
      writeFileSync(
        notes,
        '# Heron\n\nThe grey heron fished at the village pond every morning.\n\n# Owl\n\nThe barn owl hunts over the meadow at night.\n\n# Heron again\n\nThe grey heron fished at the village pond every single morning.\n',
      );
      expect(aios('ingest', notes).code).toBe(0);
      const search = JSON.parse(aios('memory', 'search', 'barn owl meadow', '--json').stdout);
      const id = search.results[0].id as string;

      // The end of the id that search prints is enough; nothing to change fails before
      // opening the cores.
      const nothing = aios('memory', 'edit', id);
      expect(nothing.code).toBe(1);
      oneLineError(nothing.stderr, 'INVALID_INPUT');
      const edit = aios(
        'memory',
        'edit',
        id.slice(-8),
        '--text',
        'The barn owl hunts voles at night.',
        '--json',
      );
      expect(edit.stderr).toBe('');
      expect(JSON.parse(edit.stdout)).toMatchObject({ id, version: 2, source: notes });
      const show = aios('memory', 'show', id, '--json');
      expect(show.stderr).toBe('');
      const shown = JSON.parse(show.stdout);
      expect(shown).toMatchObject({ id, source: notes, namespace: 'documents' });
      expect(shown.text).toBe('The barn owl hunts voles at night.');
      expect(shown.history.map((h: { type: string }) => h.type)).toEqual(['add', 'update']);

      const consolidate = aios('memory', 'consolidate');
      expect(consolidate.code).toBe(0);
      expect(consolidate.stderr).toMatch(/consolidating: \d+\/\d+ clusters/);
      expect(consolidate.stdout).toMatch(/^consolidated 1 namespace, \d+ clusters?: /);

      const del = aios('memory', 'delete', id, '--json');
      expect(del.code).toBe(0);
      expect(JSON.parse(del.stdout)).toEqual({ deleted: id });
      // The history outlives the fragment, the old texts with it.
      const gone = aios('memory', 'show', id, '--json');
      expect(gone.stderr).toBe('');
      const history = JSON.parse(gone.stdout);
      expect(history).toMatchObject({ id, deleted: true });
      expect(history.history[0]).toMatchObject({ type: 'add', textChanged: true });
      expect(history.history[0].text).toContain('The barn owl hunts over the meadow at night.');
      expect(history.history.at(-1).type).toBe('delete');
      const readable = aios('memory', 'show', id);
      expect(readable.stdout).toContain('(deleted');
      expect(readable.stdout).toContain('The barn owl hunts over the meadow at night.');
      expect(readable.stdout).toContain('The barn owl hunts voles at night.');
      const unknown = aios('memory', 'show', 'f00dbeef');
      expect(unknown.code).toBe(1);
      oneLineError(unknown.stderr, 'FRAGMENT_NOT_FOUND');
    });
  },
);

describe.each(testImplementations())(
  'aios backup diff|forget|prune|export (AIOS_NATIVE=%s)',
  (impl) => {
    const home = tempHome();
    const aios = (...args: string[]) => run(home, args, { AIOS_NATIVE: impl });

    it('diffs, exports as tar, forgets and prunes snapshots', () => {
      writeFileSync(join(home, 'a.txt'), 'first version\n');
      const first = JSON.parse(aios('backup', 'create', '--json').stdout).snapshot.id as string;
      writeFileSync(join(home, 'a.txt'), 'second, longer version\n');
      writeFileSync(join(home, 'b.txt'), 'a new file\n');
      const second = JSON.parse(aios('backup', 'create', '--json').stdout).snapshot.id as string;

      const diff = aios('backup', 'diff', first.slice(0, 8), second.slice(0, 8), '--json');
      expect(diff.stderr).toBe('');
      const changes = JSON.parse(diff.stdout);
      expect(changes.files).toEqual({ added: ['b.txt'], removed: [], modified: ['a.txt'] });
      expect(aios('backup', 'diff', first, second).stdout).toContain(
        'other files: 1 added, 0 removed, 1 modified\n  + b.txt\n  M a.txt\n',
      );

      const tar = join(home, 'out', 'first.tar');
      mkdirSync(join(home, 'out'));
      const exported = aios('backup', 'export', first.slice(0, 8), tar);
      expect(exported.stderr).toBe('');
      expect(exported.code).toBe(0);
      const list = spawnSync('tar', ['tf', tar], { encoding: 'utf8' });
      expect(list.stdout).toMatch(/a\.txt/);
      expect(list.stdout).not.toMatch(/b\.txt/);
      const piped = spawnSync(process.execPath, [cli, 'backup', 'export', second, '-'], {
        cwd: home,
        env: { PATH: process.env.PATH ?? '', AIOS_HOME: home, AIOS_NATIVE: impl },
      });
      expect(piped.status).toBe(0);
      expect(piped.stdout.length).toBeGreaterThan(statSync(tar).size);
      expect(piped.stdout.subarray(257, 262).toString()).toBe('ustar'); // a tar header

      const noPolicy = aios('backup', 'forget');
      expect(noPolicy.code).toBe(1);
      oneLineError(noPolicy.stderr, 'INVALID_INPUT');
      const dry = JSON.parse(
        aios('backup', 'forget', '--keep-last', '1', '--dry-run', '--json').stdout,
      );
      expect(dry.remove).toEqual([first]);
      const forget = aios('backup', 'forget', '--keep-last', '1', '--prune', '--json');
      expect(forget.stderr).toBe('');
      const forgot = JSON.parse(forget.stdout);
      expect(forgot).toMatchObject({ keep: [second], remove: [first] });
      expect(forgot.prune.chunksRemoved).toBeGreaterThan(0);
      const prune = JSON.parse(aios('backup', 'prune', '--json').stdout);
      expect(prune.chunksRemoved).toBe(0);
      const gone = aios('backup', 'diff', first, second);
      expect(gone.code).toBe(1);
      oneLineError(gone.stderr, 'SNAPSHOT_NOT_FOUND');
    });

    it('a locked repository gives a clear message and a non-zero exit', () => {
      const locks = join(home, 'backups', 'locks');
      mkdirSync(locks, { recursive: true });
      // Held by this (live) test process, as another `aios backup` would hold it.
      writeFileSync(
        join(locks, 'lock.json'),
        JSON.stringify({
          pid: process.pid,
          hostname: hostname(),
          operation: 'backup',
          time: new Date().toISOString(),
        }),
      );
      for (const args of [
        ['backup', 'create'],
        ['backup', 'prune'],
        ['backup', 'forget', '--keep-last', '1'],
      ]) {
        const locked = aios(...args);
        expect(locked.code).toBe(1);
        oneLineError(locked.stderr, 'REPO_LOCKED');
        expect(locked.stderr).toContain(`is locked by backup (pid ${process.pid}`);
      }
      rmSync(join(locks, 'lock.json'));
      expect(aios('backup', 'prune').code).toBe(0);
    });
  },
);

describe.each(testImplementations())('aios ingest of a ChatGPT export (AIOS_NATIVE=%s)', (impl) => {
  const home = tempHome();
  const aios = (...args: string[]) => run(home, args, { AIOS_NATIVE: impl });

  it('imports each message with its conversation, role and time; malformed -> clear error', () => {
    const file = join(home, 'conversations.json');
    const message = (id: string, parent: string, role: string, text: string, t: number) => ({
      id,
      parent,
      children: [],
      message: {
        id,
        author: { role },
        create_time: t,
        content: { content_type: 'text', parts: [text] },
      },
    });
    writeFileSync(
      file,
      JSON.stringify([
        {
          title: 'Kayak trip',
          conversation_id: 'c-42',
          current_node: 'b',
          mapping: {
            a: message(
              'a',
              '',
              'user',
              'Which river is good for a first kayak trip?',
              1_700_000_000,
            ),
            b: message(
              'b',
              'a',
              'assistant',
              'The Ardèche gorge is calm in late summer.',
              1_700_000_060,
            ),
          },
        },
      ]),
    );
    const ingest = aios('ingest', file, '--json');
    expect(ingest.stderr).toBe('');
    expect(JSON.parse(ingest.stdout)).toMatchObject({ added: 2, duplicate: 0 });
    expect(JSON.parse(aios('ingest', file, '--json').stdout)).toMatchObject({
      added: 0,
      unchanged: 1,
    });
    const hit = JSON.parse(aios('memory', 'search', 'Ardèche gorge calm', '--json').stdout)
      .results[0];
    expect(hit.source).toBe(file);
    const shown = JSON.parse(aios('memory', 'show', hit.id, '--json').stdout);
    expect(shown.metadata).toMatchObject({
      kind: 'chatgpt',
      conversation: 'Kayak trip',
      conversationId: 'c-42',
      role: 'assistant',
      time: new Date(1_700_000_060_000).toISOString(),
    });

    writeFileSync(file, JSON.stringify([{ title: 'Broken', mapping: [1, 2] }]));
    const bad = aios('ingest', file);
    expect(bad.code).toBe(1);
    oneLineError(bad.stderr, 'INGEST_INVALID');
    expect(bad.stderr).toContain('not a valid ChatGPT export');
  });
});

/** Runs the CLI asynchronously (a loopback server in this process must keep answering). */
function runPiped(home: string, args: string[], input: string, env: Record<string, string>) {
  return runProcess(process.execPath, [cli, ...args], {
    cwd: home,
    env: { PATH: process.env.PATH ?? '', AIOS_HOME: home, ...env },
    input,
  });
}

describe.each(testImplementations())('aios chat (AIOS_NATIVE=%s)', (impl) => {
  let server: Server;
  let baseUrl = '';
  const requests: Array<{ stream?: boolean; messages: Array<{ content: string }> }> = [];
  beforeAll(async () => {
    // An OpenAI-compatible model on loopback that streams its reply in three pieces.
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        if (req.url?.endsWith('/models')) {
          res.setHeader('content-type', 'application/json');
          res.end(
            JSON.stringify({ object: 'list', data: [{ id: 'test-model', object: 'model' }] }),
          );
          return;
        }
        const request = JSON.parse(body);
        requests.push(request);
        const pieces = ['At ', 'dawn ', '[1].'];
        if (!request.stream) {
          res.setHeader('content-type', 'application/json');
          res.end(
            JSON.stringify({
              id: 'c1',
              object: 'chat.completion',
              model: 'test-model',
              choices: [
                {
                  index: 0,
                  message: { role: 'assistant', content: pieces.join('') },
                  finish_reason: 'stop',
                },
              ],
              usage: { prompt_tokens: 10, completion_tokens: 3, total_tokens: 13 },
            }),
          );
          return;
        }
        res.setHeader('content-type', 'text/event-stream');
        for (const piece of pieces) {
          const chunk = {
            id: 'c1',
            object: 'chat.completion.chunk',
            model: 'test-model',
            choices: [{ index: 0, delta: { content: piece }, finish_reason: null }],
          };
          res.write(`data: ${JSON.stringify(chunk)}\n\n`);
        }
        res.write(
          `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model: 'test-model', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: { prompt_tokens: 10, completion_tokens: 3, total_tokens: 13 } })}\n\n`,
        );
        res.end('data: [DONE]\n\n');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('converses over piped stdin: streamed answers, /sources, /feedback (and undo), /personality, /exit', async () => {
    const home = tempHome();
    const note = join(home, 'heron.md');
    writeFileSync(note, 'The grey heron fishes at the pond at dawn.\n');
    const env = { AIOS_NATIVE: impl, AIOS_LUNA__LLM__BASE_URL: baseUrl };
    expect(run(home, ['ingest', note], env).code).toBe(0);
    const input = [
      'When does the heron fish?',
      '/sources',
      '/feedback 1 short and right',
      '/feedback 9',
      '/feedback undo',
      '/personality',
      '/feedback undo',
      'And where?',
      '/exit',
      'never asked',
    ].join('\n');
    const chat = await runPiped(home, ['chat'], `${input}\n`, env);
    const lines = chat.stdout.split('\n');
    expect(lines[0]).toBe('At dawn [1].');
    expect(lines[1]).toContain('heron.md:1');
    expect(lines[2]).toMatch(/^feedback recorded for /);
    expect(lines[3]).toMatch(/^feedback [\w-]+ undone \(rating \+1 "short and right" on answer /);
    // The undo put the traits back where they started.
    expect(lines[4]).toBe(
      'openness 0.70, conscientiousness 0.70, extraversion 0.50, agreeableness 0.75, neuroticism 0.25',
    );
    expect(lines[5]).toBe('At dawn [1].');
    expect(chat.stdout).not.toContain('never asked');
    expect(chat.stderr).toBe(
      'aios: rating: expected a number from -1 to 1, got "9" [INVALID_INPUT]\n' +
        'aios: there is no feedback to undo (none given yet, or all of it undone) [LUNA_NOTHING_TO_UNDO]\n',
    );
    expect(chat.code).toBe(1); // a line failed
    expect(requests.filter((r) => r.stream)).toHaveLength(2);
    expect(
      requests.at(-1)?.messages.some((m) => m.content.includes('When does the heron fish?')),
    ).toBe(true);

    const offline = await runPiped(home, ['--offline', 'chat'], 'When does the heron fish?\n', {
      AIOS_NATIVE: impl,
    });
    expect(offline.code).toBe(0);
    expect(offline.stdout).toMatch(/^\[offline\] .*heron fishes at the pond at dawn/);
  });
});
