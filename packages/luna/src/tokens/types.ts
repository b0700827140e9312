import { invalidInput } from '@aios/utils';

/** The BPE encodings Luna counts with (OpenAI's tiktoken vocabularies). */
export const ENCODINGS = ['o200k_base', 'cl100k_base'] as const;
export type EncodingName = (typeof ENCODINGS)[number];

/** Ordinary (non-special) tokens per encoding: valid ids are `0 .. size - 1`. */
export const VOCABULARY_SIZE: Record<EncodingName, number> = {
  o200k_base: 199_998,
  cl100k_base: 100_256,
};

/** Token ids of many texts, flattened: text `i` has `ids[offsets[i] .. offsets[i + 1]]`. */
export interface EncodedBatch {
  ids: Uint32Array;
  offsets: Uint32Array;
}

/** What each implementation provides; the facade adds validation and error mapping. */
export interface TokenizerBackend {
  encode(text: string): Uint32Array;
  encodeAsync(text: string): Promise<Uint32Array>;
  count(text: string): number;
  countBatch(texts: string[]): Uint32Array;
  countBatchAsync(texts: string[]): Promise<Uint32Array>;
  encodeBatch(texts: string[]): EncodedBatch;
  /** Ids are already validated. */
  decode(ids: Uint32Array): string;
}

export function checkEncoding(value: unknown): EncodingName {
  if (typeof value === 'string' && (ENCODINGS as readonly string[]).includes(value)) {
    return value as EncodingName;
  }
  throw invalidInput('encoding', value, `one of ${ENCODINGS.join(', ')}`);
}

export function checkText(value: unknown, field = 'text'): string {
  if (typeof value !== 'string') throw invalidInput(field, value, 'a string');
  return value;
}

export function checkTexts(value: unknown, field = 'texts'): string[] {
  if (!Array.isArray(value)) throw invalidInput(field, value, 'an array of strings');
  for (let i = 0; i < value.length; i++) checkText(value[i], `${field}[${i}]`);
  return value as string[];
}

export function checkIds(value: unknown, encoding: EncodingName, field = 'ids'): Uint32Array {
  let ids: Uint32Array;
  if (value instanceof Uint32Array) ids = value;
  else if (Array.isArray(value) && value.every((v) => Number.isInteger(v) && v >= 0)) {
    ids = Uint32Array.from(value as number[]);
  } else {
    throw invalidInput(field, value, 'a Uint32Array or an array of non-negative integers');
  }
  const size = VOCABULARY_SIZE[encoding];
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as number;
    if (id >= size) throw invalidInput(`${field}[${i}]`, id, `a token id below ${size}`);
  }
  return ids;
}
