import { describe, expect, it } from 'vitest';
import {
  checkTraits,
  DEFAULT_TRAITS,
  feedbackSignals,
  generationSettings,
  LEARNING_BOUNDS,
  nudgeTraits,
  revertChange,
  systemPrompt,
  TRAITS,
  type Traits,
} from './personality.js';

const with_ = (patch: Partial<Traits>): Traits => ({ ...DEFAULT_TRAITS, ...patch });

describe('personality -> generation settings', () => {
  it('follows the documented formulas', () => {
    const s = generationSettings(DEFAULT_TRAITS, 500);
    // 0.2 + 0.7*0.7 - 0.2*0.7 + 0.1*0.25
    expect(s.temperature).toBeCloseTo(0.575, 4);
    expect(s.topP).toBeCloseTo(0.94, 4);
    expect(s.lengthFactor).toBeCloseTo(0.6 + 0.25 + 0.28, 4);
    expect(s.maxTokens).toBe(Math.round(500 * s.lengthFactor));
    expect(s.warmth).toBeCloseTo(0.7 * 0.75 + 0.3 * 0.5, 4);
    expect(s.tone).toBe('warm');
  });

  it('openness raises temperature, conscientiousness lowers it, within [0.1, 1]', () => {
    expect(generationSettings(with_({ openness: 0.9 }), 100).temperature).toBeGreaterThan(
      generationSettings(with_({ openness: 0.2 }), 100).temperature,
    );
    expect(generationSettings(with_({ conscientiousness: 0.9 }), 100).temperature).toBeLessThan(
      generationSettings(with_({ conscientiousness: 0.1 }), 100).temperature,
    );
    const extremes = [0, 1].flatMap((o) =>
      [0, 1].map((c) => with_({ openness: o, conscientiousness: c })),
    );
    for (const t of extremes) {
      const { temperature } = generationSettings(t, 100);
      expect(temperature).toBeGreaterThanOrEqual(0.1);
      expect(temperature).toBeLessThanOrEqual(1);
    }
  });

  it('extraversion makes replies longer and agreeableness warmer', () => {
    const quiet = generationSettings(with_({ extraversion: 0.1 }), 500);
    const talkative = generationSettings(with_({ extraversion: 0.9 }), 500);
    expect(talkative.maxTokens).toBeGreaterThan(quiet.maxTokens);
    expect(generationSettings(with_({ agreeableness: 0.05, extraversion: 0.1 }), 1).tone).toBe(
      'matter-of-fact',
    );
    expect(generationSettings(with_({ agreeableness: 0.5, extraversion: 0.5 }), 1).tone).toBe(
      'friendly',
    );
  });

  it('shapes the system prompt by trait bands', () => {
    const reserved = systemPrompt(with_({ extraversion: 0.1, agreeableness: 0.1 }));
    expect(reserved).toContain('Be brief and reserved');
    expect(reserved).toContain('Be neutral and matter-of-fact.');
    const lively = systemPrompt(with_({ extraversion: 0.9, openness: 0.9, neuroticism: 0.9 }));
    expect(lively).toContain('Be lively and expansive.');
    expect(lively).toContain('curious and imaginative');
    expect(lively).toContain('Flag uncertainty');
    expect(systemPrompt(DEFAULT_TRAITS, 'Nova')).toMatch(/^You are Nova/);
  });
});

describe('learning from feedback', () => {
  it('reads signals from the rating and the text', () => {
    expect(feedbackSignals({ rating: 1 })).toEqual({ neuroticism: -0.5 });
    expect(feedbackSignals({ rating: -1, text: 'Way too long and rambling' })).toMatchObject({
      extraversion: -1,
      conscientiousness: 0.5,
    });
    expect(feedbackSignals({ rating: -1, text: 'You made that up' })).toMatchObject({
      openness: -1,
      conscientiousness: 1,
    });
    expect(feedbackSignals({ rating: 0.5, text: 'nice but a bit cold' }).agreeableness).toBe(0.5);
  });

  it('nudges within bounds: no drift to extremes however much feedback', () => {
    let t: Traits = { ...DEFAULT_TRAITS };
    for (let i = 0; i < 2000; i++) {
      t = nudgeTraits(t, { extraversion: -1, openness: 1, agreeableness: 1, neuroticism: -1 });
    }
    expect(t.extraversion).toBeGreaterThanOrEqual(LEARNING_BOUNDS.min);
    expect(t.openness).toBeLessThanOrEqual(LEARNING_BOUNDS.max);
    expect(t.neuroticism).toBeGreaterThanOrEqual(LEARNING_BOUNDS.min);
    expect(t.extraversion).toBeLessThan(0.15);
    // a single step moves by a fraction of the distance to the bound
    const one = nudgeTraits(DEFAULT_TRAITS, { extraversion: -1 });
    expect(one.extraversion).toBeCloseTo(0.5 - 0.15 * (0.5 - 0.1), 4);
    // a trait set past a bound is not pushed further out
    expect(nudgeTraits(with_({ openness: 0.97 }), { openness: 1 }).openness).toBe(0.97);
  });

  it('reverts one change exactly when nothing happened since', () => {
    const before = { ...DEFAULT_TRAITS };
    const after = nudgeTraits(
      before,
      feedbackSignals({ rating: -1, text: 'too short, explain more' }),
    );
    expect(after).not.toEqual(before);
    expect(revertChange(after, before, after)).toEqual(before);
  });

  it('validates traits', () => {
    expect(checkTraits(DEFAULT_TRAITS)).toEqual(DEFAULT_TRAITS);
    expect(() => checkTraits({ ...DEFAULT_TRAITS, openness: 1.2 })).toThrow(/traits.openness/);
    expect(() => checkTraits({ ...DEFAULT_TRAITS, humour: 1 })).toThrow(/traits.humour/);
    expect(() => checkTraits(null)).toThrow(/traits: expected/);
    expect(TRAITS).toHaveLength(5);
  });
});
