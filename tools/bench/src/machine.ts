import { execSync } from 'node:child_process';
import os from 'node:os';

export function describeMachine(): Record<string, unknown> {
  const cpus = os.cpus();
  let commit: string | undefined;
  try {
    commit = execSync('git rev-parse --short HEAD', { encoding: 'utf8', stdio: 'pipe' }).trim();
  } catch {
    commit = undefined;
  }
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memory_gib: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    arch: process.arch,
    node: process.version,
    date: new Date().toISOString(),
    commit,
  };
}

/** Busy time and total time of all CPUs so far, in ms (os.cpus()'s counters). */
function cpuTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const { times } of os.cpus()) {
    const all = times.user + times.nice + times.sys + times.idle + times.irq;
    busy += all - times.idle;
    total += all;
  }
  return { busy, total };
}

/**
 * Waits until the machine is quiet: `quietSeconds` seconds in a row with at most
 * `maxBusy` of its CPU time busy, or `timeoutMs`. After a large home is written, the
 * kernel goes on writing back and freeing memory for tens of seconds; a command measured
 * meanwhile shares the cores with that. Returns how long it waited, in ms.
 */
export async function quietMachine(
  options: { maxBusy?: number; quietSeconds?: number; timeoutMs?: number } = {},
): Promise<number> {
  const { maxBusy = 0.1, quietSeconds = 2, timeoutMs = 90_000 } = options;
  const start = performance.now();
  let quiet = 0;
  let last = cpuTimes();
  while (quiet < quietSeconds && performance.now() - start < timeoutMs) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const now = cpuTimes();
    const busy = (now.busy - last.busy) / Math.max(1, now.total - last.total);
    quiet = busy <= maxBusy ? quiet + 1 : 0;
    last = now;
  }
  return performance.now() - start;
}
