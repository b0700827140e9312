/**
 * How the bytes of a file become text. Ingest reads UTF-8 (a byte order mark dropped),
 * UTF-16 that starts with its byte order mark (what Windows tools such as PowerShell's `>`
 * write), the legacy encodings of Chinese, Japanese and Korean files (GB18030 and its GBK
 * and GB2312, Big5, Shift_JIS, EUC-JP, EUC-KR) when chardet is sure of one, and other 8-bit
 * text that is not UTF-8 as Windows-1252 (the Latin-1 letters, curly quotes and euro sign
 * of older Western files): read as UTF-8, each of those characters would become U+FFFD.
 * Anything else is binary.
 */
import { isUtf8 } from 'node:buffer';
import { analyse } from 'chardet';

/** The legacy CJK encodings, by chardet's names. */
const CJK_ENCODINGS = {
  GB18030: 'gb18030',
  Big5: 'big5',
  Shift_JIS: 'shift_jis',
  'EUC-JP': 'euc-jp',
  'EUC-KR': 'euc-kr',
} as const;
type CjkEncoding = (typeof CJK_ENCODINGS)[keyof typeof CJK_ENCODINGS];

export type TextEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252' | CjkEncoding;

/**
 * How sure chardet must be of a CJK encoding (0-100). Its double-byte models score such
 * files 100 and Western 8-bit text 10 at most, short words (Größe) included.
 */
const CJK_CONFIDENCE = 50;
/** The bytes chardet looks at: enough to be sure, without a pass over a large file. */
const DETECT_BYTES = 64 * 1024;

/** Bytes taken as text in 8-bit files: none of the C0 controls but these. */
const TEXT_CONTROLS = [0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1b];
/** Bytes Windows-1252 leaves undefined. */
const UNDEFINED_1252 = [0x81, 0x8d, 0x8f, 0x90, 0x9d];

/** 1 for each byte that does not occur in 8-bit text. */
const NOT_TEXT = (() => {
  const table = new Uint8Array(256);
  for (let b = 0; b < 0x20; b++) table[b] = TEXT_CONTROLS.includes(b) ? 0 : 1;
  for (const b of UNDEFINED_1252) table[b] = 1;
  return table;
})();

/** The encoding a byte order mark at the start of `bytes` names, and the mark's length. */
function byteOrderMark(bytes: Uint8Array): { encoding: TextEncoding; length: number } | undefined {
  const [a, b, c] = bytes;
  if (a === 0xef && b === 0xbb && c === 0xbf) return { encoding: 'utf-8', length: 3 };
  if (a === 0xff && b === 0xfe) return { encoding: 'utf-16le', length: 2 };
  if (a === 0xfe && b === 0xff) return { encoding: 'utf-16be', length: 2 };
  return undefined;
}

/**
 * Whether `bytes` are mostly UTF-8: they hold more well-formed multi-byte UTF-8 sequences
 * than bytes that start none (a stray Latin-1 byte in a UTF-8 file, a cut character). Such
 * a file is read as UTF-8, each bad byte as U+FFFD, as editors read it: decoded as
 * Windows-1252, every accent and quote of its UTF-8 would turn to mojibake (cafÃ©).
 */
function mostlyUtf8(bytes: Uint8Array): boolean {
  let valid = 0;
  let invalid = 0;
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    const length =
      b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    let ok = length > 0 && i + length <= bytes.length;
    for (let j = 1; ok && j < length; j++) ok = ((bytes[i + j] as number) & 0xc0) === 0x80;
    if (ok) {
      valid++;
      i += length;
    } else {
      invalid++;
      i++;
    }
  }
  return valid > invalid;
}

/** Whether `sample` is UTF-8 but for a character cut by its end. */
function startsUtf8(sample: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(sample, { stream: true });
    return true;
  } catch {
    return false;
  }
}

function isEightBitText(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (NOT_TEXT[bytes[i] as number]) return false;
  return true;
}

