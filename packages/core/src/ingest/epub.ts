/**
 * The text of an EPUB book (.epub), for ingest.
 *
 * An EPUB is a ZIP archive: `META-INF/container.xml` names the package document, whose
 * manifest lists the book's files and whose spine puts its chapters (XHTML pages) in
 * reading order. Each chapter is read as a web page is (`pageText`, without the page
 * title, which chapters often repeat), so its headings stay headings; the book's title
 * heads the text (unless its first page starts with it). A book under DRM (its chapters encrypted) is refused, not read as noise.
 */
import { posix } from 'node:path';
import { decodeText } from './encoding.js';
import { pageText } from './html.js';
import { type Converted, walkXml, zipParts } from './zip.js';

const CONTAINER = 'META-INF/container.xml';
const ENCRYPTION = 'META-INF/encryption.xml';
/** Media types of chapters that are read; a spine may also hold an SVG or an image page. */
const PAGES = new Set(['application/xhtml+xml', 'text/html']);

/** An archive path from an href relative to the folder `dir` (`#fragment`, URL escapes dropped). */
function resolveHref(dir: string, href: string): string {
  const path = href.split('#')[0] ?? '';
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    // A malformed escape is taken as written.
  }
  return posix.normalize(posix.join(dir, decoded)).replace(/^\.\//, '');
}

/** The package document's path, from the container. */
async function packagePath(container: string): Promise<string | undefined> {
  let path: string | undefined;
  await walkXml(container, {
    open(name, attributes) {
      if (name === 'rootfile' && path === undefined && attributes['full-path']) {
        path = attributes['full-path'];
      }
    },
  });
  return path;
}

/** The book's title and the paths of its chapters in reading order. */
async function readPackage(opf: string, at: string): Promise<{ title: string; spine: string[] }> {
  const items = new Map<string, { path: string; type: string }>();
  const order: string[] = [];
  let title = '';
  let inTitle = false;
  let titled = false;
  await walkXml(opf, {
    open(name, attributes) {
      if (name === 'item' && attributes.id && attributes.href) {
        items.set(attributes.id, {
          path: resolveHref(posix.dirname(at), attributes.href),
          type: (attributes['media-type'] ?? '').toLowerCase(),
        });
      } else if (name === 'itemref' && attributes.idref) {
        order.push(attributes.idref);
      } else if (name === 'title' && !titled) {
        inTitle = true;
      }
    },
    close(name) {
      if (name === 'title' && inTitle) {
        inTitle = false;
        titled = true;
      }
    },
    text(data) {
      if (inTitle) title += data;
    },
  });
  const spine = order
    .map((id) => items.get(id))
    .filter((item) => item !== undefined && PAGES.has(item.type))
    .map((item) => (item as { path: string }).path);
  return { title: title.replace(/\s+/g, ' ').trim(), spine };
}

/** The archive paths of the parts `encryption.xml` says are encrypted. */
async function encryptedPaths(encryption: string): Promise<Set<string>> {
  const paths = new Set<string>();
  await walkXml(encryption, {
    open(name, attributes) {
      if (name === 'CipherReference' && attributes.URI) {
        // Relative to the archive's root, not to the META-INF folder.
        paths.add(resolveHref('.', attributes.URI));
      }
    },
  });
  return paths;
}

/** The text of the EPUB book in `bytes`, or why it cannot be read. */
export async function epubToText(bytes: Uint8Array): Promise<Converted> {
  const meta = await zipParts(bytes, (name) => name === CONTAINER || name === ENCRYPTION);
  const container = meta.get(CONTAINER);
  if (!container) return { problem: `not an EPUB book (it has no ${CONTAINER})` };
  const opfPath = await packagePath(decodeText(container));
  if (!opfPath) return { problem: `a damaged EPUB book (${CONTAINER} names no package document)` };
  const opf = (await zipParts(bytes, (name) => name === opfPath)).get(opfPath);
  if (!opf) return { problem: `a damaged EPUB book (its package document ${opfPath} is missing)` };
  const { title, spine } = await readPackage(decodeText(opf), opfPath);
  const encryption = meta.get(ENCRYPTION);
  if (encryption) {
    // Fonts may be obfuscated in a DRM-free book too: only encrypted chapters refuse it.
    const encrypted = await encryptedPaths(decodeText(encryption));
    if (spine.some((path) => encrypted.has(path))) {
      return { problem: 'an encrypted (DRM) EPUB book: ingest reads books without DRM' };
    }
  }
  const wanted = new Set(spine);
  const pages = await zipParts(bytes, (name) => wanted.has(name));
  if (spine.length > 0 && pages.size === 0) {
    return { problem: 'a damaged EPUB book (none of the chapters its spine lists is in it)' };
  }
  const chapters: string[] = [];
  for (const path of spine) {
    const page = pages.get(path);
    if (!page) continue;
    const { text } = await pageText(decodeText(page), { title: false });
    if (text.trim() !== '') chapters.push(text);
  }
  // The title heads the text unless the book's first page says it already.
  const head = `# ${title}`;
  const first = chapters[0] ?? '';
  if (title && !(first === head || first.startsWith(`${head}\n`))) chapters.unshift(head);
  return { text: chapters.join('\n\n') };
}
