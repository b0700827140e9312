import { AiosError } from '@aios/utils';
import { LunaErrorCode } from '../errors.js';
import type { MemoryChange } from '../facts/types.js';
import type { Traits } from '../personality.js';
import type {
  ConversationStore,
  ExchangeRecord,
  FeedbackRecord,
  PersonalityChange,
  PersonalityUpdate,
  UsageRecord,
} from '../store.js';

/** A `ConversationStore` in process memory; records are copied in and out. */
export class InMemoryConversationStore implements ConversationStore {
  private readonly exchanges = new Map<string, ExchangeRecord>();
  private readonly order: string[] = [];
  private readonly usages: UsageRecord[] = [];
  private readonly feedbacks = new Map<string, FeedbackRecord>();
  private traits: Traits | undefined;
  private readonly history: PersonalityChange[] = [];

  async recordExchange(exchange: ExchangeRecord, usage?: UsageRecord): Promise<void> {
    this.exchanges.set(exchange.id, structuredClone(exchange));
    this.order.push(exchange.id);
    if (usage) this.usages.push(structuredClone(usage));
  }

  async getExchange(id: string): Promise<ExchangeRecord | undefined> {
    const found = this.exchanges.get(id);
    return found && structuredClone(found);
  }

  async recentExchanges(conversationId: string, limit: number): Promise<ExchangeRecord[]> {
    const out: ExchangeRecord[] = [];
    for (let i = this.order.length - 1; i >= 0 && out.length < limit; i--) {
      const e = this.exchanges.get(this.order[i] as string);
      if (e && e.conversationId === conversationId) out.push(structuredClone(e));
    }
    return out.reverse();
  }

  async hasConversation(conversationId: string): Promise<boolean> {
    return [...this.exchanges.values()].some((e) => e.conversationId === conversationId);
  }

  async latestConversation(): Promise<string | undefined> {
    const last = this.order.at(-1);
    return last === undefined ? undefined : this.exchanges.get(last)?.conversationId;
  }

  private readonly memoryChanges: MemoryChange[] = [];

  async recordMemoryChanges(changes: readonly MemoryChange[]): Promise<void> {
    this.memoryChanges.push(...structuredClone([...changes]));
  }

  async listMemoryChanges(): Promise<MemoryChange[]> {
    return structuredClone(this.memoryChanges);
  }

  async markMemoryChangeUndone(id: string, at: string, restoredAs?: string): Promise<void> {
    const change = this.memoryChanges.find((c) => c.id === id);
    if (!change) return;
    change.undone = true;
    change.undoneAt = at;
    if (restoredAs) change.restoredAs = restoredAs;
  }

  async usage(): Promise<UsageRecord[]> {
    return structuredClone(this.usages);
  }

  async recordFeedback(feedback: FeedbackRecord, personality: PersonalityUpdate): Promise<void> {
    this.feedbacks.set(feedback.id, structuredClone(feedback));
    this.apply(personality);
  }

  async getFeedback(id: string): Promise<FeedbackRecord | undefined> {
    const found = this.feedbacks.get(id);
    return found && structuredClone(found);
  }

  async listFeedback(): Promise<FeedbackRecord[]> {
    return structuredClone([...this.feedbacks.values()]);
  }

  async undoFeedback(feedbackId: string, at: string, personality: PersonalityUpdate) {
    const found = this.feedbacks.get(feedbackId);
    if (!found) {
      throw new AiosError(LunaErrorCode.NOT_FOUND, `no feedback ${feedbackId}`, {
        details: { feedbackId },
      });
    }
    found.undone = true;
    found.undoneAt = at;
    this.apply(personality);
  }

  async setPersonality(personality: PersonalityUpdate): Promise<void> {
    this.apply(personality);
  }

  async loadPersonality(): Promise<Traits | undefined> {
    return this.traits && { ...this.traits };
  }

  async personalityHistory(): Promise<PersonalityChange[]> {
    return structuredClone(this.history);
  }

  private apply({ traits, change }: PersonalityUpdate): void {
    this.traits = { ...traits };
    this.history.push(structuredClone(change));
  }
}
