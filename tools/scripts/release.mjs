#!/usr/bin/env node
// Publishes every @aios package whose version is not on the registry yet:
//   pnpm release            build, publish platform binaries, then `changeset publish`
//   pnpm release --dry-run  the same with `npm publish --dry-run` (nothing leaves the machine)
//
// Binaries: each core's packages/<core>/native/ must hold the .node files of every
// platform to publish (this machine builds linux-x64-gnu; other platforms' builds are
// copied in with `napi artifacts`). A platform without a binary is skipped with a notice.
// The cores are published with their platform packages as exact-version
// optionalDependencies, so npm installs only the binary matching the user's machine.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  nativePackages,
  platformPackages,
  root,
  run,
  stagePlatformPackage,
  withOptionalDependencies,
} from './lib/native-packages.mjs';

const dryRun = process.argv.includes('--dry-run');
const dry = dryRun ? ['--dry-run'] : [];

run(process.execPath, [join(root, 'tools/scripts/turbo.mjs'), 'run', 'build'], {
  cwd: root,
  stdio: 'inherit',
});

const staging = mkdtempSync(join(tmpdir(), 'aios-release-'));
try {
  const cores = nativePackages();
  for (const { dir, manifest } of cores) {
    for (const { platform } of platformPackages(dir)) {
      const staged = stagePlatformPackage(dir, platform, staging);
      if (!staged) {
        console.warn(`${manifest.name}: no ${platform} binary in native/, not publishing it`);
        continue;
      }
      run('npm', ['publish', '--access', 'public', ...dry], { cwd: staged, stdio: 'inherit' });
    }
  }
  // Declare the optional binary packages on every core at once, then publish them all.
  const publishAll = () =>
    dryRun
      ? run('pnpm', ['-r', '--filter', './packages/*', 'publish', '--dry-run', '--no-git-checks'], {
          cwd: root,
          stdio: 'inherit',
        })
      : run('pnpm', ['changeset', 'publish'], { cwd: root, stdio: 'inherit' });
  cores.reduceRight(
    (next, { dir }) =>
      () =>
        withOptionalDependencies(dir, next),
    publishAll,
  )();
} finally {
  rmSync(staging, { recursive: true, force: true });
}
