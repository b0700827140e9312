/** One retrieved piece of memory. */
export interface MemoryFragment {
  id: string;
  text: string;
  /** Relevance to the query, higher is better (the provider's own scale). */
  score: number;
  /**
   * Optional: relevance on Luna's absolute scale, 0 to 1 (`judge` of ./relevance: how much
   * of the query the fragment covers), the same in every retrieval mode. `carmaMemory` sets
   * it, so that a search shows what an answer would make of each fragment.
   */
  relevance?: number;
  /** Where the memory keeps it, when it has namespaces (CARMA does). */
  namespace?: string;
  /** The fragment's own fields (for an ingested note: `source`, `line`, `offset`). */
  metadata?: Record<string, unknown>;
}

/** What a reinforcement changed: the weight applied per fragment id (absent: unchanged). */
export interface ReinforceResult {
  applied: Record<string, number>;
}

export interface MemorySearchOptions {
  /** How many fragments to return at most. */
  k: number;
  /** Only this namespace, in place of the provider's own choice (when it has namespaces). */
  namespace?: string;
}

/**
 * What Luna needs from a long-term memory, for CARMA (@aios/carma) to provide in the
 * composed system; `InMemoryMemory` (`@aios/luna/testing`) is a small lexical one.
 */
export interface MemoryProvider {
  /** The `k` most relevant fragments for `query`, best first. */
  search(query: string, options: MemorySearchOptions): Promise<MemoryFragment[]>;
  /**
   * Strengthens (weight > 0) or weakens (weight < 0) fragments after feedback on an answer
   * that used them; the same call with the opposite weight undoes it. A provider that bounds
   * the effect (CARMA caps importance at 0 and 1) returns the weight it actually applied to
   * each fragment, so that an undo takes back exactly that.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: providers without bounds return nothing
  reinforce(ids: readonly string[], weight: number): Promise<void | ReinforceResult>;
  /**
   * Optional: the IDF of each word (lower-case, as `words` of ./text cuts them) over all
   * the provider holds, Lucene's `ln(1 + (N - df + 0.5) / (df + 0.5))`. Luna weighs a
   * question's words with it to judge, on an absolute scale, whether a fragment answers
   * the question; without it, IDF over the retrieved fragments stands in (less sure).
   */
  termIdf?(words: readonly string[]): Promise<ArrayLike<number>> | ArrayLike<number>;
  /**
   * Optional: keeps a new memory (Luna stores each LLM exchange this way). Returns its id.
   */
  remember?(
    text: string,
    metadata?: Record<string, unknown>,
    options?: { namespace?: string },
  ): Promise<string>;
  /** Optional: one fragment by id (undefined when there is none). Needed to learn facts. */
  get?(id: string): Promise<MemoryFragment | undefined>;
  /**
   * Optional: changes a fragment's text and/or metadata (replaced whole), keeping the old
   * version in its history. Needed to learn facts.
   */
  update?(id: string, patch: { text?: string; metadata?: Record<string, unknown> }): Promise<void>;
  /** Optional: deletes a fragment (its history stays readable). Needed to learn facts. */
  forget?(id: string): Promise<void>;
  /**
   * Optional: brings what the provider keeps in process back to what its store holds. Luna
   * calls it after a transaction of the conversation store that the provider wrote in was
   * rolled back (CARMA keeps its fragments in that store's database and in memory).
   */
  refresh?(): Promise<void>;
  /**
   * Optional: runs `fn` while no other write of the provider runs, its own calls from
   * inside `fn` included. Luna wraps each transaction of a conversation store the provider
   * writes in with it, so that the provider's turn is taken before the store's (CARMA's
   * `exclusive`); without it, a provider write waiting inside the transaction for another
   * write that waits for the store would never end.
   */
  exclusive?<T>(fn: () => Promise<T>): Promise<T>;
}
