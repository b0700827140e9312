import { AiosError, fromNodeIoError, isAiosError } from '@aios/utils';
import { CommanderError } from 'commander';
import { dropOutputWhenClosed } from './commands/closed-output.js';
import { buildProgram } from './commands/index.js';
import { shuttingDown, signalExitCode } from './lifecycle.js';

/**
 * Exit status: 0 done; 1 a reported error (`aios: <message> [CODE]`) or a failed check;
 * 70 an unexpected error (a bug: AIOS_DEBUG=1 prints its stack); 130 / 143 stopped by
 * SIGINT / SIGTERM. Commander's own errors use the same one-line form.
 */
async function main(): Promise<void> {
  dropOutputWhenClosed();
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (error) {
    reportError(error);
  }
  const stopped = signalExitCode();
  if (stopped !== undefined) process.exitCode = stopped;
}

/** Commander printed these itself (help, version). */
const SHOWN = new Set(['commander.helpDisplayed', 'commander.help', 'commander.version']);

function reportUsageError(error: CommanderError): void {
  const code = error.code === 'commander.invalidArgument' ? 'INVALID_INPUT' : 'USAGE_ERROR';
  const [first = '', ...rest] = error.message
    .trim()
    .replace(/^error: /, '')
    // Commander words a bad argument apart from a bad option value; said alike here.
    .replace(
      /^command-argument value ('[^']*') is invalid for argument ('[^']*')\./,
      'argument $2 value $1 is invalid.',
    )
    .replace(/ is invalid\. /, ' is invalid: ')
    .split('\n');
  const more = rest.map((line) => `${line}\n`).join('');
  process.stderr.write(`aios: ${first} [${code}]\n${more}(run with --help for usage)\n`);
}

/** A Node.js system error (`EACCES`, `EROFS`, ...) that reached the top without a code of ours. */
function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  const e = error as NodeJS.ErrnoException | undefined;
  return error instanceof Error && typeof e?.code === 'string' && typeof e.syscall === 'string';
}

function reportError(error: unknown): void {
  if (shuttingDown()) return; // the signal handler closes the cores and sets the exit code
  if (error instanceof CommanderError) {
    if (!SHOWN.has(error.code)) reportUsageError(error);
    process.exitCode = error.exitCode;
    return;
  }
  // Node's message already names the path and the call ("EROFS: read-only file system, open '…'").
  const coded = isSystemError(error)
    ? new AiosError(fromNodeIoError(error, error.path ?? '').code, error.message, { cause: error })
    : error;
  if (isAiosError(coded)) {
    // The code ends the first line, as a reader (or a script) looks for it there; what
    // follows it (the problems of a config file, one a line) comes after.
    const [first = '', ...more] = coded.message.split('\n');
    const rest = more.map((line) => `${line}\n`).join('');
    process.stderr.write(`aios: ${first.replace(/:$/, '')} [${coded.code}]\n${rest}`);
    process.exitCode = 1;
  } else {
    process.stderr.write(
      `aios: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    if (process.env.AIOS_DEBUG) console.error(error);
    process.exitCode = 70;
  }
}

void main();
