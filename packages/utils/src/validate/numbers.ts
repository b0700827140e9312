/**
 * Checks of numeric inputs, each returning the value typed as a number or throwing
 * `invalidInput` (code `INVALID_INPUT`, message `<field>: expected <what>, got <value>`).
 * Integers must be safe integers (exact in a double); numbers must be finite.
 */
import { invalidInput } from '../errors.js';

function isSafeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

/** Whether `value` is an integer from `min` to `max` (for checks with a message of their own). */
export function isIntegerInRange(value: unknown, min: number, max: number): value is number {
  return isSafeInteger(value) && value >= min && value <= max;
}

/** An integer from `min` to `max`, both included ("an integer from 1 to 100"). */
export function integerInRange(value: unknown, field: string, min: number, max: number): number {
  if (!isIntegerInRange(value, min, max)) {
    throw invalidInput(field, value, `an integer from ${min} to ${max}`);
  }
  return value;
}

/** An integer of at least `min` ("an integer >= 0"). */
export function integerAtLeast(value: unknown, field: string, min: number): number {
  if (!isSafeInteger(value) || value < min) {
    throw invalidInput(field, value, `an integer >= ${min}`);
  }
  return value;
}

/** An integer of at least 1 ("a positive integer"). */
export function positiveInteger(value: unknown, field: string): number {
  if (!isSafeInteger(value) || value < 1) throw invalidInput(field, value, 'a positive integer');
  return value;
}

/** An integer of at least 0 ("a non-negative integer"). */
export function nonNegativeInteger(value: unknown, field: string): number {
  if (!isSafeInteger(value) || value < 0) {
    throw invalidInput(field, value, 'a non-negative integer');
  }
  return value;
}

/** A finite number from `min` to `max`, both included ("a number from 0 to 1"). */
export function numberInRange(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw invalidInput(field, value, `a number from ${min} to ${max}`);
  }
  return value;
}
