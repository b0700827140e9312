#!/usr/bin/env node
// After `changeset version`: gives every per-platform binary package
// (packages/<core>/npm/<platform>/) the version of its core, using the napi CLI.
import { join } from 'node:path';
import { nativePackages, run } from './lib/native-packages.mjs';

for (const { dir, manifest } of nativePackages()) {
  run(process.execPath, [join(dir, 'node_modules/@napi-rs/cli/dist/cli.js'), 'version'], {
    cwd: dir,
    stdio: 'inherit',
  });
  console.log(`${manifest.name}: platform packages now at ${manifest.version}`);
}
