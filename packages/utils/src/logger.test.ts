import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

describe('createLogger', () => {
  it('writes JSON lines tagged with the core name at or above its level', async () => {
    const sink = new PassThrough();
    const lines: string[] = [];
    sink.on('data', (chunk: Buffer) => lines.push(...chunk.toString().trim().split('\n')));
    const log = createLogger('@aios/test', { level: 'warn', destination: sink });
    log.info('hidden');
    log.warn({ path: '/x' }, 'disk nearly full');
    await new Promise((r) => setImmediate(r));
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0] as string);
    expect(entry).toMatchObject({
      name: '@aios/test',
      msg: 'disk nearly full',
      path: '/x',
      level: 40,
    });
  });
});
