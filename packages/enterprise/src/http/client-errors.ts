import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { ErrorBody } from './errors.js';

/** Node's parser errors that have a status of their own; every other one is a 400. */
const PARSER_ERRORS: Record<string, { status: number; reason: string; code: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    reason: 'Request Header Fields Too Large',
    code: 'HEADERS_TOO_LARGE',
  },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, reason: 'Request Timeout', code: 'REQUEST_TIMEOUT' },
};

/**
 * Answers a request Node's HTTP parser refused before any route saw it (headers or URL
 * over the limit, a malformed request line, a request that took too long): in the one error
 * shape, with a request id, and the connection closed, since its stream can't be trusted.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  // The peer has gone: there is no one to answer.
  if (error.code === 'ECONNRESET' || error.code === 'EPIPE' || !socket.writable) {
    socket.destroy();
    return;
  }
  const known = PARSER_ERRORS[error.code ?? ''];
  const status = known?.status ?? 400;
  const requestId = randomUUID();
  const body: ErrorBody = {
    error: {
      code: known?.code ?? 'INVALID_REQUEST',
      message:
        status === 431
          ? 'the request line and headers are over the size limit (16 KiB)'
          : status === 408
            ? 'the request was not received in time'
            : 'the request is not valid HTTP',
      details: {},
      requestId,
    },
  };
  const json = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${known?.reason ?? 'Bad Request'}\r\n` +
      'content-type: application/json; charset=utf-8\r\n' +
      `content-length: ${Buffer.byteLength(json)}\r\n` +
      `x-request-id: ${requestId}\r\n` +
      'connection: close\r\n\r\n' +
      json,
  );
}
