/**
 * Where the code of the PDF thread (`pdf-worker.ts`) is. Built, it is `pdf-worker.js`
 * beside the bundle that starts it: tsup emits it as an entry of its own, and the package
 * ships it in `dist`. Run from the TypeScript (the tests), it is `pdf-worker.ts`, which
 * Node 20 cannot start as a thread: it is compiled with TypeScript (there, a dependency of
 * the workspace) and started from a `data:` URL, which its imports (Node's own modules,
 * and unpdf by its file URL) allow.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

let compiled: URL | undefined;

/** The URL to start the PDF thread from. */
export function pdfWorkerUrl(): URL {
  if (!import.meta.url.endsWith('.ts')) return new URL('./pdf-worker.js', import.meta.url);
  compiled ??= compile(new URL('./pdf-worker.ts', import.meta.url));
  return compiled;
}

function compile(source: URL): URL {
  const ts = createRequire(import.meta.url)('typescript') as typeof import('typescript');
  const { outputText } = ts.transpileModule(readFileSync(source, 'utf8'), {
    fileName: fileURLToPath(source),
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  return new URL(`data:text/javascript,${encodeURIComponent(outputText)}`);
}
