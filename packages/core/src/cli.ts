#!/usr/bin/env node
/**
 * The `aios` command. Node's compile cache (Node 22.1 and later) is turned on before the
 * rest is loaded, so that the cores' code is compiled once rather than on every command
 * (on a 100k-fragment home it takes `aios memory search` from about 245 to 210 ms).
 * Without it (older Node, or NODE_DISABLE_COMPILE_CACHE set) the command runs uncached.
 *
 * The command is the CommonJS build of `cli-main` (and so of every core): Node loads it
 * without the ES module loader's asynchronous resolve-and-link pass over all its modules,
 * which took 17-48 ms of each command on Node 20 and 11-21 ms on Node 22 (`memory search`
 * and `ask --offline` on 100k- and 1M-fragment homes).
 */
import module from 'node:module';

const compileCache = (module as { enableCompileCache?: () => unknown }).enableCompileCache;
try {
  compileCache?.();
} catch {
  // A cache directory that cannot be written: the command runs without it.
}
try {
  module.createRequire(import.meta.url)('./cli-main.cjs');
} catch (error) {
  process.stderr.write(
    `aios: cannot start: ${error instanceof Error ? error.message : String(error)} [UNEXPECTED]\n`,
  );
  process.exitCode = 70;
}
