// Runs one backup in a separate process so that tests can SIGKILL it at any point.
// usage: node --import tsx backup-child.ts <repo> <impl> <source...>
import { openRepository } from '../repository.js';

const [repoPath, impl, ...sources] = process.argv.slice(2);
const repo = await openRepository(repoPath as string, { native: impl as 'native' | 'js' });
await repo.backup(sources, {
  force: true,
  onProgress: (p) =>
    process.stdout.write(`${JSON.stringify({ phase: p.phase, files: p.filesDone })}\n`),
});
process.stdout.write('finished\n');
