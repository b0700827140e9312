/**
 * The code of the thread that runs PDF.js (`pdf-thread.ts`), as source text: the package
 * is bundled into a few files, and a thread needs code of its own to start from, which
 * neither the build nor the tests (run from the TypeScript) would give as a file. It is
 * plain JavaScript, run as a script (`eval`), and imports unpdf from where the package
 * that started it finds it (`workerData.unpdf`).
 *
 * Each message it is sent is a PDF's bytes (transferred); it answers with one message per
 * page, `{ page: [[text, endsLine, baseline], ...] }` (the page's text pieces, in PDF.js's
 * order), then `{ done: true }`; or `{ failed: { name, message } }` when PDF.js cannot open
 * the file, or `{ error: { name, message } }` when it fails after opening it. A message per
 * page keeps each one the thread that reads them takes in short.
 */
export const PDF_WORKER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');

let resolved;
const pdfjs = () => {
  resolved ??= import(workerData.unpdf).then((m) => (m.default ?? m).getResolvedPDFJS());
  return resolved;
};
const fault = (error) => ({ name: String(error?.name ?? 'Error'), message: String(error?.message ?? error) });

async function read(bytes) {
  const { getDocument } = await pdfjs();
  const task = getDocument({
    data: bytes,
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    // Errors only: a damaged part of a page is said once, by the skip or the empty page.
    verbosity: 0,
  });
  let doc;
  try {
    doc = await task.promise;
  } catch (error) {
    await task.destroy();
    parentPort.postMessage({ failed: fault(error) });
    return;
  }
  try {
    for (let n = 1; n <= doc.numPages; n++) {
      const page = await doc.getPage(n);
      const content = await page.getTextContent();
      const pieces = [];
      for (const item of content.items) {
        if (typeof item.str === 'string') {
          pieces.push([item.str, item.hasEOL === true, item.transform?.[5] ?? 0]);
        }
      }
      parentPort.postMessage({ page: pieces });
      page.cleanup();
    }
  } finally {
    await doc.destroy();
  }
  parentPort.postMessage({ done: true });
}

parentPort.on('message', (bytes) => {
  read(bytes).catch((error) => parentPort.postMessage({ error: fault(error) }));
});
`;
