/**
 * The document readers: htmlparser2 for HTML pages, unpdf (PDF.js) for PDFs, mammoth for
 * Word documents. They are optional peer dependencies of @aios/core, as pg is of
 * @aios/data: together they weigh 9 MB, which would take an install of @aios/core over
 * its 45 MB, so whoever ingests such files installs them beside it. Without one, its files
 * are skipped with the reason, which names the package.
 */
import type { FileKind } from './files.js';

const READERS: Partial<Record<FileKind, { name: string; what: string }>> = {
  html: { name: 'htmlparser2', what: 'HTML pages' },
  pdf: { name: 'unpdf', what: 'PDFs' },
  docx: { name: 'mammoth', what: 'Word documents' },
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
 * Why files of `kind` cannot be read here (their reader, named, is not installed), or
 * undefined: every kind without a reader can be.
 */
export async function readerMissing(
  kind: FileKind,
  load: Importer = importPackage,
): Promise<{ reason: string; reader: string } | undefined> {
  const reader = READERS[kind];
  if (!reader) return undefined;
  try {
    await loadReader(reader.name, load);
    return undefined;
  } catch {
    return {
      reason: `reading ${reader.what} needs the ${reader.name} package: npm i ${reader.name} beside @aios/core (with -g for a global aios)`,
      reader: reader.name,
    };
  }
}
