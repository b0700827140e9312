import { loadConfig } from '@aios/utils';
import { describe, expect, it } from 'vitest';
import { chatClientOptionsFromConfig } from './llm/client.js';
import { createLunaFromConfig, lunaOptionsFromConfig } from './luna.js';
import { closedPort } from './testing/chat-server.js';
import { InMemoryConversationStore } from './testing/conversation-store.js';
import { InMemoryMemory } from './testing/memory.js';

describe('configuration', () => {
  it('reads the luna section of the shared config', () => {
    const { config } = loadConfig({
      cwd: '/nonexistent',
      env: {
        AIOS_HOME: '/tmp/aios-luna-test',
        AIOS_LUNA__LLM__BASE_URL: 'http://127.0.0.1:9/v1/',
        AIOS_LUNA__LLM__MODEL: 'm',
        AIOS_LUNA__CONTEXT_WINDOW: '4096',
        AIOS_LUNA__ENCODING: 'cl100k_base',
      },
    });
    expect(chatClientOptionsFromConfig(config.luna.llm)).toEqual({
      baseUrl: 'http://127.0.0.1:9/v1',
      model: 'm',
      timeoutMs: 60_000,
      maxRetries: 2,
    });
    expect(lunaOptionsFromConfig(config)).toEqual({
      encoding: 'cl100k_base',
      contextWindow: 4096,
      k: 8,
    });
  });

  it('wires a Luna from the config', async () => {
    const port = await closedPort();
    const { config } = loadConfig({
      cwd: '/nonexistent',
      env: {
        AIOS_HOME: '/tmp/aios-luna-test',
        AIOS_NATIVE: 'js',
        AIOS_LUNA__LLM__BASE_URL: `http://127.0.0.1:${port}/v1`,
        AIOS_LUNA__LLM__MODEL: 'm',
        AIOS_LUNA__LLM__MAX_RETRIES: '0',
      },
    });
    const memory = new InMemoryMemory();
    memory.add('The spare key is under the blue flower pot.', { id: 'key' });
    const luna = createLunaFromConfig(config, { memory, store: new InMemoryConversationStore() });
    expect(luna.implementation).toBe('js');
    expect(luna.tokenizer.encoding).toBe('o200k_base');
    const answer = await luna.ask('Where is the spare key?');
    expect(answer.mode).toBe('offline');
    expect(answer.offlineReason).toMatch(/^LLM_UNREACHABLE/);
    expect(answer.sources).toEqual([
      expect.objectContaining({ id: 'key', text: 'The spare key is under the blue flower pot.' }),
    ]);
  });
});
