import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testImplementations } from '@aios/utils/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempHomes } from './testing/cli.js';

// `aios feedback` and `aios feedback --undo` end to end: the built CLI in child processes,
// each suite with its own AIOS_HOME, offline.
const tempHome = tempHomes('aios-feedback-');

const run = (home: string, args: string[], env: Record<string, string> = {}) =>
  runCli(home, ['--offline', ...args], env);

const DEFAULT_TRAITS = {
  openness: 0.7,
  conscientiousness: 0.7,
  extraversion: 0.5,
  agreeableness: 0.75,
  neuroticism: 0.25,
};

describe.each(testImplementations())('aios feedback --undo (AIOS_NATIVE=%s)', (impl) => {
  const home = tempHome();
  const aios = (...args: string[]) => run(home, args, { AIOS_NATIVE: impl });
  const json = (...args: string[]) => {
    const r = aios(...args, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout);
  };

  beforeAll(() => {
    const notes = join(home, 'notes.md');
    writeFileSync(
      notes,
      [
        '# Garden',
        '',
        'The tomatoes are watered every Tuesday at dawn with rain water.',
        '',
        'The roses are pruned in March, when the frost is over.',
        '',
        'The tomatoes get compost once a month.',
        '',
      ].join('\n'),
    );
    expect(aios('ingest', notes).code).toBe(0);
  });

  it('takes back the latest feedback: traits and memory as before, answers as before', () => {
    const question = 'When are the tomatoes watered?';
    const before = json('ask', question);
    const a = json('feedback', before.id, '1', '--text', 'more detail');
    const during = json('ask', question);
    expect(during.sources[0].score).toBeGreaterThan(before.sources[0].score);
    const b = json('feedback', before.id, '-1', '--text', 'too long');
    expect(b.traits).not.toEqual(a.traits);

    // The latest first: b, then a.
    const undoB = json('feedback', '--undo');
    expect(undoB.feedback).toMatchObject({ id: b.feedback.id, rating: -1, undone: true });
    expect(undoB.traits).toEqual(a.traits);
    const text = aios('feedback', '--undo');
    expect(text.stderr).toBe('');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`feedback ${a.feedback.id} undone (rating +1 "more detail"`);
    expect(text.stdout).toContain(
      'traits now: openness 0.70, conscientiousness 0.70, extraversion 0.50, agreeableness 0.75, neuroticism 0.25',
    );

    const after = json('ask', question);
    expect(after.answer).toBe(before.answer);
    expect(after.sources.map((s: { id: string }) => s.id)).toEqual(
      before.sources.map((s: { id: string }) => s.id),
    );
    after.sources.forEach((s: { score: number }, i: number) => {
      expect(s.score).toBeCloseTo(before.sources[i].score, 9);
    });

    // Nothing left to undo; the ids are known and undone.
    const nothing = aios('feedback', '--undo');
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toBe(
      'aios: there is no feedback to undo (none given yet, or all of it undone) [LUNA_NOTHING_TO_UNDO]\n',
    );
    const again = aios('feedback', '--undo', a.feedback.id, '--json');
    expect(again.code).toBe(1);
    expect(again.stdout).toBe('');
    expect(again.stderr).toBe(
      `aios: feedback ${a.feedback.id} was already undone [LUNA_ALREADY_UNDONE]\n`,
    );
  });

  it('takes back a feedback given by id, leaving the later one in effect', () => {
    const answer = json('ask', 'When are the roses pruned?');
    const first = json('feedback', answer.id, '1', '--text', 'boring');
    const second = json('feedback', answer.id, '-1', '--text', 'too long');
    const undone = json('feedback', '--undo', first.feedback.id);
    expect(undone.feedback).toMatchObject({ id: first.feedback.id, undone: true });
    expect(undone.traits.openness).toBeCloseTo(DEFAULT_TRAITS.openness, 4);
    expect(undone.traits.extraversion).toBeCloseTo(second.traits.extraversion, 4);
    expect(json('feedback', '--undo').feedback.id).toBe(second.feedback.id);
  });

  it('an unknown id, or --undo mixed with a rating, is one clear line and exit 1', () => {
    const unknown = aios('feedback', '--undo', 'no-such-feedback');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('aios: no feedback with id no-such-feedback [LUNA_NOT_FOUND]\n');
    const mixed = aios('feedback', '--undo', 'some-answer', '1');
    expect(mixed.code).toBe(1);
    expect(mixed.stderr).toMatch(
      /^aios: --undo takes no answer id, rating or --text \[USAGE_ERROR\]\n/,
    );
    const missing = aios('feedback', 'some-answer');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^aios: missing required argument 'rating' \[USAGE_ERROR\]\n/);
    const none = aios('feedback');
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^aios: missing required argument 'answer-id' \[USAGE_ERROR\]\n/);
  });
});
