import { api, ok } from '../api/client';
import type { paths } from '../api/schema.gen';
import { ErrorNote } from '../components/error-note';
import { formatDate } from '../components/format';
import { useLoad } from '../hooks';

type Conversation =
  paths['/v1/conversations']['get']['responses'][200]['content']['application/json']['items'][number];
export type Message =
  paths['/v1/conversations/{id}/messages']['get']['responses'][200]['content']['application/json']['items'][number];

/** The messages of a conversation, oldest first (every page of them). */
export async function loadMessages(id: string): Promise<Message[]> {
  const messages: Message[] = [];
  let cursor: string | null = null;
  do {
    const query: { limit: number; cursor?: string } = { limit: 500 };
    if (cursor) query.cursor = cursor;
    const page = await ok(
      api.GET('/v1/conversations/{id}/messages', { params: { path: { id }, query } }),
    );
    messages.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return messages;
}

interface ListProps {
  current: string | undefined;
  /** Changes when a conversation was added to or changed: the list reloads. */
  version: number;
  onOpen: (c: Conversation) => void;
}

/** The conversations, most recently active first (the latest 50). */
export function ConversationList({ current, version, onOpen }: ListProps) {
  const list = useLoad(
    async () =>
      (await ok(api.GET('/v1/conversations', { params: { query: { limit: 50 } } }))).items,
    [version],
  );
  return (
    <nav class="conversations" aria-label="Conversations">
      <h2>Conversations</h2>
      <ErrorNote error={list.error} />
      {list.data?.length === 0 && <p class="muted">None yet.</p>}
      <ul class="plain">
        {list.data?.map((c) => (
          <li key={c.id}>
            <button
              type="button"
              class="link"
              aria-current={c.id === current ? 'true' : undefined}
              onClick={() => onOpen(c)}
            >
              {c.title ?? 'Untitled'}
            </button>
            <span class="muted"> {formatDate(c.updatedAt)}</span>
          </li>
        ))}
      </ul>
    </nav>
  );
}
