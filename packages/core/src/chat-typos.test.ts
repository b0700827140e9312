import { describe, expect, it } from 'vitest';
import { tempHomes } from './testing/cli.js';
import { runCliAsync } from './testing/run.js';

// Chat commands typed wrong: each mistake is told for what it is, and the chat goes on.

const tempHome = tempHomes('aios-chat-typos-');

describe('chat commands typed wrong', () => {
  it('/feedback without a rating, or with words after undo', async () => {
    const home = tempHome();
    const chat = await runCliAsync(
      home,
      ['--offline', 'chat'],
      {},
      '/feedback\n/feedback undo now\n/help\n',
    );
    expect(chat.stderr).toBe(
      'aios: /feedback needs a rating from -1 to 1, e.g. /feedback 1 just right, or undo [USAGE_ERROR]\n' +
        'aios: /feedback undo takes nothing after it [USAGE_ERROR]\n',
    );
    expect(chat.stdout).toMatch(/^commands: /); // the chat went on
    expect(chat.code).toBe(1);
  }, 60_000);

  it('a command in capitals is the command', async () => {
    const chat = await runCliAsync(tempHome(), ['--offline', 'chat'], {}, '/HELP\n/Exit\nhello\n');
    expect(chat.stderr).toBe('');
    expect(chat.stdout).toMatch(/^commands: [^\n]*\n$/);
    expect(chat.code).toBe(0);
  }, 60_000);
});
