import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { serveAios } from './test-support/cli.js';

const homes: string[] = [];
afterAll(() => {
  for (const home of homes) rmSync(home, { recursive: true, force: true });
});

/** Each thread's niceness, by thread id (field 19 of /proc/<pid>/task/<tid>/stat). */
function niceness(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      out.set(Number(tid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
    } catch {
      // The thread ended meanwhile.
    }
  }
  return out;
}

async function serveAndRead(env: Record<string, string>) {
  const home = mkdtempSync(join(tmpdir(), 'aios-priority-'));
  homes.push(home);
  const server = await serveAios(home, [], env);
  try {
    // A search runs on the pool threads: it must still be answered after they were lowered.
    expect((await fetch(`${server.url}/livez`)).status).toBe(200);
    const pid = server.child.pid as number;
    const threads = niceness(pid);
    const main = threads.get(pid) as number;
    threads.delete(pid);
    return { main, others: [...threads.values()] };
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
  }
}

describe.runIf(process.platform === 'linux')('aios serve thread priorities', () => {
  it('runs every thread but the event loop server.workerNice (5) levels lower', async () => {
    const { main, others } = await serveAndRead({});
    // libuv's pool (4 threads) and V8's helpers.
    expect(others.length).toBeGreaterThanOrEqual(4);
    expect(others.every((nice) => nice === Math.min(19, main + 5))).toBe(true);
  });

  it('leaves them at the event loop priority with server.workerNice 0', async () => {
    const { main, others } = await serveAndRead({ AIOS_SERVER__WORKER_NICE: '0' });
    expect(others.length).toBeGreaterThanOrEqual(4);
    expect(others.every((nice) => nice === main)).toBe(true);
  });
});
