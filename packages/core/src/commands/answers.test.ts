/**
 * `aios ingest` of a household's notes, then `aios ask` with no language model answering:
 * answers quote the right note with its subject and cite the quoted line; questions the
 * notes do not answer are refused, with what came closest labelled as such. Both
 * implementations, through the built CLI.
 */
import { execFile } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { closedPort, startChatServer } from '@aios/luna/testing';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { besidesProgress, cli, runCli, tempHomes } from '../testing/cli.js';

const HOUSEHOLD = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../../../luna/test-fixtures/household',
);

describe.each(testImplementations())('answers over a household of notes (%s)', (impl) => {
  const tempHome = tempHomes('aios-answers-');
  let home: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    home = tempHome();
    env = {
      AIOS_NATIVE: impl,
      NO_COLOR: '1',
      AIOS_LUNA__LLM__BASE_URL: `http://127.0.0.1:${await closedPort()}/v1`,
      AIOS_LUNA__LLM__MAX_RETRIES: '0',
    };
    const ingest = runCli(home, ['ingest', HOUSEHOLD], env);
    expect(besidesProgress(ingest.stderr)).toBe('');
    expect(ingest.code).toBe(0);
  });

  it('quotes the note that answers, with its subject, cited at the quoted line', () => {
    const cats = runCli(home, ['ask', 'Who is allergic to cats?'], env);
    expect(cats.code).toBe(0);
    const lines = cats.stdout.split('\n');
    expect(lines[0]).toMatch(
      /^\[offline\] .*from memory: \[Grandma Rose\] is allergic to cats, so Pixel is not allowed in her room\. \[1\]$/,
    );
    expect(lines).toContain('Sources:');
    // Line 4 of grandma.md holds the quoted sentence (line 1 is the heading).
    const source = lines.find((l) => l.startsWith('  [1] '));
    expect(source).toMatch(
      /grandma\.md:4 \(relevance 1\.00\) \[Grandma Rose\] is allergic to cats/,
    );

    const heating = runCli(home, ['ask', 'How is the heating serviced?'], env);
    expect(heating.stdout).toContain('Heating: [The boiler] is serviced every autumn by Klaus');
    expect(heating.stdout).toMatch(/heating\.md:4 \(relevance 1\.00\)/);
  });

  it('refuses what the notes do not answer, and labels what came closest', () => {
    for (const question of [
      "What is Tom's shoe size?",
      "Who is Maya's teacher?",
      "When is Tom's birthday?",
    ]) {
      const out = runCli(home, ['ask', question], env);
      expect(out.code).toBe(0);
      const lines = out.stdout.split('\n');
      expect(lines[0]).toContain(`memory holds nothing that answers "${question}"`);
      expect(lines[0]).not.toContain('from memory:');
      expect(lines).toContain('Closest (not an answer):');
      expect(lines).not.toContain('Sources:');
    }
    // Grandma's birthday is not given as Tom's.
    expect(runCli(home, ['ask', "When is Tom's birthday?"], env).stdout).not.toContain('14 March');
  });

  it('puts the judgement in the JSON', () => {
    const out = runCli(home, ['ask', '--json', "What is Tom's shoe size?"], env);
    const json = JSON.parse(out.stdout) as {
      grounded: boolean;
      relevance: number;
      sources: Array<{ relevance: number }>;
    };
    expect(json.grounded).toBe(false);
    expect(json.relevance).toBeLessThan(0.5);
    for (const s of json.sources) expect(s.relevance).toBeLessThan(0.5);
    const grounded = JSON.parse(
      runCli(home, ['ask', '--json', 'Who services the car?'], env).stdout,
    ) as { grounded: boolean; sources: Array<{ relevance: number; line: number; quote: string }> };
    expect(grounded.grounded).toBe(true);
    expect(grounded.sources[0]).toMatchObject({ relevance: 1, line: 3 });
    expect(grounded.sources[0]?.quote).toContain("Miller's Garage");
  });
});

/** `runCli` without blocking this process (where the scripted model runs). */
function runCliAsync(home: string, args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
    execFile(
      process.execPath,
      [cli, ...args],
      {
        cwd: home,
        timeout: 60_000,
        env: { PATH: process.env.PATH ?? '', AIOS_HOME: home, ...env },
      },
      (error, stdout, stderr) =>
        done({ code: error ? ((error.code as number) ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe.each(testImplementations())('what aios ask learns, with a model (%s)', (impl) => {
  const tempHome = tempHomes('aios-learn-');
  let server: Awaited<ReturnType<typeof startChatServer>>;
  beforeAll(async () => {
    server = await startChatServer();
  });
  afterAll(() => server.close());

  it('prints the facts remembered, with their change ids, and the conflicts they bring', async () => {
    const home = tempHome();
    const env = { AIOS_NATIVE: impl, NO_COLOR: '1', AIOS_LUNA__LLM__BASE_URL: server.baseUrl };
    expect(runCli(home, ['ingest', HOUSEHOLD], env).code).toBe(0);
    server.queue.push(
      { kind: 'ok', content: 'Noted, the check-up is now on 10 June.' },
      {
        kind: 'ok',
        content: JSON.stringify({
          changes: [{ op: 'add', text: "Maya's next dental check-up moved to 10 June." }],
        }),
      },
    );
    // Not runCli: the model answers from this process, whose event loop must keep running.
    const out = await runCliAsync(
      home,
      ['ask', "Maya's next dental check-up moved to 10 June."],
      env,
    );
    expect(out.stderr).toBe('');
    const lines = out.stdout.split('\n');
    expect(lines[0]).toBe('Noted, the check-up is now on 10 June.');
    expect(lines[1]).toMatch(
      /^remembered: Maya's next dental check-up moved to 10 June\. \(change [0-9a-f]{8}\)$/,
    );
    expect(lines[2]).toBe(
      "conflicts with memory: Dentist: Maya's next dental check-up is on 3 June at 9:30 with Dr. Patel at Smile Dental, 12 High Street. <> Maya's next dental check-up moved to 10 June.",
    );
    expect(runCli(home, ['memory', 'conflicts'], env).stdout).toMatch(/^\[1\] about /);
  });
});
