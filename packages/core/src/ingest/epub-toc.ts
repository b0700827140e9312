/**
 * The titles an EPUB book's table of contents gives its chapters: the navigation document
 * of EPUB 3 (its `toc` nav, else its first) or the NCX of EPUB 2. Each chapter file is
 * named by the first entry that links to it: a part's entry before its sections'.
 */
import { posix } from 'node:path';
import { walkXml } from './zip.js';

/** Titles by chapter path (in the archive); `resolve` makes an href a path. */
export type TocTitles = Map<string, string>;

const tidy = (text: string) => text.replace(/\s+/g, ' ').trim();

function add(titles: TocTitles, path: string, title: string): void {
  const text = tidy(title);
  if (text !== '' && !titles.has(path)) titles.set(path, text);
}

/** The titles of an EPUB 3 navigation document at `at`. */
export async function navTitles(
  xhtml: string,
  at: string,
  resolve: (dir: string, href: string) => string,
): Promise<TocTitles> {
  const navs: Array<{ toc: boolean; titles: TocTitles }> = [];
  let nav: { toc: boolean; titles: TocTitles; depth: number } | undefined;
  let depth = 0;
  let link: { path: string; text: string } | undefined;
  await walkXml(xhtml, {
    open(name, attributes) {
      depth++;
      if (name === 'nav' && !nav) {
        const toc = /(?:^|\s)toc(?:\s|$)/.test(attributes.type ?? '');
        nav = { toc, titles: new Map(), depth };
      } else if (name === 'a' && nav && attributes.href) {
        link = { path: resolve(posix.dirname(at), attributes.href), text: '' };
      }
    },
    close(name) {
      if (name === 'a' && nav && link) {
        add(nav.titles, link.path, link.text);
        link = undefined;
      } else if (name === 'nav' && nav && depth === nav.depth) {
        navs.push(nav);
        nav = undefined;
      }
      depth--;
    },
    text(data) {
      if (link) link.text += data;
    },
  });
  return (navs.find((n) => n.toc) ?? navs[0])?.titles ?? new Map();
}

/** The titles of an EPUB 2 NCX at `at`: each navPoint's label, for the file it points to. */
export async function ncxTitles(
  ncx: string,
  at: string,
  resolve: (dir: string, href: string) => string,
): Promise<TocTitles> {
  const titles: TocTitles = new Map();
  /** The labels of the navPoints open, innermost last. */
  const labels: string[] = [];
  let inLabel = false;
  await walkXml(ncx, {
    open(name, attributes) {
      if (name === 'navPoint') labels.push('');
      else if (name === 'navLabel') inLabel = true;
      else if (name === 'content' && labels.length > 0 && attributes.src) {
        // A navPoint's label comes before its content: the label is known here.
        add(titles, resolve(posix.dirname(at), attributes.src), labels[labels.length - 1] ?? '');
      }
    },
    close(name) {
      if (name === 'navPoint') labels.pop();
      else if (name === 'navLabel') inLabel = false;
    },
    text(data) {
      if (inLabel && labels.length > 0) labels[labels.length - 1] += data;
    },
  });
  return titles;
}
