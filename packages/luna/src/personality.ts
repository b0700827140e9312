import { invalidInput } from '@aios/utils';

/** The Big Five, each in [0, 1]. */
export const TRAITS = [
  'openness',
  'conscientiousness',
  'extraversion',
  'agreeableness',
  'neuroticism',
] as const;
export type Trait = (typeof TRAITS)[number];
export type Traits = Record<Trait, number>;

/** Luna's starting personality: curious, careful, moderately talkative, kind and calm. */
export const DEFAULT_TRAITS: Readonly<Traits> = Object.freeze({
  openness: 0.7,
  conscientiousness: 0.7,
  extraversion: 0.5,
  agreeableness: 0.75,
  neuroticism: 0.25,
});

/**
 * Feedback moves traits only inside these bounds, approaching them ever more slowly, so
 * no amount of feedback drives a trait to an extreme. (A person may still set any value
 * in [0, 1] explicitly; feedback then never pushes it further out.)
 */
export const LEARNING_BOUNDS = { min: 0.1, max: 0.9 } as const;
/** Fraction of the distance to the bound that a full-strength signal moves a trait. */
export const LEARNING_RATE = 0.15;

const round = (x: number) => Math.round(x * 10_000) / 10_000;
const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/** Checks a full set of traits, each a number in [0, 1]. */
export function checkTraits(value: unknown, field = 'traits'): Traits {
  if (typeof value !== 'object' || value === null) {
    throw invalidInput(field, value, 'an object with the five Big Five traits in [0, 1]');
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!(TRAITS as readonly string[]).includes(key)) {
      throw invalidInput(`${field}.${key}`, record[key], `one of the traits ${TRAITS.join(', ')}`);
    }
  }
  const out = {} as Traits;
  for (const trait of TRAITS) {
    const v = record[trait];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) {
      throw invalidInput(`${field}.${trait}`, v, 'a number in [0, 1]');
    }
    out[trait] = v;
  }
  return out;
}

/** What a question needs from the reply. */
export type AnswerKind = 'short-fact' | 'explanation' | 'long-form';

/**
 * Generation settings derived from the traits (documented in the README):
 *
 * - `temperature = clamp(0.2 + 0.7·O − 0.2·C + 0.1·N, 0.1, 1.0)`: openness makes Luna
 *   more inventive, conscientiousness more deterministic.
 * - `topP = 0.8 + 0.2·O`.
 * - `lengthFactor = 0.6 + 0.5·E + 0.4·C` (0.6 to 1.5): talkative and thorough means longer;
 *   the reply budget of the question's kind is multiplied by it (`maxTokens`).
 * - `warmth = 0.7·A + 0.3·E`, which picks the tone of the system prompt.
 */
export interface GenerationSettings {
  temperature: number;
  topP: number;
  lengthFactor: number;
  /** Reply budget in tokens: the kind's budget times `lengthFactor`. */
  maxTokens: number;
  warmth: number;
  tone: 'matter-of-fact' | 'friendly' | 'warm';
}

export function generationSettings(traits: Traits, replyBudget: number): GenerationSettings {
  const { openness: o, conscientiousness: c, extraversion: e, agreeableness: a } = traits;
  const n = traits.neuroticism;
  const lengthFactor = round(0.6 + 0.5 * e + 0.4 * c);
  const warmth = round(0.7 * a + 0.3 * e);
  return {
    temperature: round(clamp(0.2 + 0.7 * o - 0.2 * c + 0.1 * n, 0.1, 1.0)),
    topP: round(0.8 + 0.2 * o),
    lengthFactor,
    maxTokens: Math.max(16, Math.round(replyBudget * lengthFactor)),
    warmth,
    tone: warmth < 0.35 ? 'matter-of-fact' : warmth <= 0.65 ? 'friendly' : 'warm',
  };
}

type Band = 'low' | 'mid' | 'high';
const band = (x: number): Band => (x < 0.35 ? 'low' : x > 0.65 ? 'high' : 'mid');

const STYLE: Record<Exclude<Trait, 'agreeableness'>, Record<Band, string>> = {
  openness: {
    low: 'Stay conventional and literal; do not speculate.',
    mid: 'Balance established facts with fresh ideas.',
    high: 'Be curious and imaginative; offer connections and alternatives when they help.',
  },
  conscientiousness: {
    low: 'Keep it informal; do not over-structure.',
    mid: 'Be clear and reasonably organised.',
    high: 'Be precise, organised and thorough; structure longer answers.',
  },
  extraversion: {
    low: 'Be brief and reserved; say only what is needed.',
    mid: 'Be conversational but to the point.',
    high: 'Be lively and expansive.',
  },
  neuroticism: {
    low: 'Answer calmly and confidently; hedge only where sources disagree.',
    mid: 'Mention uncertainty where it matters.',
    high: 'Flag uncertainty and risks explicitly.',
  },
};

