/** One conversation of a test ChatGPT export: its title, id and turns, in order. */
export interface TestConversation {
  title: string;
  id: string;
  turns: ReadonlyArray<{ role: 'user' | 'assistant' | 'system'; text: string }>;
}

/**
 * A ChatGPT export's `conversations.json` for tests, as ChatGPT writes one: each
 * conversation a `mapping` of message nodes from an empty root, each node's parent the
 * turn before, `current_node` its last turn.
 */
export function testChatGptExport(conversations: readonly TestConversation[]): string {
  return JSON.stringify(
    conversations.map(({ title, id, turns }) => {
      const mapping: Record<string, unknown> = {
        root: { id: 'root', parent: null, children: [], message: null },
      };
      let parent = 'root';
      turns.forEach(({ role, text }, i) => {
        const node = `m${i + 1}`;
        mapping[node] = {
          id: node,
          parent,
          children: [],
          message: {
            id: node,
            author: { role },
            create_time: 1_700_000_000 + i,
            content: { parts: [text] },
          },
        };
        parent = node;
      });
      return { title, id, current_node: parent, mapping };
    }),
  );
}

/** A one-conversation export, two turns about a sourdough starter: a user's and its answer. */
export const testSourdoughChat: string = testChatGptExport([
  {
    title: 'Sourdough',
    id: 'conv-1',
    turns: [
      { role: 'user', text: 'How often should I feed my sourdough starter?' },
      { role: 'assistant', text: 'Feed the sourdough starter once a day.' },
    ],
  },
]);
