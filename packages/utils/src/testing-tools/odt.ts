import type { TestParagraph } from './docx.js';
import { xml, zip } from './zip.js';

const NAMESPACES =
  'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"';

/**
 * A small OpenDocument text (.odt) for tests, with the parts office suites write: the
 * `mimetype` entry first, the manifest, and `content.xml`. `body` is the paragraphs (a
 * heading at its outline level) or, as written, the XML inside `<office:text>`.
 */
export function testOdt(
  body: readonly TestParagraph[] | string,
  options: { mimetype?: string; encrypted?: boolean } = {},
): Buffer {
  const inner =
    typeof body === 'string'
      ? body
      : body
          .map(({ text, heading }) =>
            heading
              ? `<text:h text:outline-level="${heading}">${xml(text)}</text:h>`
              : `<text:p>${xml(text)}</text:p>`,
          )
          .join('');
  const encryption = options.encrypted
    ? '<manifest:encryption-data manifest:checksum-type="SHA1" manifest:checksum="x"><manifest:algorithm manifest:algorithm-name="Blowfish CFB" manifest:initialisation-vector="x"/></manifest:encryption-data>'
    : '';
  return zip([
    ['mimetype', options.mimetype ?? 'application/vnd.oasis.opendocument.text'],
    [
      'META-INF/manifest.xml',
      `<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml">${encryption}</manifest:file-entry></manifest:manifest>`,
    ],
    [
      'content.xml',
      `<?xml version="1.0" encoding="UTF-8"?><office:document-content ${NAMESPACES} office:version="1.3"><office:automatic-styles/><office:body><office:text>${inner}</office:text></office:body></office:document-content>`,
    ],
  ]);
}
