#!/usr/bin/env node
// prepublishOnly of each hybrid core: refuses a publish (`pnpm publish`, `changeset publish`)
// while the binary packages the core declares are not on the registry at its version, so
// the core is never published pointing at binaries that do not exist (yarn would then fail
// to install it). `pnpm release` publishes the binaries first and publishes tarballs, which
// do not run this script.
import { join } from 'node:path';
import { readJson } from './lib/native-packages.mjs';
import { publishedVersion } from './lib/registry.mjs';

const manifest = readJson(join(process.cwd(), 'package.json'));
const missing = Object.entries(manifest.optionalDependencies ?? {})
  .filter(([name, version]) => !publishedVersion(name, version))
  .map(([name, version]) => `${name}@${version}`);
if (missing.length > 0) {
  console.error(
    `${manifest.name}@${manifest.version}: not published, its binary packages are not on the registry: ${missing.join(', ')}.\n` +
      'Publish with `pnpm release`, which publishes them first.',
  );
  process.exit(1);
}
