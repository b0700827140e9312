/** What Luna learns from conversations: changes of her memory, each reversible. */
import type { Conflict } from '../conflicts.js';

/** One change of memory made from a conversation (or the undo of one). */
export interface MemoryChange {
  id: string;
  /** `add`: a new fact; `update`: a fact replaced by a newer one; `retire`: a fact no longer true. */
  op: 'add' | 'update' | 'retire';
  /** The fragment changed (for an undone retire: the one restored in its place, see `restoredAs`). */
  fragmentId: string;
  /** The fact's text before the change (update, retire). */
  before?: string;
  /** The fragment's metadata before the change (update, retire), to restore it exactly. */
  beforeMetadata?: Record<string, unknown>;
  /** The fact's text after the change (add, update). */
  after?: string;
  /** Why, in the model's words, when it gave a reason. */
  reason?: string;
  /** The conversation and exchange the change came from. */
  conversationId: string;
  exchangeId: string;
  at: string;
  undone: boolean;
  undoneAt?: string;
  /** A retired fact brought back by an undo is a new fragment: its id. */
  restoredAs?: string;
}

/** What the store keeps of the changes (optional methods of a `ConversationStore`). */
export interface MemoryChangeLog {
  recordMemoryChanges(changes: readonly MemoryChange[]): Promise<void>;
  /** Every change, oldest first, with its undone flag. */
  listMemoryChanges(): Promise<MemoryChange[]>;
  /** Marks a change undone (with `restoredAs` for a retire). */
  markMemoryChangeUndone(id: string, at: string, restoredAs?: string): Promise<void>;
}

/** What learning from one exchange did. */
export interface LearnedFacts {
  changes: MemoryChange[];
  /** Contradictions between the memories the exchange touched and others (see `findConflicts`). */
  conflicts: Conflict[];
  /** Set when learning failed (the answer stands): the code and message. */
  error?: string;
}
