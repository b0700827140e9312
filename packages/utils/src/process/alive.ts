/**
 * Whether a process with this id runs on this host. A process of another user counts
 * (EPERM: it exists, we may not signal it), and so does this process. Ids that cannot
 * name a process (not a positive safe integer) are never alive: `process.kill(0, 0)` and
 * negative ids would signal process groups instead.
 */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
