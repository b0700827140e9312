/** Error codes CARMA raises on top of the shared ones in @aios/utils. */
export const CarmaErrorCode = {
  /** A text is empty or has only whitespace. */
  TEXT_EMPTY: 'TEXT_EMPTY',
  /** A text is longer than `MAX_TEXT_LENGTH`. */
  TEXT_TOO_LARGE: 'TEXT_TOO_LARGE',
  /** No fragment has this id (in this memory). */
  FRAGMENT_NOT_FOUND: 'FRAGMENT_NOT_FOUND',
  /** A search filter is malformed. */
  INVALID_FILTER: 'INVALID_FILTER',
  /** A vector has the wrong number of floats for the index. */
  DIMENSION_MISMATCH: 'DIMENSION_MISMATCH',
  /** The memory was built with another embedder or dimension; re-embed explicitly. */
  EMBEDDER_MISMATCH: 'EMBEDDER_MISMATCH',
  /** An index or store file is damaged. */
  INDEX_CORRUPT: 'INDEX_CORRUPT',
  STORE_CORRUPT: 'STORE_CORRUPT',
  /** The memory was closed. */
  MEMORY_CLOSED: 'MEMORY_CLOSED',
  /** An update would make a fragment's text identical to another fragment's in its namespace. */
  DUPLICATE_CONTENT: 'DUPLICATE_CONTENT',
  /** Every index label (2^32) has been handed out. */
  CAPACITY: 'CAPACITY',
  /** An embeddings endpoint failed, timed out or answered something unusable. */
  EMBEDDER_FAILED: 'EMBEDDER_FAILED',
  /** An embeddings endpoint did not answer in time (after retries). */
  EMBEDDER_TIMEOUT: 'EMBEDDER_TIMEOUT',
  /** A switch to another embedder was cancelled (or the memory closed) before the swap. */
  SWITCH_CANCELLED: 'SWITCH_CANCELLED',
} as const;
