/** Reading a secret (an API key) without it showing on the screen or in the shell history. */
import { AiosError } from '@aios/utils';

const ENTER = new Set(['\r', '\n']);
const CTRL_C = '\u0003';
const CTRL_D = '\u0004';
const BACKSPACE = new Set(['\u007f', '\b']);

/** Everything piped in, without its final line break. */
async function readPiped(key: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer));
  const text = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (text === '') {
    throw new AiosError(
      'INVALID_INPUT',
      `${key}: no value given (type it when asked, pipe it in, or pass it after the key)`,
    );
  }
  return text;
}

/** One line typed at the terminal with echo off; Ctrl-C (or Ctrl-D on nothing) cancels. */
function readHidden(key: string): Promise<string> {
  const stdin = process.stdin;
  // Raw before the prompt shows: keys typed at it never reach the terminal's line editing
  // (where Ctrl-C would be a signal and the text an echo).
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  process.stderr.write(`${key} (what you type is not shown): `);
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (cancelled: boolean) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (cancelled) reject(new AiosError('CANCELLED', `cancelled: ${key} unchanged`));
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ENTER.has(ch)) return finish(false);
        if (ch === CTRL_C || (ch === CTRL_D && value === '')) return finish(true);
        if (ch === CTRL_D) return finish(false);
        if (BACKSPACE.has(ch)) value = value.slice(0, -1);
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/** The value of a secret key, from the terminal (unseen) or from standard input. */
export function readSecretInput(key: string): Promise<string> {
  return process.stdin.isTTY ? readHidden(key) : readPiped(key);
}
