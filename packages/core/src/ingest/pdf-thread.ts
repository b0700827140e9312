/**
 * PDF.js on a thread of its own. Read on the JS thread, a large PDF held it for seconds (5
 * s for 2,000 pages), and a server ingesting an upload answered nothing meanwhile; on its
 * thread, the JS thread only takes in each page's text as it comes.
 *
 * One thread per process reads one PDF at a time, in turn (concurrent uploads queue rather
 * than each starting a PDF.js of its own), with its heap bounded (`PDF_HEAP_MB`: a PDF
 * that needs more is refused as too large, where before it took the whole process down).
 * It stays a few seconds after a PDF, for the next one of a folder, then ends; it never
 * keeps the process alive, and a read that is stopped ends it at once.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { serial } from '@aios/utils';
import type { OpenFailure, PdfReply, PdfWorkerData, TextPiece } from './pdf-worker.js';
import { pdfWorkerUrl } from './pdf-worker-file.js';

export type { OpenFailure, TextPiece } from './pdf-worker.js';

/** Old-generation heap of the thread, in MB: ample for any PDF under `MAX_FILE_BYTES`. */
export const PDF_HEAP_MB = 2048;

/** How long the thread waits for another PDF before it ends. */
const IDLE_MS = 3_000;

/** A PDF whose reading took PDF.js over `PDF_HEAP_MB`. */
export class PdfTooLarge extends Error {}

/** The running thread, if any, and the timer that ends it once idle. */
let thread: Worker | undefined;
let idle: NodeJS.Timeout | undefined;
const turn = serial();

/** unpdf, from where this package finds it (beside it, or beside a global aios). */
const unpdfUrl = () => pathToFileURL(createRequire(import.meta.url).resolve('unpdf')).href;

function start(): Worker {
  const workerData: PdfWorkerData = { unpdf: unpdfUrl() };
  const worker = new Worker(pdfWorkerUrl(), {
    workerData,
    resourceLimits: { maxOldGenerationSizeMb: PDF_HEAP_MB },
    stdout: false,
    stderr: false,
  });
  // A failure is reported to the read it happened in; an idle thread's end is no error.
  worker.on('error', () => undefined);
  worker.on('exit', () => {
    if (thread === worker) thread = undefined;
  });
  worker.unref();
  return worker;
}

function end(worker: Worker): void {
  if (thread === worker) thread = undefined;
  void worker.terminate();
}

function read(
  bytes: Uint8Array,
  onPage: (pieces: TextPiece[]) => void,
  signal?: AbortSignal,
): Promise<OpenFailure | undefined> {
  signal?.throwIfAborted();
  clearTimeout(idle);
  thread ??= start();
  const worker = thread;
  // Held while reading: the caller waits on it, and nothing else may keep the process up.
  worker.ref();
  return new Promise((resolve, reject) => {
    const settle = () => {
      worker.off('message', message);
      worker.off('error', error);
      worker.off('exit', exit);
      signal?.removeEventListener('abort', abort);
      worker.unref();
      if (thread === worker) idle = setTimeout(() => end(worker), IDLE_MS).unref();
    };
    const message = (reply: PdfReply) => {
      if ('page' in reply) {
        try {
          onPage(reply.page);
        } catch (failure) {
          end(worker);
          settle();
          reject(failure);
        }
        return;
      }
      settle();
      if ('done' in reply) resolve(undefined);
      else if ('failed' in reply) resolve(reply.failed);
      else reject(Object.assign(new Error(reply.error.message), { name: reply.error.name }));
    };
    const error = (failure: Error & { code?: string }) => {
      end(worker);
      settle();
      reject(
        failure.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new PdfTooLarge(`PDF.js needed more than ${PDF_HEAP_MB} MB`)
          : failure,
      );
    };
    const exit = (code: number) => {
      end(worker);
      settle();
      reject(new Error(`the PDF reader's thread ended (exit code ${code})`));
    };
    const abort = () => {
      end(worker);
      settle();
      reject(signal?.reason);
    };
    worker.on('message', message);
    worker.on('error', error);
    worker.on('exit', exit);
    signal?.addEventListener('abort', abort, { once: true });
    // PDF.js takes the buffer over: the thread gets a copy of its own.
    const copy = bytes.slice();
    worker.postMessage(copy, [copy.buffer]);
  });
}

/**
 * Reads the PDF in `bytes` on PDF.js's thread, giving each page's text pieces to `onPage`
 * in order; resolves with why PDF.js could not open it, or undefined once every page was
 * given. Rejects with `signal`'s reason once it is aborted (the thread is ended), with
 * `PdfTooLarge`, or with what PDF.js threw reading a page.
 */
export function readPdfPieces(
  bytes: Uint8Array,
  onPage: (pieces: TextPiece[]) => void,
  signal?: AbortSignal,
): Promise<OpenFailure | undefined> {
  return turn(() => read(bytes, onPage, signal));
}
