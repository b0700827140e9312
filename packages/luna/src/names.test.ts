import { describe, expect, it } from 'vitest';
import { namesIn } from './names.js';

describe('namesIn', () => {
  it('finds names inside a sentence, titled ones whole, and a name of two words that opens one', () => {
    expect(namesIn('My brother works at Halvorsen Shipping.')).toEqual(['Halvorsen Shipping']);
    expect(namesIn('Halvorsen Shipping is in Bergen, by the harbour.')).toEqual([
      'Halvorsen Shipping',
      'Bergen',
    ]);
    expect(namesIn('Dentist: I see Dr. Maren Olsen for my teeth every spring.')).toEqual([
      'Dr. Maren Olsen',
    ]);
    expect(namesIn("Maya's check-up is on 3 June with Dr. Patel at the Bank of Norway.")).toEqual([
      'Dr. Patel',
      'Bank of Norway',
    ]);
    expect(namesIn('Ma cousine travaille chez Brasserie Moreau.')).toEqual(['Brasserie Moreau']);
  });

  it('leaves out a word capitalised only because it opens its sentence, "I", months and days', () => {
    expect(namesIn('The plumber comes on the first Monday of March.')).toEqual([]);
    expect(namesIn('Appointment at nine. I will go.')).toEqual([]);
    // Written capitalised inside a sentence too: a name.
    expect(namesIn('Maya is eight. We call her Maya.')).toEqual(['Maya']);
  });

  it('reads a line as a sentence of its own: a heading is not a name', () => {
    expect(namesIn('# Plumber\n\nThe plumber comes on the first Monday of the month.')).toEqual([]);
    expect(namesIn('- Dentist\n- Bergen Harbour Clinic')).toEqual(['Bergen Harbour Clinic']);
    expect(namesIn('## Dentist\nI see Dr. Maren Olsen.')).toEqual(['Dr. Maren Olsen']);
  });

  it('in German, where every noun has a capital, takes plain nouns for no one', () => {
    expect(namesIn('Der Klempner kommt am ersten Montag im Monat.')).toEqual([]);
    expect(namesIn('Ich gehe jedes Frühjahr zu Dr. Lena Vogt.')).toEqual(['Dr. Lena Vogt']);
    expect(namesIn('Die Katze heißt Fritz und schläft gern auf dem Sofa.')).toEqual(['Fritz']);
    expect(namesIn('Unsere Nachbarin Anna gießt die Blumen, wenn wir im Urlaub sind.')).toEqual([
      'Anna',
    ]);
    expect(namesIn('Meine Zahnärztin hat ihre Praxis in der Altstadt.')).toEqual([]);
    expect(namesIn('Die Rechnung der Versicherung kommt mit der Zeitung.')).toEqual([]);
    // An English text keeps "The" and a capital's meaning.
    expect(namesIn('We met at The Blue Door in Oslo.')).toEqual(['Blue Door', 'Oslo']);
  });

  it('leaves out names of places on request', () => {
    expect(namesIn('My dentist is in Bergen.', { places: false })).toEqual([]);
    expect(
      namesIn('Mein Bruder arbeitet bei Halvorsen Shipping in Bergen.', { places: false }),
    ).toEqual(['Halvorsen Shipping']);
    expect(namesIn('Ma sœur habite à Lyon avec Pierre Dubois.', { places: false })).toEqual([
      'Pierre Dubois',
    ]);
  });
});
