/**
 * Offline answers to a question asking for a name ("And her name?", "What is my dentist's
 * name?"): a sentence that holds a name answers it though it does not say "name"; one that
 * holds none does not, and no other note's name is given instead. On the real cores, both
 * implementations.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@aios/utils';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OpenedLuna, openLuna } from './open.js';
import { householdNotes } from './testing/household.js';

const note = (file: string, text: string) => ({
  text,
  metadata: { source: `/notes/${file}`, line: 1, offset: 0, kind: 'markdown' },
});

const NOTES = [
  note('health.md', '# Dentist\n\nI see Dr. Maren Olsen for my teeth every spring.'),
  note('piano.md', 'Lessons are on Wednesdays with Ingrid Berg, who also tunes the piano.'),
  note('house.md', '# Plumber\n\nThe plumber comes on the first Monday of the month.'),
  note('kater.md', 'The tomcat is called Fritz. His name was chosen by the children.'),
  note('gesundheit.md', '# Zahnärztin\n\nIch gehe jedes Frühjahr zu Dr. Lena Vogt.'),
];

describe.each(testImplementations())('questions asking for a name (%s)', (impl) => {
  let dir: string;
  let luna: OpenedLuna;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'luna-names-'));
    const { config } = loadConfig({
      cwd: dir,
      env: { AIOS_HOME: dir },
      overrides: { native: impl },
    });
    luna = await openLuna({ config, llm: null });
    await luna.carma.addMany([...NOTES, ...householdNotes()]);
  });
  afterAll(async () => {
    await luna?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const followUp = async (question: string, next: string) => {
    const first = await luna.ask(question);
    expect(first.grounded).toBe(true);
    return luna.ask(next, { conversationId: first.conversationId });
  };

  it.each([
    ['Who is my dentist?', 'And her name?', 'health.md', /Dr\. Maren Olsen/],
    ['Who gives my piano lessons?', 'What is her name?', 'piano.md', /Ingrid Berg/],
    ['Wer ist meine Zahnärztin?', 'Und wie heißt sie?', 'gesundheit.md', /Dr\. Lena Vogt/],
  ])('after %j, %j is answered with the name the note holds', async (q, next, file, name) => {
    const answer = await followUp(q, next);
    expect(answer.grounded).toBe(true);
    expect(answer.answer).toMatch(/from memory: /);
    expect(answer.answer).toMatch(name);
    expect(answer.sources[0]?.metadata.source).toBe(`/notes/${file}`);
  });

  it('answers a question for a name that the note does not call a name', async () => {
    const answer = await luna.ask("What is my dentist's name?");
    expect(answer.grounded).toBe(true);
    expect(answer.answer).toMatch(/Dr\. Maren Olsen/);
  });

  it('gives no name when the note holds none, nor another note’s', async () => {
    const answer = await followUp('Who is my plumber?', 'And his name?');
    expect(answer.grounded).toBe(false);
    expect(answer.answer).toContain('memory holds nothing that answers "And his name?"');
    expect(answer.answer).not.toMatch(/from memory: /);
    expect(answer.answer).not.toMatch(/Fritz|Maren|Ingrid/);
  });
});
