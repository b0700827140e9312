import { constants, type Stats } from 'node:fs';
import { type FileHandle, open, readdir, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { AiosError, fromNodeIoError } from '@aios/utils';
import { decodeText, notTextReason } from './encoding.js';

export type FileKind =
  | 'text'
  | 'markdown'
  | 'html'
  | 'pdf'
  | 'docx'
  | 'epub'
  | 'odt'
  | 'json'
  | 'jsonl'
  | 'csv';

/** File kinds `ingest` reads; in folders only these extensions are picked up. */
const KINDS: Record<string, FileKind> = {
  '.txt': 'text',
  '.text': 'text',
  // Notes in a light markup, read as the text they are.
  '.org': 'text',
  '.rst': 'text',
  '.adoc': 'text',
  '.asciidoc': 'text',
  '.md': 'markdown',
  '.markdown': 'markdown',
  '.html': 'html',
  '.htm': 'html',
  '.xhtml': 'html',
  '.pdf': 'pdf',
  '.docx': 'docx',
  '.epub': 'epub',
  '.odt': 'odt',
  '.json': 'json',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.csv': 'csv',
  '.tsv': 'csv',
};

/** What ingest reads, in words: what a door that takes files tells its users. */
export const INGEST_KINDS_TEXT =
  'text (Org, reStructuredText and AsciiDoc notes too), Markdown, HTML, PDF, Word (.docx), EPUB, OpenDocument text (.odt), JSON, JSONL, CSV (.csv, .tsv) and ChatGPT exports (conversations.json)';

/** The extensions ingest reads in folders. */
export const INGEST_EXTENSIONS: readonly string[] = Object.keys(KINDS);

/** How a file is read: by its extension, as text when it has none that ingest knows. */
export function kindOf(path: string): FileKind {
  return KINDS[extname(path).toLowerCase()] ?? 'text';
}

/**
 * Largest file read (a file is held as one string while it is chunked; V8 strings stop at
 * about 512 million characters).
 */
export const MAX_FILE_BYTES = 256 * 1024 * 1024;

/** A file or folder entry that was not ingested, and why. */
export interface SkippedFile {
  path: string;
  reason: string;
  /** The package that reads such files, when its absence is the reason. */
  reader?: string;
}

/** What a path is when it is neither a regular file nor a folder. */
function special(info: Stats): string {
  if (info.isFIFO()) return 'a FIFO';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * The files named by `paths`, sorted per folder: folders are walked recursively (hidden
 * entries skipped, each folder once even through symbolic links), and only regular files
 * are taken, since reading a FIFO or a device would block or never end. In folders, an
 * entry that is not a regular file, or that cannot be read, is skipped with `onSkip`; a
 * path given explicitly must be a regular file or a folder (`IO_NOT_A_FILE` otherwise).
 * A file in a folder is taken for an extension ingest reads (`onOtherKind` hears of the
 * others); a file named is read whatever its extension.
 */
export async function collectFiles(
  paths: string[],
  options: {
    onSkip?: (skipped: SkippedFile) => void;
    /** A file in a folder left unread for its extension (named, it would be read as text). */
    onOtherKind?: (path: string) => void;
  } = {},
): Promise<string[]> {
  const out = new Set<string>();
  const folders = new Set<string>();
  const visit = async (path: string, explicit: boolean): Promise<void> => {
    let info: Stats;
    try {
      info = await stat(path);
    } catch (error) {
      if (explicit) throw fromNodeIoError(error, path);
      options.onSkip?.({ path, reason: fromNodeIoError(error, path).code });
      return;
    }
    if (info.isDirectory()) {
      const key = `${info.dev}:${info.ino}`;
      if (folders.has(key)) return;
      folders.add(key);
      let names: string[];
      try {
        names = await readdir(path);
      } catch (error) {
        if (explicit) throw fromNodeIoError(error, path);
        options.onSkip?.({ path, reason: fromNodeIoError(error, path).code });
        return;
      }
      for (const name of names.filter((n) => !n.startsWith('.')).sort()) {
        await visit(join(path, name), false);
      }
    } else if (!info.isFile()) {
      if (explicit) {
        throw new AiosError(
          'IO_NOT_A_FILE',
          `${path}: ${special(info)}, not a regular file or folder (ingest reads regular files only)`,
          { details: { path } },
        );
      }
      options.onSkip?.({ path, reason: special(info) });
    } else if (explicit || KINDS[extname(path).toLowerCase()]) {
      out.add(path);
    } else {
      options.onOtherKind?.(path);
    }
  };
  for (const p of paths) await visit(resolve(p), true);
  return [...out];
}

/**
 * The paths given, made absolute. An empty one is refused: `resolve('')` is the working
 * directory, so `aios forget "$UNSET"` would forget everything ingested from there.
 */
export function givenPaths(paths: readonly string[]): string[] {
  return paths.map((p, i) => {
    if (typeof p !== 'string' || p.trim() === '') {
      throw new AiosError(
        'INVALID_INPUT',
        `paths[${i}]: an empty path names no file (give . for the current folder)`,
        { details: { index: i } },
      );
    }
    return resolve(p);
  });
}

/** Whether `head` (a file's first KiB) holds the header every PDF starts with. */
export function hasPdfHeader(head: Uint8Array): boolean {
  return Buffer.from(head.subarray(0, SNIFF_BYTES)).toString('latin1').includes('%PDF-');
}

/** Whether `head` starts as a ZIP archive does (a .docx, an .epub, an .odt is one). */
export function hasZipHeader(head: Uint8Array): boolean {
  return head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
}

export const NOT_A_PDF = 'not a PDF (no %PDF- header in the first KiB)';

/** Documents that are ZIP archives of XML parts, by what they are called. */
const ZIPPED = {
  docx: 'Word document',
  epub: 'EPUB book',
  odt: 'OpenDocument text',
} as const;
export type ZippedKind = keyof typeof ZIPPED;

export const isZipped = (kind: FileKind): kind is ZippedKind => kind in ZIPPED;

/** What a document of `kind` is called in what ingest says of it. */
export const documentName = (kind: ZippedKind): string => ZIPPED[kind];

const article = (word: string) => (/^[aeiou]/i.test(word) ? 'an' : 'a');

/** Why a file of `kind` that does not start as a ZIP archive is not one of its kind. */
export const notZipped = (kind: ZippedKind): string =>
  `not ${article(ZIPPED[kind])} ${ZIPPED[kind]} (${article(kind)} .${kind} is a ZIP archive; this is none)`;

/** Whether files of `kind` are binary documents, read by a parser of their own. */
export const isDocument = (kind: FileKind): boolean => kind === 'pdf' || isZipped(kind);

/**
 * Why ingest cannot read a file named `path` whose first KiB is `head`, or undefined: a
 * PDF must start as one, a Word document, an EPUB book or an OpenDocument text as a ZIP
 * archive, any other file must be text (`binaryReason`).
 */
export function headProblem(path: string, head: Uint8Array): string | undefined {
  const kind = kindOf(path);
  if (kind === 'pdf') return hasPdfHeader(head) ? undefined : NOT_A_PDF;
  if (isZipped(kind)) return hasZipHeader(head) ? undefined : notZipped(kind);
  return binaryReason(head);
}

/** How many leading bytes are checked for binary content, as git does. */
const SNIFF_BYTES = 1024;

/**
 * Why `head` (the start of a file) is not text, or undefined: a NUL byte, or bytes that are
 * neither UTF-8 nor 8-bit text (a multi-byte character cut at the end of `head` is not
 * counted). UTF-16 with a byte order mark is text (see `./encoding.ts`).
 */
export function binaryReason(head: Uint8Array): string | undefined {
  const reason = notTextReason(head.subarray(0, SNIFF_BYTES));
  return reason === undefined ? undefined : `binary (${reason} in the first KiB)`;
}

/**
 * Opens a regular file for reading. Non-blocking, so a path that became a FIFO since it was
 * listed cannot hang the open; anything but a regular file is refused.
 */
async function openRegular(
  path: string,
): Promise<{ handle: FileHandle; size: number; modifiedAt: number }> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const info = await handle.stat();
    if (!info.isFile()) {
      throw new AiosError('IO_NOT_A_FILE', `${path}: ${special(info)}, not a regular file`, {
        details: { path },
      });
    }
    checkSize(path, info.size);
    return { handle, size: info.size, modifiedAt: Math.floor(info.mtimeMs) };
  } catch (error) {
    await handle?.close();
    throw error instanceof AiosError ? error : fromNodeIoError(error, path);
  }
}

