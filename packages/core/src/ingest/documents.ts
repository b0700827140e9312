/**
 * Documents that are ZIP archives of XML (Word, EPUB, OpenDocument): each read into text
 * with headings as Markdown headings, then cut as a page's text is. A fragment's line is
 * a line of that text: these formats show none, and the CLI cites the file alone. An EPUB
 * book's chapters are cut apart, each fragment naming its chapter (`metadata.chapter`):
 * where in the book it is.
 */
import { type Chunk, lineCounter, textChunks } from './chunk.js';
import { docxToText } from './docx.js';
import { epubToText } from './epub.js';
import { documentName, hasZipHeader, notZipped, type ZippedKind } from './files.js';
import { invalidFile } from './json.js';
import { odtToText } from './odt.js';
import { ArchiveTooLarge, type Converted, type Section } from './zip.js';

const READ: Record<ZippedKind, (bytes: Uint8Array) => Promise<Converted>> = {
  docx: docxToText,
  epub: epubToText,
  odt: odtToText,
};

async function convert(kind: ZippedKind, bytes: Uint8Array): Promise<Converted> {
  if (!hasZipHeader(bytes)) return { problem: notZipped(kind) };
  try {
    return await READ[kind](bytes);
  } catch (error) {
    if (error instanceof ArchiveTooLarge) {
      return { problem: `too large to read (${error.message})` };
    }
    return { problem: `a damaged ${documentName(kind)} (${(error as Error).message})` };
  }
}

/**
 * The text of the document of `kind` in `bytes`, with its sections when it has them (an
 * EPUB book's chapters); `INGEST_INVALID` when it cannot be read.
 */
export async function documentText(
  kind: ZippedKind,
  bytes: Uint8Array,
  path: string,
): Promise<{ text: string; sections?: Section[] }> {
  const converted = await convert(kind, bytes);
  if ('problem' in converted) throw invalidFile(path, converted.problem);
  return converted;
}

/**
 * The chunks of a document's text (`documentText`), cut as a page's text is; with
 * `sections`, none across two, and each naming its section's title (`meta.chapter`).
 */
export function* documentChunks(
  text: string,
  source: string,
  kind: ZippedKind,
  sections?: readonly Section[],
): Generator<Chunk> {
  if (!sections) {
    for (const c of textChunks(text, source, 'html')) yield { ...c, kind };
    return;
  }
  const lineAt = lineCounter(text);
  for (const [i, section] of sections.entries()) {
    const end = sections[i + 1]?.at ?? text.length;
    const before = lineAt(section.at) - 1;
    const meta = section.title === undefined ? {} : { meta: { chapter: section.title } };
    for (const c of textChunks(text.slice(section.at, end), source, 'html')) {
      yield { ...c, offset: section.at + c.offset, line: before + c.line, kind, ...meta };
    }
  }
}
