import { AiosError, invalidInput, numberInRange, positiveInteger } from '@aios/utils';
import type { HistoryTurn } from './budget.js';
import type { GenerationSettings } from './personality.js';

/**
 * What a caller that holds the conversation itself (an OpenAI-style client sends every
 * message with each request) gives `ask` in place of what Luna would take from her store
 * and her personality.
 */

/** One earlier turn: what the user said and what the assistant answered. */
export interface GivenTurn {
  question: string;
  answer: string;
}

/** Sampling asked for by the caller; each field set replaces what the personality gives. */
export interface Sampling {
  /** 0 to 2. */
  temperature?: number;
  /** 0 to 1. */
  topP?: number;
  /**
   * The reply budget in tokens, in place of the budget of the question's kind; the prompt
   * still leaves room for it first, and the reply is cut where the context window ends.
   */
  maxTokens?: number;
  /** Up to 4 sequences at which the model stops (passed to the model as `stop`). */
  stop?: readonly string[];
}

/** Most stop sequences a model takes (the OpenAI API's limit). */
export const MAX_STOP_SEQUENCES = 4;

/** The given turns as the prompt assembler takes them (ids `turn-<n>`, oldest first). */
export function givenHistory(history: unknown): HistoryTurn[] {
  if (!Array.isArray(history)) {
    throw invalidInput('history', history, 'an array of { question, answer } turns');
  }
  return history.map((turn: unknown, i) => {
    const { question, answer } = (turn ?? {}) as Partial<GivenTurn>;
    if (typeof question !== 'string' || typeof answer !== 'string') {
      throw invalidInput(`history[${i}]`, turn, 'a turn { question: string, answer: string }');
    }
    return { id: `turn-${i}`, question, answer };
  });
}

/** Checks the caller's sampling; throws `INVALID_INPUT` naming the field. */
export function checkSampling(sampling: unknown): Sampling {
  if (sampling === null || typeof sampling !== 'object' || Array.isArray(sampling)) {
    throw invalidInput('sampling', sampling, 'an object of sampling settings');
  }
  const { temperature, topP, maxTokens, stop } = sampling as Sampling;
  const out: Sampling = {};
  if (temperature !== undefined) {
    out.temperature = numberInRange(temperature, 'sampling.temperature', 0, 2);
  }
  if (topP !== undefined) out.topP = numberInRange(topP, 'sampling.topP', 0, 1);
  if (maxTokens !== undefined) out.maxTokens = positiveInteger(maxTokens, 'sampling.maxTokens');
  if (stop !== undefined) {
    const valid =
      Array.isArray(stop) &&
      stop.length <= MAX_STOP_SEQUENCES &&
      stop.every((s) => typeof s === 'string' && s !== '');
    if (!valid) {
      throw invalidInput('sampling.stop', stop, `at most ${MAX_STOP_SEQUENCES} non-empty strings`);
    }
    out.stop = [...stop];
  }
  return out;
}

/** The personality's settings with the caller's sampling in their place. */
export function withSampling(
  settings: GenerationSettings,
  sampling: Sampling | undefined,
): GenerationSettings {
  if (!sampling) return settings;
  return {
    ...settings,
    ...(sampling.temperature === undefined ? {} : { temperature: sampling.temperature }),
    ...(sampling.topP === undefined ? {} : { topP: sampling.topP }),
    ...(sampling.maxTokens === undefined ? {} : { maxTokens: sampling.maxTokens }),
  };
}

/** A failure as an AiosError (`LLM_ERROR` for anything else), for `AskOptions.fallback`. */
export function asAiosError(error: unknown): AiosError {
  if (error instanceof AiosError) return error;
  return new AiosError('LLM_ERROR', error instanceof Error ? error.message : String(error), {
    cause: error,
  });
}
