/**
 * The text of a Word document (.docx), for ingest.
 *
 * mammoth turns the document into HTML by its styles (a "Heading 1" paragraph an `<h1>`,
 * lists, tables), and `pageText` reads that as it reads a web page: headings stay
 * headings, so the chunker starts a fragment at each and Luna reads it as the subject of
 * what follows. mammoth and htmlparser2 are optional peers (`readers.ts`).
 */
import { type Chunk, textChunks } from './chunk.js';
import { hasZipHeader, NOT_A_DOCX } from './files.js';
import { pageText } from './html.js';
import { invalidFile } from './json.js';
import { loadReader } from './readers.js';

async function convert(bytes: Buffer): Promise<{ text: string } | { problem: string }> {
  if (!hasZipHeader(bytes)) return { problem: NOT_A_DOCX };
  try {
    const mammoth = await loadReader<typeof import('mammoth')>('mammoth');
    const { value } = await mammoth.convertToHtml({ buffer: bytes });
    return { text: (await pageText(value)).text };
  } catch (error) {
    return { problem: `a damaged Word document (${(error as Error).message})` };
  }
}

/** Why the Word document in `bytes` cannot be read, or undefined when it can. */
export async function docxProblem(bytes: Buffer): Promise<string | undefined> {
  const converted = await convert(bytes);
  return 'problem' in converted ? converted.problem : undefined;
}

/** The text of the Word document in `bytes`; `INGEST_INVALID` when it cannot be read. */
export async function docxText(bytes: Buffer, path: string): Promise<string> {
  const converted = await convert(bytes);
  if ('problem' in converted) throw invalidFile(path, converted.problem);
  return converted.text;
}

/**
 * The chunks of a Word document's text (`docxText`), as a page's are cut: its line is the
 * line of that text (Word shows none; the CLI cites the file alone).
 */
export function* docxChunks(text: string, source: string): Generator<Chunk> {
  for (const c of textChunks(text, source, 'html')) yield { ...c, kind: 'docx' };
}
