import { describe, expect, it } from 'vitest';
import { IMPORT_ACCEPT, IMPORT_KINDS, importKindsText } from './import-kinds';

describe('the kinds of files the import takes', () => {
  it('names every kind the file picker accepts, in one sentence', () => {
    const text = importKindsText();
    for (const kind of IMPORT_KINDS) expect(text).toContain(kind.name);
    expect(text).toMatch(/, EPUB, OpenDocument, JSON, JSONL, CSV or a ChatGPT export/);
    expect(IMPORT_ACCEPT.split(',')).toEqual(
      expect.arrayContaining([
        '.epub',
        '.odt',
        'application/vnd.oasis.opendocument.text',
        '.csv',
        '.org',
      ]),
    );
  });
});
