import { spawn } from 'node:child_process';
import { testImplementations } from '@aios/utils/testing';
import { describe, expect, it } from 'vitest';
import { cli, runCli, tempHomes } from './testing/cli.js';

// A reader that goes away early (`aios ... | head -1`): the command ends without a stack
// trace, having done its work; a chat over piped questions stops asking.

const tempHome = tempHomes('aios-closed-output-');

/** Runs `aios ...args` and closes its standard output after the first chunk it prints. */
function readFirstChunk(home: string, args: string[], env: Record<string, string>, input = '') {
  return new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      cwd: home,
      env: { PATH: process.env.PATH ?? '', AIOS_HOME: home, ...env },
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (t: string) => {
      stderr += t;
    });
    child.stdout.once('data', () => child.stdout.destroy());
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
    child.stdin.on('error', () => undefined); // a chat that stopped reading
    child.stdin.end(input);
  });
}

describe.each(testImplementations())('a reader that goes away (AIOS_NATIVE=%s)', (impl) => {
  const env = { AIOS_NATIVE: impl };

  it('a command that prints a lot ends quietly, its work done', async () => {
    const home = tempHome();
    const demo = await readFirstChunk(home, ['--offline', 'demo'], env);
    expect(demo.stderr).toBe('');
    expect(demo.code).toBe(0);
    // Every note of the demo was stored all the same.
    expect(runCli(home, ['memory', 'list', '--json'], env).stdout).toContain('luna.md');
  }, 60_000);

  it('a chat stops asking once nobody reads its answers', async () => {
    const home = tempHome();
    const questions = Array.from({ length: 200 }, (_, i) => `question ${i}\n`).join('');
    const chat = await readFirstChunk(home, ['--offline', 'chat'], env, questions);
    expect(chat.stderr).toBe('');
    expect(chat.code).toBe(0);
    const listed = runCli(home, ['conversations', 'list', '--json'], env);
    const [conversation] = JSON.parse(listed.stdout).conversations;
    expect(conversation.turns).toBeLessThan(200);
  }, 60_000);
});
