/**
 * What changed between two snapshots of a home, in the terms of the home: memories and
 * conversations added, removed and changed (read from each snapshot's database), and the
 * other files of the home (the config, notes kept there) added, removed or modified. The
 * database copy and CARMA's index files are how a home is stored, not what it holds, so
 * they are not listed. A PostgreSQL store's dump is listed as a file when it changed.
 */
import type { DataStore, StoredFragment } from '@aios/data';
import type { BackupHandle, HomeSnapshot } from './backup-handle.js';

export interface MemoryItem {
  id: string;
  namespace: string;
  source: string | null;
  line: number | null;
  text: string;
}

export interface ConversationItem {
  id: string;
  title: string | null;
  messages: number;
}

export interface HomeDiff {
  from: { id: string; time: string };
  to: { id: string; time: string };
  memories: {
    added: MemoryItem[];
    removed: MemoryItem[];
    /** Fragments whose text (or namespace) changed; `before` is the older text. */
    changed: Array<MemoryItem & { before: string }>;
  };
  conversations: {
    added: ConversationItem[];
    removed: ConversationItem[];
    /** Conversations with messages added since; `before` is how many they had. */
    continued: Array<ConversationItem & { before: number }>;
  };
  /** Other files of the home, relative to it. */
  files: { added: string[]; removed: string[]; modified: string[] };
}

const PAGE = 1000;

async function fragments(data: DataStore | undefined): Promise<Map<string, StoredFragment>> {
  const out = new Map<string, StoredFragment>();
  if (!data) return out;
  for (let after: string | undefined; ; ) {
    const page = await data.fragments.list({ limit: PAGE, ...(after ? { after } : {}) });
    for (const f of page) out.set(f.id, f);
    if (page.length < PAGE) return out;
    after = page.at(-1)?.id;
  }
}

async function conversations(
  data: DataStore | undefined,
): Promise<Map<string, { title: string | null; updatedAt: number }>> {
  const out = new Map<string, { title: string | null; updatedAt: number }>();
  if (!data) return out;
  for (let offset = 0; ; offset += PAGE) {
    const page = await data.conversations.list({ limit: PAGE, offset });
    for (const c of page) out.set(c.id, { title: c.title, updatedAt: c.updatedAt });
    if (page.length < PAGE) return out;
  }
}

/** A conversation's message count, and its title or else its first message as one. */
async function conversationItem(
  data: DataStore,
  id: string,
  title: string | null,
): Promise<ConversationItem> {
  const messages = await data.messages.list(id, { limit: 100_000 });
  const first = messages.find((m) => m.role === 'user') ?? messages[0];
  return {
    id,
    title: title ?? first?.content.replace(/\s+/g, ' ').slice(0, 80) ?? null,
    messages: messages.length,
  };
}

function memoryItem(f: StoredFragment): MemoryItem {
  const meta = f.metadata as Record<string, unknown>;
  return {
    id: f.id,
    namespace: f.namespace,
    source: typeof meta.source === 'string' ? meta.source : null,
    line: typeof meta.line === 'number' ? meta.line : null,
    text: f.text,
  };
}

/** Reads what each snapshot's database holds, one snapshot at a time. */
async function contents(handle: BackupHandle, snapshot: HomeSnapshot) {
  return handle.withSnapshotDatabase(snapshot, async (data) => {
    const chats = await conversations(data);
    const items = new Map<string, ConversationItem>();
    if (data) {
      for (const [id, c] of chats) items.set(id, await conversationItem(data, id, c.title));
    }
    return { fragments: await fragments(data), conversations: items, updated: chats };
  });
}

/** Paths of a snapshot diff below the home, relative to it, without how the home is stored. */
function homeFiles(paths: string[], snapshot: HomeSnapshot): string[] {
  const root = snapshot.root
    .replace(/^[a-zA-Z]:/, '')
    .replace(/\\/g, '/')
    .replace(/^\/+/, '');
  const database = snapshot.database;
  // A PostgreSQL store's dump lies beside the home's tree: listed as it is (what changed in
  // it is not read back: that would take loading it into a server).
  const dumps = paths.filter((p) => snapshot.dumps.includes(p));
  return paths
    .filter((p) => p.startsWith(`${root}/`))
    .map((p) => p.slice(root.length + 1))
    .filter(
      (p) =>
        p !== database &&
        !p.startsWith('.database-copy') &&
        p !== 'carma' &&
        !p.startsWith('carma/'),
    )
    .concat(dumps);
}

/** The difference between two snapshots of the home, `a` the older. */
export async function diffHome(handle: BackupHandle, a: string, b: string): Promise<HomeDiff> {
  const [from, to] = [await handle.homeSnapshot(a), await handle.homeSnapshot(b)];
  const before = await contents(handle, from);
  const after = await contents(handle, to);
  const diff: HomeDiff = {
    from: { id: from.id, time: from.time },
    to: { id: to.id, time: to.time },
    memories: { added: [], removed: [], changed: [] },
    conversations: { added: [], removed: [], continued: [] },
    files: { added: [], removed: [], modified: [] },
  };
  for (const [id, f] of after.fragments) {
    const old = before.fragments.get(id);
    if (!old) diff.memories.added.push(memoryItem(f));
    else if (old.text !== f.text || old.namespace !== f.namespace) {
      diff.memories.changed.push({ ...memoryItem(f), before: old.text });
    }
  }
  for (const [id, f] of before.fragments) {
    if (!after.fragments.has(id)) diff.memories.removed.push(memoryItem(f));
  }
  for (const [id, c] of after.conversations) {
    const old = before.conversations.get(id);
    if (!old) diff.conversations.added.push(c);
    else if (c.messages !== old.messages) {
      diff.conversations.continued.push({ ...c, before: old.messages });
    }
  }
  for (const [id, c] of before.conversations) {
    if (!after.conversations.has(id)) diff.conversations.removed.push(c);
  }
  const repo = await handle.open();
  const files = await repo.diff(from.id, to.id);
  diff.files = {
    added: homeFiles(files.added, to),
    removed: homeFiles(files.removed, from),
    modified: homeFiles(files.modified, to),
  };
  return diff;
}
