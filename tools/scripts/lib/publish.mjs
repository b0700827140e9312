// What `pnpm release` publishes and how each tarball is made: a core is packed by pnpm
// (which turns workspace:/catalog: ranges into versions), a binary package is its
// npm/<platform>/ folder with the built binary copied in.
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  declaredPlatforms,
  platformPackage,
  pnpmPack,
  publishablePackages,
  run,
} from './native-packages.mjs';

/** Every publishable package, dependencies first, with its binary packages (hybrid cores). */
export async function publishUnits(base) {
  const units = [];
  for (const { dir, manifest } of publishablePackages(base)) {
    const native = Boolean(manifest.napi);
    const platforms = native
      ? (await declaredPlatforms(dir, manifest)).map((p) => platformPackage(dir, manifest, p))
      : [];
    units.push({ name: manifest.name, dir, manifest, native, platforms });
  }
  return units;
}

/** Packs one binary package (its npm/<platform>/ files and the binary) into `staging`. */
export function packPlatform(platform, staging) {
  const staged = join(staging, 'binaries', platform.name.replace('/', '__'));
  mkdirSync(staged, { recursive: true });
  cpSync(platform.dir, staged, { recursive: true });
  cpSync(platform.binary, join(staged, platform.file));
  const out = run('npm', ['pack', '--json', '--pack-destination', staging], {
    cwd: staged,
    quiet: true,
  });
  const [{ filename }] = JSON.parse(out);
  return join(staging, filename);
}

/** Packs a workspace package with pnpm into `staging`. */
export function packCore(unit, staging) {
  return pnpmPack(unit.dir, staging);
}

/** The package.json inside a tarball. */
export function tarballManifest(tarball) {
  return JSON.parse(run('tar', ['-xOzf', tarball, 'package/package.json'], { quiet: true }));
}
