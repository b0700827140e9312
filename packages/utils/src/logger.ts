import { createRequire } from 'node:module';
import type { Logger, LoggerOptions } from 'pino';

export type { Logger } from 'pino';

// pino is some forty modules with its streams and serializers: it is loaded when a logger
// is first made, not by every program that imports @aios/utils (most commands log nothing).
const require = createRequire(import.meta.url);
let pinoModule: typeof import('pino') | undefined;

export interface CreateLoggerOptions {
  /** Minimum level; default `AIOS_LOG_LEVEL`, else `info`. */
  level?: LoggerOptions['level'];
  /** Where lines go; default stderr, so stdout stays clean for command output. */
  destination?: NodeJS.WritableStream | number;
}

/** A structured JSON logger (pino) tagged with the core's name. */
export function createLogger(name: string, options: CreateLoggerOptions = {}): Logger {
  pinoModule ??= require('pino') as typeof import('pino');
  const { pino } = pinoModule;
  const level = options.level ?? process.env.AIOS_LOG_LEVEL ?? 'info';
  const destination = options.destination ?? 2;
  const stream =
    typeof destination === 'number'
      ? pino.destination({ fd: destination, sync: true })
      : destination;
  return pino({ name, level, base: { pid: process.pid } }, stream);
}
