/**
 * A `.json`, `.jsonl` or `.csv` file's records, from one parse. A JSON file's are a ChatGPT
 * export's messages (recognised by its shape and checked), else the elements of its array
 * (a value that is no array is one record); a JSONL file's are its lines, a CSV file's its
 * rows, each with where it is. Ingest parses a file when it checks it, before anything is
 * written, and reads its records from that parse when the file's turn comes.
 */
import { type ChatGptMessage, chatGptMessages, isChatGptExport } from './chatgpt.js';
import { type CsvRow, csvRows } from './csv.js';
import { type JsonLine, jsonLines, parseJsonFile } from './json.js';

export type ParsedRecords =
  | {
      kind: 'json';
      /** The file's text, which its content hash is taken of. */
      text: string;
      records: { chatGpt: ChatGptMessage[] } | { items: unknown[] };
    }
  | { kind: 'jsonl'; text: string; lines: JsonLine[] }
  | { kind: 'csv'; text: string; rows: CsvRow[] };

/** The records of the JSON `text` of the file at `path`; `INGEST_INVALID` or `INGEST_TOO_DEEP` when it is broken. */
export function jsonRecords(text: string, path: string): ParsedRecords & { kind: 'json' } {
  const value = parseJsonFile(text, path);
  const records = isChatGptExport(value)
    ? { chatGpt: chatGptMessages(value, path) }
    : { items: Array.isArray(value) ? value : [value] };
  return { kind: 'json', text, records };
}

/**
 * The lines of the JSONL `text` of the file at `path`, or undefined as soon as `refuse`
 * says no to its first record (the rest is then left unparsed); `INGEST_INVALID` or
 * `INGEST_TOO_DEEP` naming the line when one is broken.
 */
export function jsonlRecords(
  text: string,
  path: string,
  refuse: (first: unknown) => boolean,
): (ParsedRecords & { kind: 'jsonl' }) | undefined {
  const lines: JsonLine[] = [];
  for (const line of jsonLines(text, path)) {
    if (lines.length === 0 && refuse(line.value)) return undefined;
    lines.push(line);
  }
  return { kind: 'jsonl', text, lines };
}

/** The rows of the CSV `text` of the file at `path`; `INGEST_INVALID` when it is broken. */
export function csvRecords(text: string, path: string): ParsedRecords & { kind: 'csv' } {
  return { kind: 'csv', text, rows: csvRows(text, path) };
}
