/**
 * `@aios/luna/testing`: in-process stand-ins for the cores Luna works on, and a chat
 * server that speaks (and breaks) the OpenAI protocol on loopback, for tests, examples and
 * benchmarks. The composed system uses CARMA, @aios/data and a real model instead.
 */
export {
  type Behaviour,
  type ChatServer,
  closedPort,
  type RecordedRequest,
  startChatServer,
} from './testing/chat-server.js';
export { InMemoryConversationStore } from './testing/conversation-store.js';
export { InMemoryMemory } from './testing/memory.js';
