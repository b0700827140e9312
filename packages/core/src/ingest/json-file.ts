/**
 * A `.json` file's records, from one parse: a ChatGPT export's messages (recognised by its
 * shape and checked), else the elements of its array (a value that is no array is one
 * record). Ingest parses a file when it checks it, before anything is written, and reads
 * its records from that parse when the file's turn comes.
 */
import { type ChatGptMessage, chatGptMessages, isChatGptExport } from './chatgpt.js';
import { parseJsonFile } from './json.js';

export interface JsonRecords {
  /** The file's text, which its content hash is taken of. */
  text: string;
  records: { chatGpt: ChatGptMessage[] } | { items: unknown[] };
}

/** The records of the JSON `text` of the file at `path`; `INGEST_INVALID` or `INGEST_TOO_DEEP` when it is broken. */
export function jsonRecords(text: string, path: string): JsonRecords {
  const value = parseJsonFile(text, path);
  if (isChatGptExport(value)) return { text, records: { chatGpt: chatGptMessages(value, path) } };
  return { text, records: { items: Array.isArray(value) ? value : [value] } };
}
