/**
 * The thread that runs PDF.js (`pdf-thread.ts` starts it). The build emits it as a file of
 * its own, `dist/pdf-worker.js`, which the thread is started from; it imports unpdf from
 * where the package that started it finds it (`workerData.unpdf`, a file URL), so that an
 * aios installed globally reads PDFs with the unpdf beside it.
 *
 * Each message it is sent is a PDF's bytes (transferred); it answers with one message per
 * page, `{ page: [[text, endsLine, baseline], ...] }` (the page's text pieces, in PDF.js's
 * order), then `{ done: true }`; or `{ failed: { name, message } }` when PDF.js cannot open
 * the file, or `{ error: { name, message } }` when it fails after opening it. A message per
 * page keeps each one the thread that reads them takes in short.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type * as Unpdf from 'unpdf';

/** A piece of a page's text: its text, whether a line ends after it, its baseline height. */
export type TextPiece = [text: string, endsLine: boolean, y: number];

/** Why PDF.js could not open a file (or failed reading it): its exception's name and message. */
export interface OpenFailure {
  name: string;
  message: string;
}

/** What the thread answers, in order, to one PDF. */
export type PdfReply =
  | { page: TextPiece[] }
  | { done: true }
  | { failed: OpenFailure }
  | { error: OpenFailure };

/** What the thread is started with. */
export interface PdfWorkerData {
  /** unpdf's file URL, as the package that starts the thread resolves it. */
  unpdf: string;
}

type PdfJs = Awaited<ReturnType<typeof Unpdf.getResolvedPDFJS>>;

// Only ever started as a worker thread, never imported.
const port = parentPort as NonNullable<typeof parentPort>;
const { unpdf } = workerData as PdfWorkerData;
const reply = (message: PdfReply) => port.postMessage(message);

let resolved: Promise<PdfJs> | undefined;
const pdfjs = (): Promise<PdfJs> => {
  resolved ??= import(unpdf).then((m: typeof Unpdf & { default?: typeof Unpdf }) =>
    (m.default ?? m).getResolvedPDFJS(),
  );
  return resolved;
};

const fault = (error: unknown): OpenFailure => {
  const e = error as { name?: unknown; message?: unknown } | null | undefined;
  return { name: String(e?.name ?? 'Error'), message: String(e?.message ?? error) };
};

async function read(bytes: Uint8Array): Promise<void> {
  const { getDocument } = await pdfjs();
  const task = getDocument({
    data: bytes,
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    // Errors only: a damaged part of a page is said once, by the skip or the empty page.
    verbosity: 0,
  });
  let doc: Awaited<typeof task.promise>;
  try {
    doc = await task.promise;
  } catch (error) {
    await task.destroy();
    reply({ failed: fault(error) });
    return;
  }
  try {
    for (let n = 1; n <= doc.numPages; n++) {
      const page = await doc.getPage(n);
      const content = await page.getTextContent();
      const pieces: TextPiece[] = [];
      for (const item of content.items) {
        // Marked-content items carry no text.
        if ('str' in item && typeof item.str === 'string') {
          pieces.push([item.str, item.hasEOL === true, item.transform?.[5] ?? 0]);
        }
      }
      reply({ page: pieces });
      page.cleanup();
    }
  } finally {
    await doc.destroy();
  }
  reply({ done: true });
}

port.on('message', (bytes: Uint8Array) => {
  read(bytes).catch((error: unknown) => reply({ error: fault(error) }));
});
