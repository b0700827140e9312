import { type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger } from 'pino';

export interface CreateLoggerOptions {
  /** Minimum level; default `AIOS_LOG_LEVEL`, else `info`. */
  level?: LoggerOptions['level'];
  /** Where lines go; default stderr, so stdout stays clean for command output. */
  destination?: NodeJS.WritableStream | number;
}

/** A structured JSON logger (pino) tagged with the core's name. */
export function createLogger(name: string, options: CreateLoggerOptions = {}): Logger {
  const level = options.level ?? process.env.AIOS_LOG_LEVEL ?? 'info';
  const destination = options.destination ?? 2;
  const stream =
    typeof destination === 'number'
      ? pino.destination({ fd: destination, sync: true })
      : destination;
  return pino({ name, level, base: { pid: process.pid } }, stream);
}
