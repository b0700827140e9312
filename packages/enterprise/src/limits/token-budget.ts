import type { DataStore } from '@aios/data';
import { apiError } from '../http/errors.js';

const DAY_MS = 86_400_000;

/**
 * A tenant's budget of language-model tokens per UTC day. What was used is read from the
 * tenant's own store (the tokens of its messages today), so the budget holds across
 * restarts and processes; a call is refused before it starts once the day's tokens are
 * spent, with the time until the next UTC day as Retry-After.
 */
export class TokenBudget {
  constructor(private readonly perDay: number | undefined) {}

  get limit(): number | undefined {
    return this.perDay;
  }

  async used(data: DataStore, now = Date.now()): Promise<number> {
    const start = now - (now % DAY_MS);
    const days = await data.analytics.tokensPerDay({ from: start, to: start + DAY_MS });
    return days.reduce((sum, day) => sum + day.promptTokens + day.completionTokens, 0);
  }

  /** Throws `TOKEN_BUDGET_EXCEEDED` when the tenant has no tokens left today. */
  async check(data: DataStore, now = Date.now()): Promise<void> {
    if (this.perDay === undefined) return;
    const used = await this.used(data, now);
    if (used >= this.perDay) {
      const retryAfterSeconds = Math.ceil((DAY_MS - (now % DAY_MS)) / 1000);
      throw apiError(
        'TOKEN_BUDGET_EXCEEDED',
        `this tenant used its ${this.perDay} tokens for today`,
        {
          limit: this.perDay,
          used,
          retryAfterSeconds,
        },
      );
    }
  }
}
