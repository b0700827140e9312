import type { TestParagraph } from './docx.js';
import { xml, zip } from './zip.js';

const chapterPage = (bookTitle: string, paragraphs: readonly TestParagraph[]) =>
  `<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE html><html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops"><head><title>${xml(bookTitle)}</title></head><body>${paragraphs
    .map(({ text, heading }) =>
      heading ? `<h${heading}>${xml(text)}</h${heading}>` : `<p>${xml(text)}</p>`,
    )
    .join('')}</body></html>`;

/**
 * A small EPUB 3 book for tests, as e-book tools write one: the `mimetype` entry first,
 * the container, a package document (in its own folder, so hrefs are relative to it)
 * whose spine lists the chapters, a navigation page kept out of the spine, and chapters
 * whose `<title>` repeats the book's. `encrypted` declares the chapters encrypted, as a
 * book under DRM does.
 */
export function testEpub(
  chapters: ReadonlyArray<readonly TestParagraph[]>,
  options: { title?: string; encrypted?: boolean } = {},
): Buffer {
  const title = options.title ?? 'A Test Book';
  const pages = chapters.map((_, i) => `text/chapter ${i + 1}.xhtml`);
  const manifest = pages
    .map(
      (href, i) =>
        `<item id="c${i + 1}" href="${encodeURI(href)}" media-type="application/xhtml+xml"/>`,
    )
    .join('');
  const spine = pages.map((_, i) => `<itemref idref="c${i + 1}"/>`).join('');
  const files: Array<[string, string]> = [
    ['mimetype', 'application/epub+zip'],
    [
      'META-INF/container.xml',
      '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>',
    ],
    [
      'OEBPS/content.opf',
      `<?xml version="1.0" encoding="UTF-8"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="id">urn:uuid:00000000-0000-4000-8000-000000000000</dc:identifier><dc:title>${xml(title)}</dc:title><dc:language>en</dc:language></metadata><manifest><item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>${manifest}</manifest><spine>${spine}</spine></package>`,
    ],
    [
      'OEBPS/nav.xhtml',
      `<?xml version="1.0" encoding="UTF-8"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>Contents</title></head><body><nav><ol>${pages.map((p, i) => `<li><a href="${encodeURI(p)}">Chapter ${i + 1}</a></li>`).join('')}</ol></nav></body></html>`,
    ],
    ...chapters.map((c, i): [string, string] => [`OEBPS/${pages[i]}`, chapterPage(title, c)]),
  ];
  if (options.encrypted) {
    const references = pages
      .map(
        (p) =>
          `<enc:EncryptedData><enc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/><enc:CipherData><enc:CipherReference URI="${encodeURI(`OEBPS/${p}`)}"/></enc:CipherData></enc:EncryptedData>`,
      )
      .join('');
    files.push([
      'META-INF/encryption.xml',
      `<?xml version="1.0"?><encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" xmlns:enc="http://www.w3.org/2001/04/xmlenc#">${references}</encryption>`,
    ]);
  }
  return zip(files);
}
