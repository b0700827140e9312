/**
 * The text of a Word document (.docx), for ingest.
 *
 * mammoth turns the document into HTML by its styles (a "Heading 1" paragraph an `<h1>`,
 * lists, tables), and `pageText` reads that as it reads a web page: headings stay
 * headings, so the chunker starts a fragment at each and Luna reads it as the subject of
 * what follows. mammoth and htmlparser2 are optional peers (`readers.ts`).
 */
import { pageText } from './html.js';
import { loadReader } from './readers.js';
import type { Converted } from './zip.js';

/** The text of the Word document in `bytes`, or why it cannot be read. */
export async function docxToText(bytes: Uint8Array): Promise<Converted> {
  const mammoth = await loadReader<typeof import('mammoth')>('mammoth');
  const { value } = await mammoth.convertToHtml({ buffer: Buffer.from(bytes) });
  return { text: (await pageText(value)).text };
}
