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
});
