// npm against the project's registry: every command runs in the repository root, so the
// project's .npmrc (registry, scoped registries, auth token) applies exactly as it does to
// a developer typing npm there, on top of ~/.npmrc and npm_config_* variables.
import { spawnSync } from 'node:child_process';
import { root } from './native-packages.mjs';

/**
 * Runs npm in the repository root. With `stdio` 'inherit' its output is shown as it
 * comes; either way a failure throws an error carrying what npm printed.
 */
export function npm(args, stdio = 'pipe', cwd = root) {
  if (stdio === 'inherit') console.log(`$ npm ${args.join(' ')}`);
  const result = spawnSync('npm', args, {
    cwd,
    encoding: 'utf8',
    stdio: stdio === 'inherit' ? ['ignore', 'inherit', 'pipe'] : 'pipe',
    maxBuffer: 64 << 20,
  });
  if (result.error) throw result.error;
  if (stdio === 'inherit' && result.stderr) process.stderr.write(result.stderr);
  if (result.status !== 0) {
    const output = [result.stdout, result.stderr].filter(Boolean).join('\n').trim();
    throw new Error(`npm ${args.join(' ')} exited with ${result.status}\n${output}`);
  }
  return result.stdout ?? '';
}

/** Whether `name@version` is on the registry (false when the package or version is not). */
export function publishedVersion(name, version, cwd = root) {
  try {
    const out = npm(['view', `${name}@${version}`, 'version', '--json'], 'pipe', cwd).trim();
    return out !== '' && JSON.parse(out) === version;
  } catch (error) {
    if (/E404|404 Not Found|is not in this registry/.test(error.message)) return false;
    throw error;
  }
}

/** The registry @aios packages go to: `@aios:registry` when the config sets it, else `registry`. */
export function aiosRegistry(cwd = root) {
  const scoped = npm(['config', 'get', '@aios:registry'], 'pipe', cwd).trim();
  if (scoped && scoped !== 'undefined' && scoped !== 'null') return scoped;
  return npm(['config', 'get', 'registry'], 'pipe', cwd).trim();
}