const TONE: Record<GenerationSettings['tone'], string> = {
  'matter-of-fact': 'Be neutral and matter-of-fact.',
  friendly: 'Be friendly and polite.',
  warm: 'Be warm, kind and encouraging.',
};

/**
 * The persona: one sentence per trait, chosen by band (low < 0.35 <= mid <= 0.65 < high),
 * plus the tone from warmth and the grounding rule for memory fragments.
 */
export function systemPrompt(traits: Traits, name = 'Luna'): string {
  const warmth = generationSettings(traits, 0).tone;
  return [
    `You are ${name}, a personal assistant who answers with the help of the user's memory.`,
    STYLE.openness[band(traits.openness)],
    STYLE.conscientiousness[band(traits.conscientiousness)],
    STYLE.extraversion[band(traits.extraversion)],
    TONE[warmth],
    STYLE.neuroticism[band(traits.neuroticism)],
    'When memory fragments are given, rely on them, cite them as [n], and say so when they do not answer the question.',
  ].join(' ');
}

/** Feedback on one answer: `rating` in [-1, 1] (-1 bad, 0 neutral, 1 good). */
export interface Feedback {
  rating: number;
  text?: string;
}

/** Per-trait signals in [-1, 1]. */
export type TraitSignals = Partial<Record<Trait, number>>;

const TEXT_SIGNALS: { pattern: RegExp; signals: TraitSignals }[] = [
  {
    pattern: /too long|shorter|verbose|wordy|concise|brief|rambl/i,
    signals: { extraversion: -1 },
  },
  {
    pattern: /too short|more detail|elaborate|longer|expand|explain more/i,
    signals: { extraversion: 1, conscientiousness: 0.5 },
  },
  { pattern: /cold|rude|harsh|blunt|unfriendly|robotic/i, signals: { agreeableness: 1 } },
  { pattern: /too nice|sycophan|flatter|gush/i, signals: { agreeableness: -1 } },
  { pattern: /boring|dull|bland|more creative|imaginative/i, signals: { openness: 1 } },
  {
    pattern: /mad(?:e|ing) (?:\w+ )?up|invent|hallucinat|inaccurate|wrong|speculat/i,
    signals: { openness: -1, conscientiousness: 1 },
  },
  { pattern: /unsure|hedg|anxious|nervous|too cautious|wishy/i, signals: { neuroticism: -1 } },
  {
    pattern: /overconfident|careless|reckless|too sure/i,
    signals: { neuroticism: 1, conscientiousness: 0.5 },
  },
];

/**
 * Signals from feedback:
 * - the rating alone: `neuroticism −0.5·r` (good answers make Luna calmer, bad ones more
 *   careful) and `conscientiousness +0.5·max(0, −r)`;
 * - each phrase of the text that matches a pattern (too long, more detail, cold, boring,
 *   made up, hedging, overconfident...) adds its signals, at full strength with a rating
 *   <= 0 and half strength with a positive rating. Each signal is clamped to [-1, 1].
 */
export function feedbackSignals(feedback: Feedback): TraitSignals {
  const r = feedback.rating;
  const out: Record<Trait, number> = {
    openness: 0,
    conscientiousness: 0.5 * Math.max(0, -r),
    extraversion: 0,
    agreeableness: 0,
    neuroticism: -0.5 * r,
  };
  if (feedback.text) {
    const strength = r > 0 ? 0.5 : 1;
    for (const { pattern, signals } of TEXT_SIGNALS) {
      if (!pattern.test(feedback.text)) continue;
      for (const [trait, s] of Object.entries(signals) as [Trait, number][]) {
        out[trait] += strength * s;
      }
    }
  }
  const signals: TraitSignals = {};
  for (const trait of TRAITS) {
    const s = clamp(out[trait], -1, 1);
    if (s !== 0) signals[trait] = s;
  }
  return signals;
}

/**
 * Moves each trait toward its learning bound by `LEARNING_RATE · |signal|` of the remaining
 * distance: `x + rate·s·(max − x)` for s > 0, `x + rate·s·(x − min)` for s < 0. A trait
 * already past a bound is not pushed further out.
 */
export function nudgeTraits(traits: Traits, signals: TraitSignals, rate = LEARNING_RATE): Traits {
  const { min, max } = LEARNING_BOUNDS;
  const out = { ...traits };
  for (const trait of TRAITS) {
    const s = signals[trait] ?? 0;
    const x = traits[trait];
    if (s > 0 && x < max) out[trait] = round(Math.min(max, x + rate * s * (max - x)));
    else if (s < 0 && x > min) out[trait] = round(Math.max(min, x + rate * s * (x - min)));
  }
  return out;
}

/** `traits − (after − before)`, clamped to [0, 1]: takes one change back. */
export function revertChange(traits: Traits, before: Traits, after: Traits): Traits {
  const out = { ...traits };
  for (const trait of TRAITS) {
    out[trait] = round(clamp(traits[trait] - (after[trait] - before[trait]), 0, 1));
  }
  return out;
}
