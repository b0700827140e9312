/** Where a memory's warnings go: its `logger` option, else the `carma` logger. */
import { createLogger } from '@aios/utils';
import type { MemoryContext } from './context.js';
import type { IndexLogger } from './memory-types.js';

let defaultLogger: IndexLogger | undefined;

/** The memory's logger, else the `carma` logger of @aios/utils. */
export function memoryLogger(ctx: MemoryContext): IndexLogger {
  if (ctx.options.logger) return ctx.options.logger;
  defaultLogger ??= createLogger('carma');
  return defaultLogger;
}
