import { describe, expect, it } from 'vitest';
import { extractiveAnswer, OFFLINE_LABEL } from './offline.js';
import { sentenceEnds, sentences } from './sentences.js';

/** A note as people write them: Markdown, hard-wrapped at 80 columns. */
const NOTE = `# Backups

The Backup core takes snapshots of the AIOS data directory: the SQLite database, the
CARMA memory and the configuration. Files are cut into content-defined chunks with
FastCDC, and each chunk is named by its BLAKE3 hash and stored only once, so backups are
deduplicated: a second snapshot of unchanged data adds almost nothing.

## Commands

- \`aios backup create\` takes a snapshot; the first one
  initialises the repository.
- \`aios backup verify\` re-reads the packs
* [x] checked on the laptop

1. Stop the server.
2. Restore the snapshot.

\`\`\`sh
aios backup restore latest. This is code, not prose.
\`\`\`

> Chunks are compressed with zstd (level 3.5 is not a level, e.g. 3 is) and
> packed into pack files.

Restore, Verify
===============

| operation | time |
|-----------|------|
| verify    | 2 s  |
`;

describe('sentences', () => {
  it('joins the hard-wrapped lines of a paragraph into whole sentences', () => {
    expect(sentences(NOTE).slice(0, 3)).toEqual([
      'The Backup core takes snapshots of the AIOS data directory: the SQLite database, the CARMA memory and the configuration.',
      'Files are cut into content-defined chunks with FastCDC, and each chunk is named by its BLAKE3 hash and stored only once, so backups are deduplicated: a second snapshot of unchanged data adds almost nothing.',
      '`aios backup create` takes a snapshot; the first one initialises the repository.',
    ]);
  });

  it('leaves out headings and code; list items and table rows are units of their own', () => {
    const all = sentences(NOTE);
    for (const heading of ['# Backups', 'Backups', 'Commands', 'Restore, Verify']) {
      expect(all).not.toContain(heading);
    }
    expect(all.join(' ')).not.toContain('This is code');
    expect(all.join(' ')).not.toContain('===');
    expect(all).toEqual([
      expect.any(String),
      expect.any(String),
      '`aios backup create` takes a snapshot; the first one initialises the repository.',
      '`aios backup verify` re-reads the packs',
      'checked on the laptop',
      'Stop the server.',
      'Restore the snapshot.',
      'Chunks are compressed with zstd (level 3.5 is not a level, e.g. 3 is) and packed into pack files.',
      'operation | time',
      'verify | 2 s',
    ]);
  });

  it('does not cut at abbreviations, initials, decimals or a lower-case continuation', () => {
    const text = `Dr. Ada Lovelace met C. Babbage in 1833, i.e. early. Prices rose 3.5 % vs. last
year, e.g. bread. See Fig. 2 and No. 7 in the U.S. archive. Wait... it worked! "Why?" she
asked. The end`;
    expect(sentences(text)).toEqual([
      'Dr. Ada Lovelace met C. Babbage in 1833, i.e. early.',
      'Prices rose 3.5 % vs. last year, e.g. bread.',
      'See Fig. 2 and No. 7 in the U.S. archive.',
      'Wait... it worked!',
      '"Why?" she asked.',
      'The end',
    ]);
  });

  it('keeps a wrapped line that starts with a number inside its sentence', () => {
    expect(sentences('The company was founded in\n2019. It grew fast.\n')).toEqual([
      'The company was founded in 2019.',
      'It grew fast.',
    ]);
  });

  it('cuts after CJK sentence marks and keeps question/answer lines apart', () => {
    expect(sentences('Q: When does the heron fish?\nA: At dawn.')).toEqual([
      'Q: When does the heron fish?',
      'A: At dawn.',
    ]);
    expect(sentences('今日は晴れです。明日は雨！')).toEqual(['今日は晴れです。', '明日は雨！']);
  });

  it('gives offsets of sentence ends in the raw text', () => {
    const text = 'One e.g. two.  Three.\nFour';
    expect(sentenceEnds(text).map((end) => text.slice(0, end))).toEqual([
      'One e.g. two.',
      'One e.g. two.  Three.',
    ]);
  });
});

