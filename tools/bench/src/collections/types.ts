/** A test collection: documents, queries and graded relevance judgements. */
export interface Collection {
  name: string;
  docs: Array<{ id: string; text: string }>;
  queries: Array<{ id: string; text: string }>;
  /** query id -> doc id -> grade (> 0 relevant). */
  qrels: Map<string, Map<string, number>>;
}
