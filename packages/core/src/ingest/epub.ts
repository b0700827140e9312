/**
 * The text of an EPUB book (.epub), for ingest.
 *
 * An EPUB is a ZIP archive: `META-INF/container.xml` names the package document, whose
 * manifest lists the book's files and whose spine puts its chapters (XHTML pages) in
 * reading order. Each chapter is read as a web page is (`pageText`, without the page
 * title, which chapters often repeat), so its headings stay headings; the book's title
 * heads the text (unless its first page starts with it). A book under DRM (its chapters encrypted) is refused, not read as noise.
 *
 * Each chapter is a section of the text named by its title, for a fragment to cite where
 * in the book it is: the title its table of contents gives it (`epub-toc.ts`), else its
 * first heading; a page of neither (a chapter split over several files) goes on with the
 * title before it.
 */
import { posix } from 'node:path';
import { decodeText } from './encoding.js';
import { navTitles, ncxTitles, type TocTitles } from './epub-toc.js';
import { pageText } from './html.js';
import { type Converted, type Section, walkXml, zipParts } from './zip.js';

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

/** What the package document says of the book. */
interface Package {
  title: string;
  /** The paths of its chapters, in reading order. */
  spine: string[];
  /** The paths of its table of contents: EPUB 3's navigation document, EPUB 2's NCX. */
  nav?: string;
  ncx?: string;
}

/** The book's title, its chapters in reading order and where its table of contents is. */
async function readPackage(opf: string, at: string): Promise<Package> {
  const items = new Map<string, { path: string; type: string }>();
  let nav: string | undefined;
  let ncx: string | undefined;
  const order: string[] = [];
  let title = '';
  let inTitle = false;
  let titled = false;
  await walkXml(opf, {
    open(name, attributes) {
      if (name === 'item' && attributes.id && attributes.href) {
        const item = {
          path: resolveHref(posix.dirname(at), attributes.href),
          type: (attributes['media-type'] ?? '').toLowerCase(),
        };
        items.set(attributes.id, item);
        if (/(?:^|\s)nav(?:\s|$)/.test(attributes.properties ?? '')) nav ??= item.path;
        if (item.type === 'application/x-dtbncx+xml') ncx ??= item.path;
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
  return {
    title: title.replace(/\s+/g, ' ').trim(),
    spine,
    ...(nav === undefined ? {} : { nav }),
    ...(ncx === undefined ? {} : { ncx }),
  };
}

/** The chapter titles of the book's table of contents (empty when it has none). */
async function tocTitles(book: Package, parts: Map<string, Uint8Array>): Promise<TocTitles> {
  const nav = book.nav === undefined ? undefined : parts.get(book.nav);
  if (nav) {
    const titles = await navTitles(decodeText(nav), book.nav as string, resolveHref);
    if (titles.size > 0) return titles;
  }
  const ncx = book.ncx === undefined ? undefined : parts.get(book.ncx);
  return ncx ? ncxTitles(decodeText(ncx), book.ncx as string, resolveHref) : new Map();
}

/** A chapter's first heading (its text made Markdown by `pageText`). */
const firstHeading = (text: string) => /^#{1,6} (.+)$/m.exec(text)?.[1]?.trim();

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
  const book = await readPackage(decodeText(opf), opfPath);
  const { title, spine } = book;
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
  const toc = await zipParts(bytes, (name) => name === book.nav || name === book.ncx);
  const titles = await tocTitles(book, toc);
  const chapters: Array<{ text: string; title?: string }> = [];
  for (const path of spine) {
    const page = pages.get(path);
    if (!page) continue;
    const { text } = await pageText(decodeText(page), { title: false });
    if (text.trim() === '') continue;
    const named = titles.get(path) ?? firstHeading(text) ?? chapters[chapters.length - 1]?.title;
    chapters.push(named === undefined ? { text } : { text, title: named });
  }
  // The title heads the text, in the first chapter, unless the book's first page says it.
  const head = `# ${title}`;
  const first = chapters[0];
  if (title && !(first?.text === head || first?.text.startsWith(`${head}\n`))) {
    if (first) first.text = `${head}\n\n${first.text}`;
    else chapters.push({ text: head });
  }
  const sections: Section[] = [];
  let at = 0;
  for (const chapter of chapters) {
    sections.push(chapter.title === undefined ? { at } : { at, title: chapter.title });
    at += chapter.text.length + 2;
  }
  return { text: chapters.map((c) => c.text).join('\n\n'), sections };
}
