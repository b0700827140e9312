import { createColors } from 'picocolors';

/**
 * Colours only when stdout is a terminal: picocolors alone also colours when `CI` or
 * `FORCE_COLOR` is set, which puts escape codes into piped and logged output.
 */
export const pc = createColors(Boolean(process.stdout.isTTY) && !('NO_COLOR' in process.env));
