import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@aios/utils';
import { testEpub, testImplementations } from '@aios/utils/testing';
import { strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { createAios } from './aios.js';
import { ingest } from './ingest.js';

// An EPUB book's fragments name their chapter (`metadata.chapter`): where in the book the
// passage is, which a book's lines, made by the reader, do not say.

/** A paragraph long enough that the next one is a fragment of its own. */
const LONG =
  'The lighthouse stood on the last rock of the bay, and its keeper climbed the hundred steps twice a night to wind the clockwork that turned the lens. '.repeat(
    3,
  );

const page = (body: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>The Keeper</title></head><body>${body}</body></html>`;

/**
 * An EPUB 2 book, as older tools write one: its table of contents an NCX (a part whose
 * first chapter it points to as well), its second chapter split over two files, the
 * second of which neither the NCX names nor a heading opens.
 */
function epub2(storm = 'The   Storm'): Buffer {
  const files: Record<string, Uint8Array> = {
    mimetype: strToU8('application/epub+zip'),
    'META-INF/container.xml': strToU8(
      '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles><rootfile full-path="content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>',
    ),
    'content.opf': strToU8(
      '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="2.0"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>The Keeper</dc:title></metadata><manifest><item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/><item id="a" href="one.html" media-type="application/xhtml+xml"/><item id="b" href="two.html" media-type="application/xhtml+xml"/><item id="c" href="two-b.html" media-type="application/xhtml+xml"/></manifest><spine toc="ncx"><itemref idref="a"/><itemref idref="b"/><itemref idref="c"/></spine></package>',
    ),
    'toc.ncx': strToU8(
      `<?xml version="1.0"?><ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1"><navMap><navPoint id="p1"><navLabel><text>Part One</text></navLabel><content src="one.html"/><navPoint id="n1"><navLabel><text>The Lamp</text></navLabel><content src="one.html#start"/></navPoint><navPoint id="n2"><navLabel><text>${storm}</text></navLabel><content src="two.html"/></navPoint></navPoint></navMap></ncx>`,
    ),
    'one.html': strToU8(page('<p>The lamp was lit at dusk.</p>')),
    'two.html': strToU8(page('<h2>Night</h2><p>The wind rose.</p>')),
    'two-b.html': strToU8(page('<p>Martha rowed out to the schooner at dawn.</p>')),
  };
  return Buffer.from(zipSync(files));
}

describe.each(testImplementations())('ingest of an EPUB book (AIOS_NATIVE=%s)', (impl) => {
  const open = async () => {
    const home = mkdtempSync(join(tmpdir(), 'aios-ingest-epub-'));
    const { config } = loadConfig({ cwd: home, env: { AIOS_HOME: home, AIOS_NATIVE: impl } });
    return { home, aios: await createAios({ config, offline: true }) };
  };

  it("names each fragment's chapter, as the book's table of contents titles it", async () => {
    const { home, aios } = await open();
    try {
      const file = join(home, 'keeper.epub');
      writeFileSync(
        file,
        testEpub(
          [
            [{ text: 'The lamp was lit at dusk.' }],
            [
              { text: 'The Storm', heading: 1 },
              { text: LONG },
              { text: 'Martha rowed out to the schooner at dawn.' },
            ],
          ],
          { title: 'The Keeper' },
        ),
      );
      await ingest(aios, [file]);
      const [martha] = await aios.memory.search('Martha rowed schooner', { k: 1 });
      expect(martha?.fragment.text).toBe('Martha rowed out to the schooner at dawn.');
      expect(martha?.fragment.metadata).toMatchObject({
        source: file,
        kind: 'epub',
        chapter: 'Chapter 2',
      });
      // The first chapter's fragment holds the book's title and its own text, not the next
      // chapter's.
      const [lamp] = await aios.memory.search('lamp lit dusk', { k: 1 });
      expect(lamp?.fragment.text).toBe('# The Keeper\n\nThe lamp was lit at dusk.');
      expect(lamp?.fragment.metadata).toMatchObject({ chapter: 'Chapter 1', line: 1 });
    } finally {
      await aios.close();
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('reads the titles of an EPUB 2 table of contents; a file it does not name goes on with the chapter before', async () => {
    const { home, aios } = await open();
    try {
      const file = join(home, 'keeper.epub');
      writeFileSync(file, epub2());
      await ingest(aios, [file]);
      const chapter = async (query: string) =>
        (await aios.memory.search(query, { k: 1 }))[0]?.fragment.metadata.chapter;
      expect(await chapter('lamp lit dusk')).toBe('Part One');
      expect(await chapter('wind rose')).toBe('The Storm');
      expect(await chapter('Martha rowed schooner')).toBe('The Storm');
      // Retitled, the same text: its fragments, kept, name the new title.
      writeFileSync(file, epub2('The Gale'));
      const again = await ingest(aios, [file]);
      expect(again.files).toMatchObject([{ status: 'changed', added: 0, removed: 0 }]);
      expect(await chapter('wind rose')).toBe('The Gale');
      expect(await chapter('Martha rowed schooner')).toBe('The Gale');
    } finally {
      await aios.close();
      rmSync(home, { recursive: true, force: true });
    }
  });
});
