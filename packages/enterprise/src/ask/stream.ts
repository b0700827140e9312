import { PassThrough } from 'node:stream';
import type { Answer, AnswerSource } from '@aios/luna';
import { errorResponse } from '../http/errors.js';
import { sseEvent } from '../http/sse.js';
import { answerMetaView, sourceView } from './views.js';

/**
 * An answer as server-sent events: `sources` (the fragments the answer is built on; sent
 * again, before any token, when the model failed and the offline answer replaces its
 * reply: the last one holds), `token` events whose texts make up the answer, then `done`
 * (the answer id for feedback, the conversation, mode, usage). A failure after the first
 * event is an `error` event in the API's error shape, and the stream ends.
 *
 * Nothing is sent before the sources are known: a failure before them (a bad question, the
 * memory) is answered as an HTTP error. `begun` resolves once there is something to send.
 */
export class AnswerStream {
  readonly body = new PassThrough();
  readonly begun: Promise<void>;
  /** The text sent in `token` events. */
  private streamed = '';
  private started = false;
  private ended = false;
  private markBegun: () => void = () => undefined;

  constructor() {
    this.begun = new Promise((resolve) => {
      this.markBegun = resolve;
    });
  }

  /** Whether a token went out (the model's reply can no longer be replaced). */
  get streaming(): boolean {
    return this.streamed !== '';
  }

  private event(name: string, data: unknown): void {
    if (this.ended) return;
    this.body.write(sseEvent(name, data));
    if (!this.started) {
      this.started = true;
      this.markBegun();
    }
  }

  sources(sources: AnswerSource[]): void {
    this.event('sources', { sources: sources.map(sourceView) });
  }

  token(text: string): void {
    if (text === '') return;
    this.streamed += text;
    this.event('token', { text });
  }

  /** The answer is stored: what of its text has not gone out yet (all of an offline one), then `done`. */
  finish(answer: Answer): void {
    const rest = answer.answer.startsWith(this.streamed)
      ? answer.answer.slice(this.streamed.length)
      : answer.answer;
    // Word by word, as a model would send it.
    for (const piece of rest.split(/(?<=\s)(?=\S)/)) this.token(piece);
    this.event('done', answerMetaView(answer));
    this.end();
  }

  /** The answer failed; `true` when the stream had begun (the error went into it). */
  fail(error: unknown, requestId: string): boolean {
    if (!this.started) return false;
    this.event('error', errorResponse(error, requestId).body);
    this.end();
    return true;
  }

  /** Ends the stream without another event (the client went away). */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.body.end();
  }
}
