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
