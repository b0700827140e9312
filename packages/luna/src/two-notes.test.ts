/**
 * Offline answers that need two notes: a question of two parts ("... and where is it?"),
 * the second about what the first part's answer names, is answered from both notes, each
 * cited; on the real cores, both implementations.
 */
import { testImplementations } from '@aios/utils/testing';
import { describe, expect, it } from 'vitest';
import { householdNotes } from './testing/household.js';
import { useOfflineLuna } from './testing/use-offline-luna.js';

const NOTES = [
  'My sister works at Lindqvist Optics.',
  'Lindqvist Optics is on the third floor of the old mill in Tampere.',
  'Our neighbour Pavel repairs bicycles in his garage.',
  'The chimney is swept every October by a firm from the village.',
  'Ma cousine travaille chez Brasserie Moreau.',
  'Brasserie Moreau se trouve à Lyon, près de la gare.',
  'My uncle Henrik works at Fjordline Coaches.',
  'Fjordline Coaches has its depot in Stavanger, next to the ferry.',
];

describe.each(testImplementations())('questions that need two notes (%s)', (impl) => {
  const luna = useOfflineLuna(impl, () => [...NOTES, ...householdNotes()]);

  const quoted = (answer: { sources: Array<{ text: string }> }) =>
    answer.sources.map((s) => s.text);

  it('follows what the first part names into the note about it', async () => {
    const answer = await luna.current.ask('Where does my sister work, and where is it?');
    expect(answer.grounded).toBe(true);
    expect(answer.answer).toMatch(/My sister works at Lindqvist Optics\. \[1\]/);
    expect(answer.answer).toMatch(/Lindqvist Optics is on the third floor .* Tampere\. \[2\]/);
    expect(quoted(answer)).toEqual([NOTES[0], NOTES[1]]);
    for (const s of answer.sources) expect(s.grounded).toBe(true);
  });

  it('follows the firm, not the person the question was about, when the answer names both', async () => {
    // "Henrik" is who "my uncle" is; "it" is what the answer told: the firm.
    const answer = await luna.current.ask('Where does my uncle work and where is it?');
    expect(answer.grounded).toBe(true);
    expect(quoted(answer)).toEqual([NOTES[6], NOTES[7]]);
  });

  it('does so in another language', async () => {
    const answer = await luna.current.ask('Où travaille ma cousine et où se trouve-t-elle ?');
    expect(answer.grounded).toBe(true);
    expect(quoted(answer)).toEqual([NOTES[4], NOTES[5]]);
  });

  it('answers each part of a question about two things from its own note', async () => {
    const answer = await luna.current.ask('Who repairs bicycles, and when is the chimney swept?');
    expect(answer.grounded).toBe(true);
    expect(quoted(answer)).toEqual([NOTES[2], NOTES[3]]);
  });

  it('says which part memory does not answer, and answers the other', async () => {
    const answer = await luna.current.ask('Where does my sister work and what is her salary?');
    expect(answer.grounded).toBe(true);
    expect(quoted(answer)).toEqual([NOTES[0]]);
    expect(answer.answer).toMatch(/My sister works at Lindqvist Optics\. \[1\]/);
    expect(answer.answer).toContain('memory holds nothing that answers "what is her salary?"');
  });

  it('answers a question without a word (a control character, a lone mark) as one question', async () => {
    for (const question of ['\u0097', '?', '¿ ? ?']) {
      const answer = await luna.current.ask(question);
      expect(answer.grounded).toBe(false);
      expect(answer.sources.every((s) => !s.grounded)).toBe(true);
    }
  });

  it('keeps a question with "and" between two names whole', async () => {
    const answer = await luna.current.ask('Who is allergic to cats and penicillin?');
    expect(answer.answer).not.toContain('memory holds nothing that answers "penicillin');
  });
});
