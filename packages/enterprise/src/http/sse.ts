import type { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';

/** One server-sent event: a name and JSON data. */
export function sseEvent(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * Answers with a server-sent event stream: `body` goes out as it is written, not cached,
 * and not buffered by a proxy in front. (The type provider types send() by the route's
 * JSON schema; a stream is sent as it is.)
 */
export function sendEventStream(reply: FastifyReply, body: Readable) {
  return reply
    .header('content-type', 'text/event-stream; charset=utf-8')
    .header('cache-control', 'no-cache')
    .header('x-accel-buffering', 'no')
    .send(body as unknown as string);
}
