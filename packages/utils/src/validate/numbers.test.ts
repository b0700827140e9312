import { describe, expect, it } from 'vitest';
import {
  integerAtLeast,
  integerInRange,
  isIntegerInRange,
  nonNegativeInteger,
  numberInRange,
  positiveInteger,
} from './numbers.js';

function refusal(run: () => unknown) {
  try {
    run();
  } catch (error) {
    return { code: (error as { code?: string }).code, message: (error as Error).message };
  }
  throw new Error('accepted');
}

describe('number validators', () => {
  it('return what they accept', () => {
    expect(integerInRange(5, 'k', 1, 10)).toBe(5);
    expect(integerInRange(1, 'k', 1, 10)).toBe(1);
    expect(integerInRange(10, 'k', 1, 10)).toBe(10);
    expect(integerAtLeast(0, 'retries', 0)).toBe(0);
    expect(positiveInteger(1, 'n')).toBe(1);
    expect(nonNegativeInteger(0, 'n')).toBe(0);
    expect(numberInRange(0.5, 'w', 0, 1)).toBe(0.5);
    expect(numberInRange(1, 'w', 0, 1)).toBe(1);
    expect(isIntegerInRange(3, 1, 3)).toBe(true);
    expect(isIntegerInRange(4, 1, 3)).toBe(false);
    expect(isIntegerInRange(2.5, 1, 3)).toBe(false);
  });

  it('refuse with INVALID_INPUT and say what was expected', () => {
    expect(refusal(() => integerInRange(11, 'k', 1, 10))).toEqual({
      code: 'INVALID_INPUT',
      message: 'k: expected an integer from 1 to 10, got 11 (number)',
    });
    expect(refusal(() => integerAtLeast(-1, 'retries', 0)).message).toBe(
      'retries: expected an integer >= 0, got -1 (number)',
    );
    expect(refusal(() => positiveInteger(0, 'n')).message).toBe(
      'n: expected a positive integer, got 0 (number)',
    );
    expect(refusal(() => nonNegativeInteger('3', 'n')).message).toBe(
      'n: expected a non-negative integer, got "3"',
    );
    expect(refusal(() => numberInRange(Number.NaN, 'w', 0, 1)).message).toBe(
      'w: expected a number from 0 to 1, got NaN',
    );
  });

  it('refuse fractions, unsafe integers, infinities and non-numbers', () => {
    for (const bad of [1.5, 2 ** 53, Number.POSITIVE_INFINITY, Number.NaN, '1', null, undefined]) {
      expect(() => integerInRange(bad, 'k', 0, Number.MAX_VALUE)).toThrow(/INVALID_INPUT|expected/);
      expect(() => integerAtLeast(bad, 'k', 0)).toThrow(/expected/);
      expect(() => positiveInteger(bad, 'k')).toThrow(/expected/);
      expect(() => nonNegativeInteger(bad, 'k')).toThrow(/expected/);
    }
    for (const bad of [Number.POSITIVE_INFINITY, -0.1, 1.1, '0.5', null]) {
      expect(() => numberInRange(bad, 'w', 0, 1)).toThrow(/expected a number from 0 to 1/);
    }
  });
});
