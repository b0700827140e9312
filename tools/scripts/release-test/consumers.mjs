// Fresh projects outside the workspace that install published @aios packages from the
// test registry with npm, pnpm, yarn 1 or yarn 4, with or without optional dependencies,
// then run the smoke script, `aios status --json` and `aios demo` in them.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../lib/native-packages.mjs';

const SMOKE = join(import.meta.dirname, 'smoke.mjs');

/** Package-manager settings for a fresh project: @aios from the test registry, the rest from the default one. */
function configure(pm, dir, registry, optional) {
  writeFileSync(join(dir, '.npmrc'), `@aios:registry=${registry}\n`);
  if (pm === 'yarn4') {
    const host = new URL(registry).hostname;
    writeFileSync(
      join(dir, '.yarnrc.yml'),
      [
        'nodeLinker: node-modules',
        'enableTelemetry: false',
        // Its own metadata and cache: yarn keeps package metadata (with tarball URLs, whose
        // port changes from run to run) in its global folder.
        'globalFolder: ./.yarn-global',
        `unsafeHttpWhitelist: ["${host}"]`,
        'npmScopes:',
        '  aios:',
        `    npmRegistryServer: "${registry}"`,
        // Just published: yarn 4 holds back versions younger than a day by default.
        '    npmMinimalAgeGate: 0',
        // Yarn 4 has no "omit optional": installing for another platform leaves the
        // linux binary package out, as on a machine AIOS publishes no binary for.
        ...(optional ? [] : ['supportedArchitectures:', '  os: [darwin]', '  cpu: [arm64]']),
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'yarn.lock'), '');
  }
}

/**
 * Installs `specs` (e.g. ['@aios/luna@0.1.0']) into a new project `dir`; returns how long
 * it took in seconds.
 */
export function installProject({ pm, dir, specs, registry, optional, tools }) {
  mkdirSync(dir, { recursive: true });
  const dependencies = Object.fromEntries(
    specs.map((spec) => {
      const at = spec.lastIndexOf('@');
      return [spec.slice(0, at), spec.slice(at + 1)];
    }),
  );
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies }, null, 2),
  );
  configure(pm, dir, registry, optional);
  const env = {
    ...process.env,
    // Installs here are new projects: no frozen lockfile even under CI=true.
    YARN_ENABLE_IMMUTABLE_INSTALLS: 'false',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  };
  const commands = {
    npm: ['npm', ['install', ...(optional ? [] : ['--omit=optional'])]],
    pnpm: ['pnpm', ['install', '--no-frozen-lockfile', ...(optional ? [] : ['--no-optional'])]],
    yarn1: [
      process.execPath,
      [tools.yarn1, 'install', '--non-interactive', ...(optional ? [] : ['--ignore-optional'])],
    ],
    yarn4: [process.execPath, [tools.yarn4, 'install']],
  };
  const [command, args] = commands[pm];
  const started = performance.now();
  run(command, args, { cwd: dir, env, quiet: true });
  copyFileSync(SMOKE, join(dir, 'smoke.mjs'));
  return (performance.now() - started) / 1000;
}

/** Runs the smoke script for `cores` with `node`, expecting implementation `want`. */
export function smoke(dir, node, want, cores, env = {}) {
  return run(node, ['smoke.mjs', want, ...cores], {
    cwd: dir,
    quiet: true,
    env: { ...process.env, ...env },
  });
}

/** `aios <args>` of the installed @aios/core, with a fresh home. */
export function aios(dir, node, args, home, env = {}) {
  const cli = join(dir, 'node_modules/@aios/core/dist/cli.js');
  return run(node, [cli, ...args], {
    cwd: dir,
    quiet: true,
    env: { ...process.env, AIOS_HOME: home, ...env },
  });
}

/** What `aios status --json` says each core runs: { '@aios/utils': 'native', ... }. */
export function coreImplementations(dir, node, home, env = {}) {
  const status = JSON.parse(aios(dir, node, ['status', '--json'], home, env));
  return Object.fromEntries(status.cores.map((core) => [core.name, core]));
}
