/**
 * `aios ingest` of a household's notes, then `aios ask` with no language model answering:
 * answers quote the right note with its subject and cite the quoted line; questions the
 * notes do not answer are refused, with what came closest labelled as such. Both
 * implementations, through the built CLI.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { closedPort } from '@aios/luna/testing';
import { testImplementations } from '@aios/utils/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempHomes } from '../testing/cli.js';

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
    expect(ingest.stderr).toBe('');
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