describe('the offline answer on Markdown notes', () => {
  it('quotes whole sentences, never a heading or half a line', () => {
    const answer = extractiveAnswer('How are backups deduplicated?', [
      { id: 'backup', text: NOTE, score: 1 },
    ]);
    expect(answer.text.startsWith(OFFLINE_LABEL)).toBe(true);
    expect(answer.sentences[0]?.text).toBe(
      'Files are cut into content-defined chunks with FastCDC, and each chunk is named by its BLAKE3 hash and stored only once, so backups are deduplicated: a second snapshot of unchanged data adds almost nothing.',
    );
    expect(answer.text).not.toContain('#');
    for (const s of answer.sentences) {
      expect(s.text).toMatch(/^[A-Z`]/);
      expect(NOTE.replace(/\s+/g, ' ')).toContain(s.text);
    }
  });
});

describe('what the offline answer leaves out', () => {
  it('quotes statements, never a remembered question', () => {
    const answer = extractiveAnswer('When does the heron fish?', [
      { id: 'exchange', text: 'Q: When does the heron fish?\nA: At dawn.', score: 1 },
      { id: 'note', text: 'The grey heron fishes at the pond at dawn.', score: 0.8 },
    ]);
    expect(answer.sentences.map((s) => s.text)).toEqual([
      'The grey heron fishes at the pond at dawn.',
    ]);
    expect(answer.sources.map((s) => s.id)).toEqual(['note']);
  });

  it('drops sentences that share only a minor part of what the best one matches', () => {
    const answer = extractiveAnswer('How are backups deduplicated and compressed?', [
      {
        id: 'dedup',
        text: 'Backups are deduplicated by chunk hashes and compressed with zstd.',
        score: 1,
      },
      { id: 'health', text: 'The health report says whether backups are recent.', score: 0.5 },
    ]);
    expect(answer.sentences.map((s) => s.fragmentId)).toEqual(['dedup']);
  });
});

describe('the sentences quoted first', () => {
  it('are those about what the question names, before those that name it in passing', () => {
    const answer = extractiveAnswer('What does CARMA do?', [
      {
        id: 'carma',
        text: '# CARMA\n\nThe built-in embedder needs no model. CARMA stores fragments of what a person wrote, and finds the right ones for a question. Writing a text twice stores it once: CARMA names each fragment by its hash.',
        score: 1,
      },
      {
        id: 'backup',
        text: '# Backups\n\nThe Backup core takes snapshots of the SQLite database, the CARMA memory and the configuration.',
        score: 0.9,
      },
    ]);
    expect(answer.sentences.map((s) => s.text)).toEqual([
      'CARMA stores fragments of what a person wrote, and finds the right ones for a question.',
      'Writing a text twice stores it once: CARMA names each fragment by its hash.',
      'The Backup core takes snapshots of the SQLite database, the CARMA memory and the configuration.',
    ]);
  });
});

describe('an answer told in two sentences', () => {
  const story = {
    id: 'story',
    text: '# The Rescue\n\nIn the winter of 1912 the schooner Grace ran aground on the reef. Martha rowed out at dawn.\n\nAll nine sailors survived.',
    score: 1,
  };

  it('quotes the two sentences in a row that hold it together, once', () => {
    const answer = extractiveAnswer('Who rowed out to the Grace?', [story]);
    expect(answer.grounded).toBe(true);
    expect(answer.sentences.map((s) => s.text)).toEqual([
      'In the winter of 1912 the schooner Grace ran aground on the reef. Martha rowed out at dawn.',
    ]);
    expect(answer.sources.map((s) => s.id)).toEqual(['story']);
  });

  it('quotes one sentence when it holds the answer alone', () => {
    const answer = extractiveAnswer('How many sailors survived?', [story]);
    expect(answer.sentences.map((s) => s.text)).toEqual(['All nine sailors survived.']);
  });

  it('never answers a grounded question with nothing to quote', () => {
    // The words asked are spread over three sentences: none, nor two in a row, holds half.
    const answer = extractiveAnswer('Which keeper logged gales, fog and ice at Skerry?', [
      {
        id: 'log',
        text: '# Skerry keeper\n\nGales came in March. Fog stayed for weeks. Ice closed the harbour. The log holds it all.',
        score: 1,
      },
    ]);
    if (answer.grounded) expect(answer.sentences.length).toBeGreaterThan(0);
    expect(answer.text).not.toMatch(/from memory: *$/);
  });
});
