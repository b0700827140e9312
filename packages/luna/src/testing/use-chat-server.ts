import { afterAll, afterEach, beforeAll } from 'vitest';
import { type ChatServer, startChatServer } from './chat-server.js';

/**
 * The scripted chat server of a test file: started before its tests, closed after them,
 * and emptied after each one (no queued behaviour, no recorded request, the default
 * model), so that no test sees another's. Call it at the top level of the file.
 */
export function useChatServer(): ChatServer {
  let started: ChatServer | undefined;
  const current = (): ChatServer => {
    if (!started) throw new Error('the chat server is started in beforeAll');
    return started;
  };
  beforeAll(async () => {
    started = await startChatServer();
  });
  afterAll(() => started?.close());
  afterEach(() => {
    const server = current();
    server.queue.length = 0;
    server.requests.length = 0;
    server.models = ['test-model'];
  });
  return {
    get baseUrl() {
      return current().baseUrl;
    },
    get requests() {
      return current().requests;
    },
    get queue() {
      return current().queue;
    },
    get models() {
      return current().models;
    },
    set models(value: string[]) {
      current().models = value;
    },
    get abandoned() {
      return current().abandoned;
    },
    close: () => current().close(),
  };
}
