#!/usr/bin/env node
// Publishes every @aios package (and each core's per-platform binary packages) whose
// version is not on the registry yet:
//   pnpm release            check, build (replayed from turbo's cache after `pnpm build`), publish
//   pnpm release --dry-run  the same checks, then `npm publish --dry-run` (nothing is published)
//
// Before the first publish it checks everything it can: the manifests are in step
// (`pnpm version-packages` ran), every declared platform's binary is in
// packages/<core>/native/, what the registry already has, and (when something is to be
// published) that the registry accepts the credentials. Then it packs every tarball and
// publishes in dependency order, each core right after its binary packages: a published
// core never lacks its binaries, and a failure leaves at most one core's binaries
// published ahead of it. Versions already on the registry are skipped, so running it
// again after a failure completes the release.
//
// Registry and token come from the project's npm config: every npm command runs in the
// repository root, so `<root>/.npmrc` applies (with the user's ~/.npmrc and npm_config_*
// variables, as for any npm command there).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkNativePackage, declaredPlatforms, root, run } from './lib/native-packages.mjs';
import { packCore, packPlatform, publishUnits, tarballManifest } from './lib/publish.mjs';
import { aiosRegistry, npm, publishedVersion } from './lib/registry.mjs';

const dryRun = process.argv.includes('--dry-run');
const skipBuild = process.argv.includes('--no-build');

function fail(lines) {
  console.error(`release: nothing was published.\n${lines.map((l) => `  ${l}`).join('\n')}`);
  process.exit(1);
}

if (!skipBuild) {
  run(process.execPath, [join(root, 'tools/scripts/turbo.mjs'), 'run', 'build'], {
    cwd: root,
    stdio: 'inherit',
  });
}

// 1. Local checks: manifests in step, binaries gathered, one platform set for every core
//    (the load error in @aios/utils names the platforms from its own manifest).
const units = await publishUnits();
const problems = [];
const platformSets = new Map();
for (const unit of units.filter((u) => u.native)) {
  problems.push(...(await checkNativePackage(unit.dir, unit.manifest)));
  platformSets.set(unit.name, (await declaredPlatforms(unit.dir, unit.manifest)).join(','));
}
if (new Set(platformSets.values()).size > 1) {
  problems.push(
    `every core must publish binaries for the same platforms (napi.targets): ${JSON.stringify(Object.fromEntries(platformSets))}`,
  );
}
if (problems.length > 0) fail(problems);

// 2. What the registry has: each package and binary package at its version.
const plan = [];
for (const unit of units) {
  const platforms = [];
  for (const platform of unit.platforms) {
    if (!publishedVersion(platform.name, unit.manifest.version)) platforms.push(platform);
  }
  const core = !publishedVersion(unit.name, unit.manifest.version);
  if (core || platforms.length > 0) plan.push({ unit, platforms, core });
}
if (plan.length === 0) {
  console.log('release: every @aios package is already on the registry at its version.');
  process.exit(0);
}
console.log('release: to publish');
for (const { unit, platforms, core } of plan) {
  const names = [...platforms.map((p) => p.name), ...(core ? [unit.name] : [])];
  console.log(`  ${names.map((n) => `${n}@${unit.manifest.version}`).join(', ')}`);
}

// 3. Credentials, before anything is published.
if (!dryRun) {
  const registry = aiosRegistry();
  try {
    const user = npm(['whoami', '--registry', registry]).trim();
    console.log(`release: publishing to ${registry} as ${user}`);
  } catch (error) {
    fail([
      `${registry} did not accept the credentials (npm whoami failed).`,
      `Put the token in ${join(root, '.npmrc')} (//<registry host>/:_authToken=...) or in ~/.npmrc.`,
      String(error.message).split('\n').slice(-3).join(' '),
    ]);
  }
}

// 4. Pack everything first: a packing error also stops the release before any publish.
const staging = mkdtempSync(join(tmpdir(), 'aios-release-'));
const published = [];
try {
  const tarballs = plan.map(({ unit, platforms, core }) => ({
    unit,
    platforms: platforms.map((platform) => ({
      name: platform.name,
      tarball: packPlatform(platform, staging),
    })),
    core: core ? packCore(unit, staging) : undefined,
  }));
  for (const { unit, core } of tarballs) {
    if (!core) continue;
    const manifest = tarballManifest(core);
    const leftover = JSON.stringify(manifest).match(/"(workspace|catalog):[^"]*"/);
    if (leftover) fail([`${unit.name}: the packed manifest still has ${leftover[0]}`]);
    if (
      unit.native &&
      JSON.stringify(manifest.optionalDependencies) !==
        JSON.stringify(unit.manifest.optionalDependencies)
    ) {
      fail([`${unit.name}: the packed manifest lost its optionalDependencies`]);
    }
  }

  // 5. Publish: each core's binaries, then the core, in dependency order.
  for (const { unit, platforms, core } of tarballs) {
    for (const { name, tarball } of [
      ...platforms,
      ...(core ? [{ name: unit.name, tarball: core }] : []),
    ]) {
      npm(['publish', tarball, '--access', 'public', ...(dryRun ? ['--dry-run'] : [])], 'inherit');
      published.push(`${name}@${unit.manifest.version}`);
    }
  }
} catch (error) {
  console.error(
    [
      `release: failed: ${String(error.message).split('\n')[0]}`,
      published.length > 0
        ? `  published before the failure: ${published.join(', ')}`
        : '  nothing was published.',
      '  Fix the cause and run `pnpm release` again: versions already on the registry are skipped.',
    ].join('\n'),
  );
  if (error.message.includes('\n')) console.error(error.message);
  process.exitCode = 1;
} finally {
  rmSync(staging, { recursive: true, force: true });
}

if (!process.exitCode) {
  console.log(`release: ${dryRun ? 'would publish' : 'published'} ${published.join(', ')}`);
  // Git tags for the released versions, as `changeset publish` makes them.
  if (!dryRun && existsSync(join(root, '.git'))) {
    run('pnpm', ['changeset', 'tag'], { cwd: root, stdio: 'inherit' });
  }
}
