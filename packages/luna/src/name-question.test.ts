/**
 * Offline answers to a question asking for a name ("And her name?", "What is my dentist's
 * name?"): a sentence that holds a name answers it though it does not say "name"; one that
 * holds none does not, and no other note's name is given instead. On the real cores, both
 * implementations.
 */
import { testImplementations } from '@aios/utils/testing';
import { describe, expect, it } from 'vitest';
import { householdNotes } from './testing/household.js';
import { markdownNote, useOfflineLuna } from './testing/use-offline-luna.js';

const NOTES = [
  markdownNote('health.md', '# Dentist\n\nI see Dr. Maren Olsen for my teeth every spring.'),
  markdownNote('piano.md', 'Lessons are on Wednesdays with Ingrid Berg, who also tunes the piano.'),
  markdownNote('house.md', '# Plumber\n\nThe plumber comes on the first Monday of the month.'),
  markdownNote('kater.md', 'The tomcat is called Fritz. His name was chosen by the children.'),
  markdownNote('gesundheit.md', '# Zahnärztin\n\nIch gehe jedes Frühjahr zu Dr. Lena Vogt.'),
  markdownNote('haus.md', '# Klempner\n\nDer Klempner kommt am ersten Montag im Monat.'),
  markdownNote('physio.md', '# Physiotherapist\n\nMy physiotherapist has his practice in Tromsø.'),
];

describe.each(testImplementations())('questions asking for a name (%s)', (impl) => {
  const luna = useOfflineLuna(impl, () => [...NOTES, ...householdNotes()]);

  const followUp = async (question: string, next: string) => {
    const first = await luna.current.ask(question);
    expect(first.grounded).toBe(true);
    return luna.current.ask(next, { conversationId: first.conversationId });
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
    const answer = await luna.current.ask("What is my dentist's name?");
    expect(answer.grounded).toBe(true);
    expect(answer.answer).toMatch(/Dr\. Maren Olsen/);
  });

  it.each([
    ['Wer ist mein Klempner?', 'Und wie heißt er?'],
    ['Who is my physiotherapist?', 'And his name?'],
  ])('after %j, %j finds no name in a note that names only nouns or a town', async (q, next) => {
    const answer = await followUp(q, next);
    expect(answer.grounded).toBe(false);
    expect(answer.answer).not.toMatch(/from memory: /);
  });

  it('gives no name when the note holds none, nor another note’s', async () => {
    const answer = await followUp('Who is my plumber?', 'And his name?');
    expect(answer.grounded).toBe(false);
    expect(answer.answer).toContain('memory holds nothing that answers "And his name?"');
    expect(answer.answer).not.toMatch(/from memory: /);
    expect(answer.answer).not.toMatch(/Fritz|Maren|Ingrid/);
  });
});
