/**
 * A second test collection, built from the Linux man-pages project as Debian packages it
 * (`manpages` and `manpages-dev`: system calls, library functions, file formats,
 * overviews). Each page's one-line NAME description, written by its authors for
 * `apropos`, is a query ("open and possibly create a file"); the page it describes is its
 * one relevant document, made of the page's title and its DESCRIPTION section (the NAME
 * line left out, so the query is never in the text verbatim). Descriptions shared by
 * several pages are left out as ambiguous. Known-item search with queries written by
 * people, in other words than the page: lexical and semantic evidence both count.
 */
import { execFileSync } from 'node:child_process';
import { lstatSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Collection } from './types.js';

/** The packages the pages come from. */
export const MANPAGE_PACKAGES = ['manpages', 'manpages-dev'] as const;
/** Characters of a page's description kept as its document (about 300 tokens). */
const DOC_CHARS = 1500;

const ESCAPES: Record<string, string> = {
  em: '-',
  en: '-',
  aq: "'",
  dq: '"',
  bu: '*',
  lq: '"',
  rq: '"',
  co: '(c)',
  rg: '(R)',
  mu: 'x',
  ti: '~',
  ha: '^',
  rs: '\\',
  bv: '|',
  or: '|',
};

/** Inline roff escapes to plain text. */
function plainText(text: string): string {
  return text
    .replace(/\\f(\[[^\]]*\]|\(..|.)/g, '')
    .replace(/\\s[-+]?\d/g, '')
    .replace(/\\\*(\(..|\[[^\]]*\]|.)/g, (_, name: string) => {
      const key = name.replace(/^\(|^\[|\]$/g, '');
      return ESCAPES[key] ?? '';
    })
    .replace(/\\\((..)/g, (_, name: string) => ESCAPES[name] ?? '')
    .replace(/\\\[([^\]]*)\]/g, (_, name: string) => ESCAPES[name] ?? '')
    .replace(/\\-/g, '-')
    .replace(/\\e/g, '\\')
    .replace(/\\[~ 0]/g, ' ')
    .replace(/\\[&%|^:c]/g, '')
    .replace(/\\"/g, '');
}

/** The words of a macro line's arguments (quoted ones kept whole). */
function macroArgs(rest: string): string[] {
  return [...rest.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '');
}

const FONT_MACROS = new Set(['B', 'I', 'SM', 'SB']);
const ALTERNATING = new Set(['BR', 'RB', 'IR', 'RI', 'BI', 'IB']);

/** A page as sections of plain text: `NAME`, `SYNOPSIS`, `DESCRIPTION`... */
export function parseManPage(source: string): Map<string, string> {
  const sections = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const raw of source.split('\n')) {
    if (raw.startsWith('.\\"') || raw.startsWith('\'\\"')) continue;
    const macro = /^[.'](\S+)\s*(.*)$/.exec(raw);
    if (macro) {
      const [, name, rest] = macro as unknown as [string, string, string];
      if (name === 'SH') {
        const title = plainText(macroArgs(rest).join(' ')).toUpperCase();
        current = [];
        sections.set(title, current);
      } else if (FONT_MACROS.has(name)) {
        current?.push(plainText(macroArgs(rest).join(' ')));
      } else if (ALTERNATING.has(name)) {
        current?.push(plainText(macroArgs(rest).join('')));
      } else if ((name === 'IP' || name === 'TP' || name === 'SS') && rest.trim() !== '') {
        const text = plainText(macroArgs(rest)[0] ?? '');
        if (text !== '*' && text !== '-') current?.push(text);
      }
      continue;
    }
    current?.push(plainText(raw));
  }
  const out = new Map<string, string>();
  for (const [title, lines] of sections) {
    out.set(title, lines.join(' ').replace(/\s+/g, ' ').trim());
  }
  return out;
}

/** Cut at a word boundary at most `max` characters long. */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const at = text.lastIndexOf(' ', max);
  return text.slice(0, at > max / 2 ? at : max);
}

/** The real pages of the packages (not links, not `.so` redirections), sorted. */
function pageFiles(): string[] {
  let listed: string;
  try {
    listed = execFileSync('dpkg', ['-L', ...MANPAGE_PACKAGES], { encoding: 'utf8' });
  } catch {
    return [];
  }
  return listed
    .split('\n')
    .filter((f) => /\/man\/man\d\/[^/]+\.gz$/.test(f))
    .filter((f) => !lstatSync(f, { throwIfNoEntry: false })?.isSymbolicLink())
    .sort();
}

/** The collection, or undefined when the packages are not installed. */
export function loadManPages(): Collection | undefined {
  const docs: Collection['docs'] = [];
  const descriptions = new Map<string, string[]>();
  for (const file of pageFiles()) {
    let source: string;
    try {
      source = gunzipSync(readFileSync(file)).toString('utf8');
    } catch {
      continue;
    }
    if (/^\.so /m.test(source.slice(0, 400))) continue;
    const sections = parseManPage(source);
    const name = sections.get('NAME') ?? '';
    const dash = name.indexOf(' - ');
    if (dash < 0) continue;
    const description = name.slice(dash + 3).trim();
    const body =
      sections.get('DESCRIPTION') ??
      [...sections]
        .filter(([t]) => t !== 'NAME')
        .map(([, text]) => text)
        .join(' ');
    if (description.split(' ').length < 2 || body.length < 40) continue;
    const id = basename(file, '.gz'); // e.g. open.2
    const [page, section] = [id.slice(0, id.lastIndexOf('.')), id.slice(id.lastIndexOf('.') + 1)];
    docs.push({ id, text: `${page}(${section}) ${cut(body, DOC_CHARS)}` });
    const key = description.toLowerCase();
    descriptions.set(key, [...(descriptions.get(key) ?? []), id]);
    (docs[docs.length - 1] as { description?: string }).description = description;
  }
  if (docs.length === 0) return undefined;
  const queries: Collection['queries'] = [];
  const qrels: Collection['qrels'] = new Map();
  for (const doc of docs as Array<{ id: string; description?: string }>) {
    const description = doc.description as string;
    if ((descriptions.get(description.toLowerCase()) ?? []).length !== 1) continue;
    queries.push({ id: doc.id, text: description });
    qrels.set(doc.id, new Map([[doc.id, 1]]));
  }
  return {
    name: 'manpages',
    docs: docs.map((d) => ({ id: d.id, text: d.text })),
    queries,
    qrels,
  };
}
