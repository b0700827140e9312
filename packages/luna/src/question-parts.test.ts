import { describe, expect, it } from 'vitest';
import { questionParts } from './question-parts.js';

describe('questionParts', () => {
  it('cuts before "and" when a new question starts, in several languages', () => {
    expect(questionParts('Where does my brother work, and where is it?')).toEqual([
      'Where does my brother work',
      'where is it?',
    ]);
    expect(questionParts('Who is the vet and is she open on Sundays?')).toEqual([
      'Who is the vet',
      'is she open on Sundays?',
    ]);
    expect(questionParts('¿Dónde trabaja mi hermano y dónde está?')).toEqual([
      '¿Dónde trabaja mi hermano',
      'dónde está?',
    ]);
    expect(questionParts('Wo arbeitet Anna und wann fängt sie an?')).toEqual([
      'Wo arbeitet Anna',
      'wann fängt sie an?',
    ]);
    expect(questionParts('When is the party? Who is coming?')).toEqual([
      'When is the party?',
      'Who is coming?',
    ]);
  });

  it('gives a question without a word back as its one part', () => {
    expect(questionParts('\u0097')).toEqual(['\u0097']);
    expect(questionParts('? ?')).toEqual(['? ?']);
  });

  it('keeps one question whole', () => {
    for (const q of [
      'Who is allergic to cats and penicillin?',
      'What do Maya and Tom eat?',
      'Which bins go out on Monday and are collected on Tuesday?',
      'How and when is the boiler serviced?',
      'What did I do and say?',
      'What does Ingrid teach and where?',
      'Wo arbeitet Anna und seit wann?',
      'Who fixed the roof, and when and how?',
    ]) {
      expect(questionParts(q)).toEqual([q]);
    }
  });
});