/**
 * A regular file's size, modification time (ms) and the reason ingest cannot read it by
 * its start (`headProblem`), reading only its first KiB.
 */
export async function sniffFile(
  path: string,
): Promise<{ size: number; modifiedAt: number; problem?: string }> {
  const { handle, size, modifiedAt } = await openRegular(path);
  try {
    const head = new Uint8Array(Math.min(SNIFF_BYTES, size));
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const problem = headProblem(path, head.subarray(0, bytesRead));
    return problem ? { size, modifiedAt, problem } : { size, modifiedAt };
  } catch (error) {
    throw fromNodeIoError(error, path);
  } finally {
    await handle.close();
  }
}

function checkSize(path: string, size: number): void {
  if (size > MAX_FILE_BYTES) {
    throw new AiosError(
      'INGEST_TOO_LARGE',
      `${path}: ${(size / 1024 ** 2).toFixed(0)} MiB, more than the ${MAX_FILE_BYTES / 1024 ** 2} MiB ingest reads from one file (split it)`,
      { details: { path, size, max: MAX_FILE_BYTES } },
    );
  }
}

/** The bytes of a regular file. */
export async function readBytes(path: string): Promise<Buffer> {
  const { handle } = await openRegular(path);
  let bytes: Buffer;
  try {
    bytes = await handle.readFile();
  } catch (error) {
    throw fromNodeIoError(error, path);
  } finally {
    await handle.close();
  }
  checkSize(path, bytes.length);
  return bytes;
}

/** The text of a regular file, decoded as `decodeText` says (a byte order mark dropped). */
export async function readText(path: string): Promise<string> {
  return decodeText(await readBytes(path));
}
