/**
 * The parts of a document that is a ZIP archive of XML (an EPUB book, an OpenDocument text),
 * read with fflate and htmlparser2 (optional peers, `readers.ts`).
 */
import { MAX_FILE_BYTES } from './files.js';
import { loadReader } from './readers.js';

/** An archive whose parts would expand past the largest file ingest reads. */
export class ArchiveTooLarge extends Error {}

/** A part of a document's text (an EPUB book's chapter): where it starts, and its title. */
export interface Section {
  at: number;
  title?: string;
}

/**
 * What a reader made of a document: its text (with its sections, when it has them), or
 * why it cannot be read.
 */
export type Converted = { text: string; sections?: Section[] } | { problem: string };

/**
 * The entries of the archive `bytes` that `wanted` picks, decompressed, by name. Throws
 * when the archive is damaged, or when they would expand past the largest file ingest
 * reads (a ZIP bomb is refused by the sizes its directory declares, before inflating).
 */
export async function zipParts(
  bytes: Uint8Array,
  wanted: (name: string) => boolean,
): Promise<Map<string, Uint8Array>> {
  const { unzipSync } = await loadReader<typeof import('fflate')>('fflate');
  let total = 0;
  const parts = unzipSync(bytes, {
    filter: (file) => {
      if (!wanted(file.name)) return false;
      total += file.originalSize;
      if (total > MAX_FILE_BYTES) {
        throw new ArchiveTooLarge(`its parts expand to more than ${MAX_FILE_BYTES / 2 ** 20} MiB`);
      }
      return true;
    },
  });
  return new Map(Object.entries(parts));
}

/** What `walkXml` calls: elements and attributes by their local names (prefixes dropped). */
export interface XmlHandlers {
  open?(name: string, attributes: Record<string, string>): void;
  close?(name: string): void;
  text?(data: string): void;
}

const local = (name: string) => name.slice(name.indexOf(':') + 1);

/**
 * Walks the XML document `xml`, entities decoded. Names lose their namespace prefixes: the
 * formats read here fix their vocabularies, not the prefixes a writer chooses.
 */
export async function walkXml(xml: string, on: XmlHandlers): Promise<void> {
  const { Parser } = await loadReader<typeof import('htmlparser2')>('htmlparser2');
  const parser = new Parser(
    {
      onopentag(name, attributes) {
        if (!on.open) return;
        const named: Record<string, string> = {};
        for (const [key, value] of Object.entries(attributes)) named[local(key)] = value;
        on.open(local(name), named);
      },
      onclosetag(name) {
        on.close?.(local(name));
      },
      ontext(data) {
        on.text?.(data);
      },
    },
    { xmlMode: true, decodeEntities: true },
  );
  parser.end(xml);
}
