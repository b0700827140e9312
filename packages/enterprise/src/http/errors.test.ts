import { AiosError } from '@aios/utils';
import { describe, expect, it } from 'vitest';
import { errorResponse } from './errors.js';

/** An error as http-errors (what @fastify/send and other plugins throw) makes it. */
function httpError(status: number, message: string, expose = status < 500): Error {
  return Object.assign(new Error(message), { status, statusCode: status, expose });
}

describe('the status and body of an error', () => {
  it('keeps the 4xx of a plugin error, with a stable code, never a 500', () => {
    for (const [status, code] of [
      [400, 'INVALID_REQUEST'],
      [403, 'FORBIDDEN'],
      [404, 'NOT_FOUND'],
      [412, 'PRECONDITION_FAILED'],
      [416, 'RANGE_NOT_SATISFIABLE'],
      [418, 'INVALID_REQUEST'],
    ] as const) {
      const answer = errorResponse(httpError(status, 'Refused'), 'r1');
      expect(answer.status).toBe(status);
      expect(answer.body.error).toMatchObject({ code, message: 'Refused', details: {} });
    }
    const statusOnly = Object.assign(new Error('Bad Request'), { status: 400 });
    expect(errorResponse(statusOnly, 'r2').status).toBe(400);
  });

  it('says nothing of a message its thrower marked private, and cuts a long one', () => {
    expect(errorResponse(httpError(400, 'secret', false), 'r').body.error.message).not.toContain(
      'secret',
    );
    const long = errorResponse(httpError(400, 'x'.repeat(10_000)), 'r').body.error.message;
    expect(long.length).toBeLessThanOrEqual(201);
  });

  it("answers a server's embedder that differs from its store's as a 5xx that says why", () => {
    const error = new AiosError(
      'EMBEDDER_MISMATCH',
      'this memory was embedded with builtin (dimension 384); run `aios memory reembed`',
    );
    const answer = errorResponse(error, 'r');
    expect(answer.status).toBe(500);
    expect(answer.body.error).toMatchObject({
      code: 'EMBEDDER_MISMATCH',
      message: expect.stringContaining('aios memory reembed'),
    });
    expect(errorResponse(new AiosError('DIMENSION_MISMATCH', 'x'), 'r').status).toBe(400);
  });

  it('answers a 5xx or a plain error as INTERNAL without its message', () => {
    for (const error of [httpError(503, 'disk at /srv/x'), new Error('at /srv/x')]) {
      const answer = errorResponse(error, 'r');
      expect(answer.status).toBe(500);
      expect(answer.body.error).toMatchObject({ code: 'INTERNAL', message: 'internal error' });
    }
  });
});
