/** Types of the source index: the files ingested into the memory (schema version 6). */

/** A file ingested into a namespace, as it was when last ingested completely. */
export interface SourceFile {
  namespace: string;
  /** The file's absolute path. */
  path: string;
  /** Hash of the file's bytes; null while its first ingest is under way. */
  contentHash: string | null;
  size: number;
  /** The file's modification time (ms since the epoch) when it was read. */
  modifiedAt: number;
  ingestedAt: number;
}

/** A piece of a source: the hash of its text as ingested, and the fragment it became. */
export interface SourcePiece {
  namespace: string;
  path: string;
  pieceHash: string;
  fragmentId: string;
}

export type SourcePieceKey = Omit<SourcePiece, 'fragmentId'>;

/**
 * Which fragments came from which file. Pieces outlive their fragments (there is no
 * reference to fragments): a piece whose fragment is gone records that the user deleted it.
 */
export interface SourceRepository {
  get(namespace: string, path: string): Promise<SourceFile | undefined>;
  /** Every source (of one namespace when given), by namespace and path. */
  list(options?: { namespace?: string }): Promise<SourceFile[]>;
  /** Records a source (replacing what was recorded of it). */
  put(source: SourceFile): Promise<void>;
  /** The pieces of a source, by hash. */
  pieces(namespace: string, path: string): Promise<SourcePiece[]>;
  /** Records pieces in one transaction (a piece already recorded gets the fragment given). */
  putPieces(pieces: readonly SourcePiece[]): Promise<number>;
  /** Removes pieces in one transaction; returns how many existed. */
  removePieces(pieces: readonly SourcePieceKey[]): Promise<number>;
  /** The pieces, of any source, that became these fragments. */
  piecesOf(fragmentIds: readonly string[]): Promise<SourcePiece[]>;
  /**
   * The ids of the fragments of a namespace whose metadata names `path` as their
   * `source`, oldest first: what a file ingested before the source index existed became.
   * One query, without reading the fragments.
   */
  fragmentsFrom(namespace: string, path: string): Promise<string[]>;
  /** Removes a source and its pieces; whether it was recorded. */
  remove(namespace: string, path: string): Promise<boolean>;
}