/** Whether `bytes` hold a C0 control byte that text does not (a NUL, say). */
function hasControlBytes(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (b < 0x20 && NOT_TEXT[b]) return true;
  }
  return false;
}

/**
 * The CJK encoding of `bytes` (not UTF-8), if chardet is sure of one and they decode in it
 * without an error; `partial` when the bytes may end in the middle of a character.
 */
function cjkEncoding(bytes: Uint8Array, partial = false): CjkEncoding | undefined {
  if (hasControlBytes(bytes)) return undefined;
  const [best] = analyse(bytes.subarray(0, DETECT_BYTES));
  if (!best || best.confidence < CJK_CONFIDENCE || !Object.hasOwn(CJK_ENCODINGS, best.name)) {
    return undefined;
  }
  const encoding = CJK_ENCODINGS[best.name as keyof typeof CJK_ENCODINGS];
  try {
    new TextDecoder(encoding, { fatal: true }).decode(bytes, { stream: partial });
    return encoding;
  } catch {
    return undefined;
  }
}

/** Whether decoded text holds a control character that text does not (a NUL, say). */
function hasBinaryControls(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 && NOT_TEXT[code]) return true;
  }
  return false;
}

/**
 * Why `sample` (the start of a file) is not text, or undefined: `a NUL byte`, say. A
 * character cut by the end of the sample is not held against it.
 */
export function notTextReason(sample: Uint8Array): string | undefined {
  const bom = byteOrderMark(sample);
  if (bom && bom.encoding !== 'utf-8') {
    const whole = sample.subarray(0, sample.length - (sample.length % 2));
    return hasBinaryControls(new TextDecoder(bom.encoding).decode(whole))
      ? `control characters in ${bom.encoding === 'utf-16le' ? 'UTF-16LE' : 'UTF-16BE'}`
      : undefined;
  }
  if (sample.includes(0)) return 'a NUL byte';
  if (startsUtf8(sample) || isEightBitText(sample)) return undefined;
  if (!hasControlBytes(sample) && (mostlyUtf8(sample) || cjkEncoding(sample, true))) {
    return undefined;
  }
  return 'neither UTF-8 nor 8-bit text';
}

/** The encoding of a whole file that `notTextReason` took for text. */
export function encodingOf(bytes: Uint8Array): TextEncoding {
  const bom = byteOrderMark(bytes);
  if (bom) return bom.encoding;
  if (isUtf8(bytes) || mostlyUtf8(bytes)) return 'utf-8';
  const cjk = cjkEncoding(bytes);
  if (cjk) return cjk;
  return isEightBitText(bytes) ? 'windows-1252' : 'utf-8';
}

/**
 * The text of a file's bytes, in `encodingOf` them, without a byte order mark. Bytes that
 * are mostly UTF-8, or neither UTF-8 nor 8-bit text (binary past the part a sniff looked
 * at), are read as UTF-8, each invalid sequence as U+FFFD.
 */
export function decodeText(bytes: Uint8Array): string {
  const encoding = encodingOf(bytes);
  if (encoding === 'windows-1252') return decodeWindows1252(bytes);
  // The decoder drops the byte order mark of UTF-8 and UTF-16 itself.
  return new TextDecoder(encoding).decode(bytes);
}

/** The characters of Windows-1252's bytes 0x80-0x9f (undefined ones as their C1 control). */
const HIGH_1252 = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152,
  0x8d, 0x17d, 0x8f, 0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122,
  0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
];

/**
 * Windows-1252 by its table: Node 20's TextDecoder decodes the label as ISO-8859-1, which
 * turns 0x80-0x9f (the euro sign, curly quotes, dashes) into C1 controls.
 */
function decodeWindows1252(bytes: Uint8Array): string {
  const units = new Uint16Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    units[i] = b >= 0x80 && b < 0xa0 ? (HIGH_1252[b - 0x80] as number) : b;
  }
  return Buffer.from(units.buffer, units.byteOffset, units.byteLength).toString('utf16le');
}
