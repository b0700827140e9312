import type { Aios } from '@aios/core';
import type { AskOptions } from '@aios/luna';
import { apiError } from '../http/errors.js';

/**
 * The options of one question to Luna, for every door of the server (`POST /v1/ask`, the
 * MCP tool `ask_luna`): the conversation it continues, which must be one of this tenant's
 * (an id that is not there, another tenant's included, is CONVERSATION_NOT_FOUND, never a
 * new conversation under a name the caller chose), the namespace, and the signal that a
 * client going away fires.
 */
export async function askOptions(
  system: Aios,
  given: { conversationId?: string | undefined; namespace?: string | undefined },
  signal?: AbortSignal,
): Promise<AskOptions> {
  const { conversationId, namespace } = given;
  if (conversationId !== undefined && !(await system.data.conversations.get(conversationId))) {
    throw apiError(
      'CONVERSATION_NOT_FOUND',
      `no conversation with id ${JSON.stringify(conversationId)}`,
      { id: conversationId },
    );
  }
  return {
    ...(signal === undefined ? {} : { signal }),
    ...(conversationId === undefined ? {} : { conversationId, continue: true }),
    ...(namespace === undefined ? {} : { namespace }),
  };
}
