/**
 * The document readers: htmlparser2 for HTML pages, unpdf (PDF.js) for PDFs, mammoth for
 * Word documents, fflate (ZIP) with htmlparser2 for EPUB books and OpenDocument texts.
 * They are optional peer dependencies of @aios/core, as pg is of @aios/data: together
 * they weigh 10 MB, which would take an install of @aios/core over its 45 MB, so whoever
 * ingests such files installs them beside it. Without one, its files are skipped with the
 * reason, which names the packages.
 */
import type { FileKind } from './files.js';

const READERS: Partial<Record<FileKind, { names: readonly string[]; what: string }>> = {
  html: { names: ['htmlparser2'], what: 'HTML pages' },
  pdf: { names: ['unpdf'], what: 'PDFs' },
  docx: { names: ['mammoth'], what: 'Word documents' },
  epub: { names: ['fflate', 'htmlparser2'], what: 'EPUB books' },
  odt: { names: ['fflate', 'htmlparser2'], what: 'OpenDocument texts' },
};

/** Imports a package (the seam tests replace). */
export type Importer = (name: string) => Promise<unknown>;
const importPackage: Importer = (name) => import(name);

const loaded = new Map<string, Promise<unknown>>();

/**
 * The module of `name`, imported once (by `load`, when given, every time); its default
 * export when it is CommonJS.
 */
export function loadReader<T>(name: string, load: Importer = importPackage): Promise<T> {
  const unwrap = (m: unknown) => (m as { default?: unknown }).default ?? m;
  if (load !== importPackage) return load(name).then(unwrap) as Promise<T>;
  let module = loaded.get(name);
  if (!module) {
    module = load(name).then(unwrap);
    // A failed import is tried again next time (the package may be installed since).
    module.catch(() => loaded.delete(name));
    loaded.set(name, module);
  }
  return module as Promise<T>;
}

/**
 * Why files of `kind` cannot be read here (packages of their reader, named, are not
 * installed), or undefined: every kind without a reader can be. `reader` names the
 * packages missing (one skip reason per set of them).
 */
export async function readerMissing(
  kind: FileKind,
  load: Importer = importPackage,
): Promise<{ reason: string; reader: string } | undefined> {
  const reader = READERS[kind];
  if (!reader) return undefined;
  const missing: string[] = [];
  for (const name of reader.names) {
    await loadReader(name, load).catch(() => missing.push(name));
  }
  if (missing.length === 0) return undefined;
  const packages = missing.join(' ');
  const named =
    missing.length === 1 ? `the ${packages} package` : `the packages ${missing.join(' and ')}`;
  return {
    reason: `reading ${reader.what} needs ${named}: npm i ${packages} beside @aios/core (with -g for a global aios)`,
    reader: packages,
  };
}
