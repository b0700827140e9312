/**
 * A file read into chunks as ingest cuts it: the one reading that ingest stores, that the
 * source index hashes, and that finds where a piece is in a file (`places.ts`).
 */
import { chatGptChunks } from './chatgpt.js';
import { type Chunk, textChunks } from './chunk.js';
import { csvChunks, csvRows } from './csv.js';
import { documentChunks, documentText } from './documents.js';
import { type FileKind, isZipped, readBytes, readText } from './files.js';
import { pageText } from './html.js';
import { jsonLines, recordChunks } from './json.js';
import { jsonRecords, type ParsedRecords } from './json-file.js';
import { pdfChunks, pdfPages } from './pdf.js';
import type { Section } from './zip.js';

/** A file to read: where it is, its kind, and what its chunks say they came from. */
export interface ReadableFile {
  path: string;
  kind: FileKind;
  source: string;
  /** A JSON, JSONL or CSV file's records, when they were parsed already. */
  parsed?: ParsedRecords;
}

/** The chunks of a file, made as they are taken, and how far through the file they are. */
export interface FileChunks {
  chunks: Iterator<Chunk>;
  fraction: () => number;
}

/**
 * The text of a file, which its content hash is taken of: a PDF's is its pages' text,
 * joined by form feeds (with the pages), a Word document's, an EPUB book's or an
 * OpenDocument text's the text made of it (`documentText`).
 */
export async function fileText(
  path: string,
  kind: FileKind,
  signal?: AbortSignal,
): Promise<{ text: string; pages?: string[]; sections?: Section[] }> {
  if (isZipped(kind)) return documentText(kind, await readBytes(path), path);
  if (kind !== 'pdf') return { text: await readText(path) };
  const pages = await pdfPages(await readBytes(path), path, signal);
  return { text: pages.join('\f'), pages };
}

/**
 * What a file's content hash is taken of: its text, and the titles of its sections (a
 * book's chapters, which its fragments name), so that a new title is a change.
 */
export function hashedText(read: { text: string; sections?: Section[] }): string {
  const titles = read.sections?.flatMap((s) => (s.title === undefined ? [] : [s.title])) ?? [];
  return titles.length === 0 ? read.text : `${read.text}\0${titles.join('\n')}`;
}

export async function openChunks(
  file: ReadableFile,
  signal?: AbortSignal,
): Promise<FileChunks & { text: string; sections?: Section[] }> {
  // Read from `path`; the chunks say they came from `source`.
  const { path, kind, source } = file;
  const { text, pages, sections }: { text: string; pages?: string[]; sections?: Section[] } =
    file.parsed ?? (await fileText(path, kind, signal));
  let fraction = 0;
  const track = function* <T>(items: Iterable<T>, at: (item: T) => number): Generator<T> {
    for (const item of items) {
      fraction = at(item);
      yield item;
    }
  };
  const of = (count: number) => (n: number) => (count === 0 ? 1 : n / count);
  let chunks: Iterator<Chunk>;
  if (kind === 'text' || kind === 'markdown') {
    chunks = track(textChunks(text, source, kind), (c) => of(text.length)(c.offset));
  } else if (pages) {
    chunks = track(pdfChunks(pages, source), (c) => of(pages.length)(c.line - 1));
  } else if (isZipped(kind)) {
    chunks = track(documentChunks(text, source, kind, sections), (c) => of(text.length)(c.offset));
  } else if (kind === 'html') {
    const page = await pageText(text);
    chunks = track(textChunks(page.text, source, 'html', { text, at: page.at }), (c) =>
      of(text.length)(c.offset),
    );
  } else if (kind === 'csv') {
    const rows = file.parsed?.kind === 'csv' ? file.parsed.rows : csvRows(text, path);
    chunks = track(csvChunks(rows, source), (c) => of(text.length)(c.offset));
  } else if (kind === 'jsonl') {
    const lines = file.parsed?.kind === 'jsonl' ? file.parsed.lines : jsonLines(text, path);
    chunks = (function* () {
      for (const record of track(lines, (r) => of(text.length)(r.offset))) {
        yield* recordChunks(record.value, source, 'jsonl', record.offset, record.line);
      }
    })();
  } else {
    const { records } = file.parsed?.kind === 'json' ? file.parsed : jsonRecords(text, path);
    if ('chatGpt' in records) {
      const messages = records.chatGpt;
      chunks = (function* () {
        for (const [i, m] of track(messages.entries(), ([i]) => of(messages.length)(i))) {
          yield* chatGptChunks([m], source);
          fraction = of(messages.length)(i + 1);
        }
      })();
    } else {
      const { items } = records;
      chunks = (function* () {
        for (const [i, item] of track(items.entries(), ([i]) => of(items.length)(i))) {
          yield* recordChunks(item, source, 'json', i, 1);
        }
      })();
    }
  }
  return { chunks, fraction: () => fraction, text, ...(sections ? { sections } : {}) };
}
