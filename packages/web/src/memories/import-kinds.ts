/**
 * What `aios ingest` reads, kind by kind: the drop zone names the kinds and the file picker
 * takes their extensions and media types, both from this list.
 */
export const IMPORT_KINDS: ReadonlyArray<{ name: string; accept: readonly string[] }> = [
  { name: 'text', accept: ['.txt', '.text', '.org', '.rst', '.adoc', '.asciidoc', 'text/plain'] },
  { name: 'Markdown', accept: ['.md', '.markdown', 'text/markdown'] },
  { name: 'HTML', accept: ['.html', '.htm', '.xhtml', 'text/html'] },
  { name: 'PDF', accept: ['.pdf', 'application/pdf'] },
  {
    name: 'Word',
    accept: ['.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
  },
  { name: 'EPUB', accept: ['.epub', 'application/epub+zip'] },
  { name: 'OpenDocument', accept: ['.odt', 'application/vnd.oasis.opendocument.text'] },
  { name: 'JSON', accept: ['.json', 'application/json'] },
  { name: 'JSONL', accept: ['.jsonl', '.ndjson'] },
  { name: 'CSV', accept: ['.csv', '.tsv', 'text/csv', 'text/tab-separated-values'] },
  // A JSON file the server recognises by its content.
  { name: 'a ChatGPT export (conversations.json)', accept: [] },
];

/** The file picker's `accept`. */
export const IMPORT_ACCEPT = IMPORT_KINDS.flatMap((kind) => kind.accept).join(',');

/** The kinds in a sentence: "a, b or c". */
export function importKindsText(): string {
  const names = IMPORT_KINDS.map((kind) => kind.name);
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}` : names.join('');
}
