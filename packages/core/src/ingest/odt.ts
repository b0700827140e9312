/**
 * The text of an OpenDocument text (.odt: LibreOffice, Google Docs, Word can write one), for
 * ingest.
 *
 * An .odt is a ZIP archive whose `content.xml` holds the body. Headings become Markdown
 * headings by their outline level (so a fragment starts at each, and Luna reads one as
 * the subject of what follows), paragraphs paragraphs, list items lines with a dash,
 * table rows lines with their cells joined by ` | `. Footnotes follow the body. Left out:
 * comments, the text of tracked deletions, and generated tables of contents and indexes
 * (they repeat the headings). A password-protected document is refused.
 */

import { decodeText } from './encoding.js';
import { TextBuilder } from './text-builder.js';
import { type Converted, walkXml, zipParts } from './zip.js';

const TEXT_TYPES = new Set([
  'application/vnd.oasis.opendocument.text',
  'application/vnd.oasis.opendocument.text-template',
]);

/** Elements (local names) whose content is not read. */
const SKIPPED = new Set([
  'annotation',
  'tracked-changes',
  'table-of-content',
  'alphabetical-index',
  'illustration-index',
  'table-index',
  'object-index',
  'user-index',
  'bibliography',
  'note-citation',
  'desc',
  'title',
]);

/** The readable text of `content.xml`. */
async function bodyText(content: string): Promise<string> {
  const body = new TextBuilder();
  const notes = new TextBuilder();
  let out = body;
  let inBody = false;
  let skipping = 0;
  let listItems = 0;
  let cells = 0;
  let cellCount = 0;
  /** Around a paragraph: a space in a table cell, a line in a list item, else a blank line. */
  const paragraphBreak = () => (cells > 0 ? ' ' : listItems > 0 ? '\n' : '\n\n');
  await walkXml(content, {
    open(name, attributes) {
      if (name === 'body') inBody = true;
      if (!inBody) return;
      if (skipping > 0 || SKIPPED.has(name)) {
        skipping++;
        return;
      }
      switch (name) {
        case 'h': {
          const level = Math.min(6, Math.max(1, Number(attributes['outline-level']) || 1));
          out.ask('\n\n');
          out.lead = `${'#'.repeat(level)} `;
          break;
        }
        case 'p':
          out.ask(paragraphBreak());
          break;
        case 'list-item':
          listItems++;
          out.ask('\n');
          out.lead = '- ';
          break;
        case 'table-row':
          out.ask('\n');
          cellCount = 0;
          break;
        case 'table-cell':
          cells++;
          if (cellCount++ > 0) out.ask(' | ');
          break;
        case 'note-body':
          out = notes;
          out.ask('\n\n');
          break;
        case 's':
        case 'tab':
          out.ask(' ');
          break;
        case 'line-break':
          out.ask('\n');
          break;
        case 'list':
          out.ask(listItems > 0 ? '\n' : '\n\n');
          break;
        case 'table':
        case 'section':
          out.ask('\n\n');
          break;
      }
    },
    close(name) {
      if (!inBody) return;
      if (name === 'body') inBody = false;
      if (skipping > 0) {
        skipping--;
        return;
      }
      switch (name) {
        case 'list':
          out.ask(listItems > 0 ? '\n' : '\n\n');
          break;
        case 'h':
        case 'table':
        case 'section':
          out.ask('\n\n');
          out.lead = '';
          break;
        case 'p':
          out.ask(paragraphBreak());
          break;
        case 'list-item':
          listItems = Math.max(0, listItems - 1);
          out.ask('\n');
          out.lead = '';
          break;
        case 'table-cell':
          cells = Math.max(0, cells - 1);
          break;
        case 'table-row':
          out.ask('\n');
          break;
        case 'note-body':
          out = body;
          break;
      }
    },
    text(data) {
      if (inBody && skipping === 0) out.flow(data);
    },
  });
  const notesText = notes.text();
  return notesText ? `${body.text()}\n\n${notesText}` : body.text();
}

/** The text of the OpenDocument text in `bytes`, or why it cannot be read. */
export async function odtToText(bytes: Uint8Array): Promise<Converted> {
  const parts = await zipParts(
    bytes,
    (name) => name === 'mimetype' || name === 'content.xml' || name === 'META-INF/manifest.xml',
  );
  const mimetype = parts.get('mimetype');
  const type = mimetype ? decodeText(mimetype).trim() : undefined;
  if (type !== undefined && !TEXT_TYPES.has(type)) {
    return { problem: `not an OpenDocument text (the archive says it is ${type || 'nothing'})` };
  }
  const manifest = parts.get('META-INF/manifest.xml');
  if (manifest && /<(\w+:)?encryption-data\b/.test(decodeText(manifest))) {
    return { problem: 'a password-protected OpenDocument text: ingest cannot read it' };
  }
  const content = parts.get('content.xml');
  if (!content) return { problem: 'not an OpenDocument text (it has no content.xml)' };
  return { text: await bodyText(decodeText(content)) };
}
