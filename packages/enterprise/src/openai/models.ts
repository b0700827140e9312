import type { AiosConfig } from '@aios/core';
import { apiError } from '../http/errors.js';

/**
 * The models of the OpenAI-compatible API are Luna's profiles: `luna` (her persona: the
 * saved one `luna.persona` names, else the one her personality gives) and `luna:<name>`
 * for every saved persona of `luna.personas`. Each answers from the caller's memory.
 */
export const DEFAULT_PROFILE = 'luna';

export interface Profile {
  id: string;
  /** The system prompt in place of Luna's own, or undefined for hers. */
  persona: string | undefined;
}

export function profiles(config: Pick<AiosConfig, 'luna'>): Profile[] {
  const { personas, persona } = config.luna;
  return [
    { id: DEFAULT_PROFILE, persona: persona === undefined ? undefined : personas[persona] },
    ...Object.entries(personas).map(([name, text]) => ({ id: `luna:${name}`, persona: text })),
  ];
}

/** The profile `model` names; `MODEL_NOT_FOUND` (404) listing the ones there are. */
export function profileOf(config: Pick<AiosConfig, 'luna'>, model: string): Profile {
  const all = profiles(config);
  const found = all.find((p) => p.id === model);
  if (!found) {
    throw apiError(
      'MODEL_NOT_FOUND',
      `the model ${JSON.stringify(model)} does not exist; the models are ${all.map((p) => p.id).join(', ')} (GET /v1/models)`,
      { param: 'model', model },
    );
  }
  return found;
}
