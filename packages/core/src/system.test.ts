import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, runCli, tempHomes } from './testing/cli.js';

// The whole system end to end, as a person drives it: the built CLI in child processes,
// each suite with its own AIOS_HOME. `--offline` keeps every test away from any LLM but
// the loopback one started below.
const tempHome = tempHomes('aios-e2e-');

const run = runCli;

const noStack = /\n\s+at /;
const demoNotes = join(dirname(fileURLToPath(import.meta.url)), '..', 'demo');
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe.each(testImplementations())('the system end to end (AIOS_NATIVE=%s)', (impl) => {
  const home = tempHome();
  const notes = join(home, 'notes');
  const aios = (...args: string[]) => run(home, ['--offline', ...args], { AIOS_NATIVE: impl });

  beforeAll(() => {
    mkdirSync(join(notes, 'garden'), { recursive: true });
    writeFileSync(
      join(notes, 'garden', 'tomatoes.md'),
      '# Tomatoes\n\nThe tomatoes are watered every Tuesday at dawn with rain water.\n',
    );
    writeFileSync(
      join(notes, 'travel.txt'),
      'The passport renewal appointment is on the ninth of May in Lyon.\n',
    );
    writeFileSync(
      join(notes, 'facts.jsonl'),
      '{"text":"The bicycle lock code is kept in the blue notebook."}\n{"text":"The boiler was serviced in October."}\n',
    );
    writeFileSync(
      join(notes, 'list.json'),
      JSON.stringify([{ title: 'Cat', text: 'Miso the cat eats twice a day.' }]),
    );
  });

  it('ingest -> ask -> feedback -> backup -> wipe -> restore -> ask gives the same answer', () => {
    const ingest = aios('ingest', notes, '--json');
    expect(ingest.stderr).toBe('');
    expect(ingest.code).toBe(0);
    const result = JSON.parse(ingest.stdout);
    expect(result.files).toHaveLength(4);
    expect(result.added).toBe(5);

    const again = JSON.parse(aios('ingest', notes, '--json').stdout);
    expect(again).toMatchObject({ added: 0, duplicate: 0, unchanged: 4 }); // skipped: unchanged

    const ask = aios('ask', 'When are the tomatoes watered?', '--json');
    expect(ask.code).toBe(0);
    const first = JSON.parse(ask.stdout);
    expect(first.mode).toBe('offline');
    expect(first.answer).toContain('Tuesday');
    expect(first.sources[0].source).toBe(join(notes, 'garden', 'tomatoes.md'));
    // Cited at the line of the quoted sentence (line 1 is the note's heading).
    expect(first.sources[0]).toMatchObject({ line: 3, offset: 0 });

    const text = aios('ask', 'When are the tomatoes watered?');
    expect(text.stdout).toContain('[offline]');
    expect(text.stdout).toContain('Sources:');
    expect(text.stdout).toContain('tomatoes.md:3');

    const feedback = aios('feedback', first.id, '1', '--text', 'more detail', '--json');
    expect(feedback.stderr).toBe('');
    expect(feedback.code).toBe(0);
    expect(JSON.parse(feedback.stdout).feedback.rating).toBe(1);
    const rated = JSON.parse(aios('ask', 'When are the tomatoes watered?', '--json').stdout);
    expect(rated.sources[0].source).toBe(first.sources[0].source);

    const backup = aios('backup', 'create', '--json');
    expect(backup.stderr).toBe('');
    expect(backup.code).toBe(0);
    const id = JSON.parse(backup.stdout).snapshot.id as string;
    const list = JSON.parse(aios('backup', 'list', '--json').stdout);
    expect(list.map((s: { id: string }) => s.id)).toEqual([id]);
    expect(aios('backup', 'verify').code).toBe(0);

    for (const name of readdirSync(home)) {
      if (name.startsWith('aios.db') || name === 'carma')
        rmSync(join(home, name), { recursive: true });
    }
    const empty = JSON.parse(aios('ask', 'When are the tomatoes watered?', '--json').stdout);
    expect(empty.sources).toEqual([]);

    const restore = aios('backup', 'restore', id.slice(0, 10));
    expect(restore.stderr).toBe('');
    expect(restore.code).toBe(0);
    const after = JSON.parse(aios('ask', 'When are the tomatoes watered?', '--json').stdout);
    expect(after.answer).toBe(rated.answer);
    expect(after.sources).toEqual(rated.sources);
  });

  it('memory search and stats, health, metrics', () => {
    const search = JSON.parse(aios('memory', 'search', 'passport appointment', '--json').stdout);
    expect(search.results[0].source).toBe(join(notes, 'travel.txt'));
    const stats = JSON.parse(aios('memory', 'stats', '--json').stdout);
    expect(stats.fragments).toBeGreaterThanOrEqual(5);
    expect(stats.implementation).toBe(impl);

    const health = aios('health', '--json');
    const report = JSON.parse(health.stdout);
    expect(health.code).toBe(report.status === 'fail' ? 1 : 0);
    expect(report.checks['database:writable'][0].status).toBe('pass');
    expect(report.checks['backup:age'][0].status).toBe('pass'); // backed up and verified above
    expect(Object.keys(report.checks)).toContain('native:loaded');

    const metrics = aios('metrics');
    expect(metrics.code).toBe(0);
    expect(metrics.stdout).toContain('# TYPE aios_health_check_status gauge');
    expect(metrics.stdout).toMatch(/aios_memory_items\{core="carma"\} \d+/);
  });

  it('demo runs on a fresh home and exits 0', () => {
    const fresh = tempHome();
    const demo = run(fresh, ['--offline', 'demo'], { AIOS_NATIVE: impl });
    expect(demo.stderr).toBe('');
    expect(demo.code).toBe(0);
    expect(demo.stdout).toContain('aios ask "What does CARMA do?"');
    expect(demo.stdout).toContain('carma.md');
    expect(demo.stdout).toContain('health');
    // Why the answers are quoted from memory, said once as `aios ask` says it.
    const hints = demo.stdout.split('\n').filter((l) => l.startsWith('(offline: '));
    expect(hints).toEqual(['(offline: --offline was given, so no language model was asked)']);
    expect(demo.stdout).not.toContain('no language model answered');
    expect(demo.stdout).toMatch(new RegExp(`@aios/carma\\s+\\d+\\.\\d+\\.\\d+\\s+${impl}`));
    const json = JSON.parse(
      run(fresh, ['--offline', 'demo', '--json'], { AIOS_NATIVE: impl }).stdout,
    );
    expect(json.ingested.added).toBe(0); // the second run finds everything known
    expect(json.answers).toHaveLength(3);
    for (const answer of json.answers) expect(answer.sources.length).toBeGreaterThan(0);

    // The bundled notes are hard-wrapped Markdown: every quote is one whole sentence of
    // them, never a heading or a line cut mid-sentence.
    const raw = readdirSync(demoNotes)
      .map((name) => readFileSync(join(demoNotes, name), 'utf8'))
      .join('\n\n');
    const notes = raw.replace(/\s+/g, ' ');
    for (const answer of json.answers) {
      const quoted = (answer.answer as string).split('; from memory: ')[1] ?? '';
      const quotes = quoted.split(/ \[\d+\](?: |$)/).filter(Boolean);
      expect(quotes.length).toBeGreaterThan(0);
      for (const quote of quotes) {
        expect(notes).toContain(quote);
        expect(quote).toMatch(/^[A-Z`]/);
        expect(quote).toMatch(/[.!?]$/);
        // It starts a paragraph or follows the end of another sentence.
        const start = `(?:^|[.!?]\\s+|\\n\\s*\\n)${escapeRegExp(quote).replace(/ /g, '\\s+')}`;
        expect(raw).toMatch(new RegExp(start));
      }
    }
    const dedup = json.answers.find((a: { question: string }) =>
      a.question.includes('deduplicated'),
    );
    expect(dedup.answer).toContain(
      'Files are cut into content-defined chunks with FastCDC, and each chunk is named by its BLAKE3 hash and stored only once, so backups are deduplicated: a second snapshot of unchanged data adds almost nothing. [1]',
    );
  });
});

describe.each(testImplementations())('SIGTERM during an ingest (AIOS_NATIVE=%s)', (impl) => {
  it('closes the cores first: nothing acknowledged is lost, a re-run completes', async () => {
    const home = tempHome();
    const dir = join(home, 'many');
    mkdirSync(dir);
    const total = 1500;
    for (let i = 0; i < total; i++) {
      writeFileSync(
        join(dir, `${String(i).padStart(4, '0')}.md`),
        `Note ${i}: the heron${i} fished at pond ${i % 17}.\n`,
      );
    }
    const env = { PATH: process.env.PATH ?? '', AIOS_HOME: home, AIOS_NATIVE: impl };
    const child = spawn(process.execPath, [cli, '--offline', 'ingest', dir], { cwd: home, env });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (c) => {
        stdout += c;
        if (stdout.split('\n').length > 20) resolve();
      });
      child.on('close', () => resolve());
    });
    child.kill('SIGTERM');
    const code = await exited;
    const acknowledged = stdout.split('\n').filter((l) => l.includes('1 added')).length;
    expect(stderr).not.toMatch(noStack);
    if (code !== 0) {
      expect(code).toBe(143);
      expect(stderr).toContain('SIGTERM, closing');
    }
    const stats = JSON.parse(
      run(home, ['--offline', 'memory', 'stats', '--json'], { AIOS_NATIVE: impl }).stdout,
    );
    expect(stats.fragments).toBeGreaterThanOrEqual(acknowledged);
    const rerun = JSON.parse(
      run(home, ['--offline', 'ingest', dir, '--json'], { AIOS_NATIVE: impl }).stdout,
    );
    // Files done before the signal are unchanged (skipped), the one it stopped in is kept.
    expect(rerun.added).toBe(total - stats.fragments);
    expect(rerun.unchanged + rerun.kept + rerun.duplicate).toBe(stats.fragments);
  });
});

describe('bad input', () => {
  const home = tempHome();
  const aios = (...args: string[]) => run(home, ['--offline', ...args], { AIOS_NATIVE: 'js' });

  it.each([
    [['frobnicate'], "unknown command 'frobnicate'"],
    [['ask', 'x', '--colour'], "unknown option '--colour'"],
    [['memory', 'frob'], "unknown command 'frob'"],
    [['backup', 'create', '--nope'], "unknown option '--nope'"],
    [['ingest'], "missing required argument 'paths'"],
  ])('%j: usage error', (args, message) => {
    const r = aios(...args);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toMatch(/^aios: .* \[USAGE_ERROR\]\n/);
    expect(r.stderr).not.toMatch(noStack);
  });

  it('a missing file', () => {
    const r = aios('ingest', join(home, 'nope.md'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/nope\.md.*\[IO_NOT_FOUND\]/);
    expect(r.stderr).not.toMatch(noStack);
  });

  it('a malformed JSON or JSONL file, before anything is written', () => {
    writeFileSync(join(home, 'good.md'), 'A good note about herons.\n');
    writeFileSync(join(home, 'bad.json'), '{ "text": ');
    const r = aios('ingest', join(home, 'good.md'), join(home, 'bad.json'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('bad.json: not valid JSON');
    expect(r.stderr).toContain('[INGEST_INVALID]');
    expect(r.stderr).not.toMatch(noStack);
    writeFileSync(join(home, 'bad.jsonl'), '{"text":"ok"}\nnot json\n');
    const l = aios('ingest', join(home, 'bad.jsonl'));
    expect(l.stderr).toContain('bad.jsonl: line 2 is not valid JSON');
    expect(JSON.parse(aios('memory', 'stats', '--json').stdout).fragments).toBe(0);
  });

  it('feedback on an unknown answer or with a bad rating', () => {
    const unknown = aios('feedback', 'no-such-answer', '1');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('aios: no answer with id no-such-answer [LUNA_NOT_FOUND]\n');
    const bad = aios('feedback', 'x', '5');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('[INVALID_INPUT]');
  });

  it('an empty question', () => {
    for (const q of ['', '   ']) {
      const r = aios('ask', q);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe('aios: question: expected a non-empty question [INVALID_INPUT]\n');
    }
  });

  it('restoring from a repository that does not exist', () => {
    const r = aios('backup', 'list');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('[REPO_NOT_FOUND]');
    expect(r.stderr).not.toMatch(noStack);
  });
});

describe('with a language model on loopback', () => {
  let server: Server;
  let baseUrl = '';
  const questions: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        if (req.url?.endsWith('/models')) {
          res.end(
            JSON.stringify({ object: 'list', data: [{ id: 'test-model', object: 'model' }] }),
          );
          return;
        }
        const request = JSON.parse(body);
        questions.push(request.messages.at(-1).content);
        res.end(
          JSON.stringify({
            id: 'c1',
            object: 'chat.completion',
            model: 'test-model',
            choices: [
              {
                index: 0,
                message: { role: 'assistant', content: 'On Tuesdays [1].' },
                finish_reason: 'stop',
              },
            ],
            usage: { prompt_tokens: 10, completion_tokens: 4, total_tokens: 14 },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('answers with the model and cites the ingested note', async () => {
    const home = tempHome();
    writeFileSync(join(home, 'tomatoes.md'), 'The tomatoes are watered every Tuesday.\n');
    const env = { AIOS_NATIVE: 'js', AIOS_LUNA__LLM__BASE_URL: baseUrl };
    expect(run(home, ['ingest', join(home, 'tomatoes.md')], env).code).toBe(0);
    // spawnSync would block this process's server: run the CLI asynchronously.
    const child = spawn(
      process.execPath,
      [cli, 'ask', 'When are the tomatoes watered?', '--json'],
      {
        cwd: home,
        env: { PATH: process.env.PATH ?? '', AIOS_HOME: home, ...env },
      },
    );
    let stdout = '';
    child.stdout.on('data', (c) => {
      stdout += c;
    });
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    const answer = JSON.parse(stdout);
    expect(answer).toMatchObject({ mode: 'llm', answer: 'On Tuesdays [1].', model: 'test-model' });
    expect(answer.sources[0].source).toBe(join(home, 'tomatoes.md'));
    expect(questions.at(-1)).toContain('When are the tomatoes watered?');
  });
});
