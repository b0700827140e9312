#!/usr/bin/env node
// Release test (`pnpm test:release`): the README's release flow, end to end, against a
// local registry, on a copy of the repository.
//
//  1. verdaccio on 127.0.0.1 with a temp storage; the copy's .npmrc holds the registry and
//     the token (the user config is emptied, so only the project's config can work);
//  2. `pnpm build` in the copy replays the native builds from turbo's cache;
//  3. refusals before any publish: no token, a missing binary (the registry stays empty);
//  4. a release that fails half-way (the registry refuses one binary package) leaves no
//     core without its binaries; `pnpm release` again completes it, replaying the build;
//  5. a second release after a changeset for one core: only what `pnpm version-packages`
//     bumped is published, the rest is skipped, and the build replays from cache;
//  6. fresh projects outside the workspace install each core alone and @aios/core with npm,
//     pnpm, yarn 1 and yarn 4 (Node 20; npm also on Node 22), with and without optional
//     dependencies, and run a smoke test per core, `aios status` and `aios demo`: native
//     with the binaries, js without, and a plain message on a platform with no binary;
//  7. publint and attw on every published tarball; install sizes.
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testEpub, testPdf } from '../../packages/utils/dist/testing.js';
import { publishablePackages, readJson, root, run } from './lib/native-packages.mjs';
import { aios, coreImplementations, installProject, smoke } from './release-test/consumers.mjs';
import { lintTarballs } from './release-test/lint.mjs';
import { releaseTools } from './release-test/tools.mjs';
import { addUser, registryVersions, startRegistry } from './release-test/verdaccio.mjs';

if (`${process.platform}-${process.arch}` !== 'linux-x64') {
  console.log('release-test: skipped, it publishes and installs the linux-x64-gnu binaries');
  process.exit(0);
}

const CORES = ['utils', 'data', 'carma', 'luna', 'backup', 'support'];
const started = performance.now();
const work = mkdtempSync(join(tmpdir(), 'aios-release-test-'));
const repo = join(work, 'repo');
let passed = 0;
let failed = 0;
let registry;

const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)}s`;
function step(title) {
  console.log(`\n== ${title}   [${elapsed()}]`);
}
function pass(what) {
  passed++;
  console.log(`  ok  ${what}`);
}
function expect(condition, what, detail = '') {
  if (!condition) {
    failed++;
    throw new Error(`${what}${detail ? `\n${detail}` : ''}`);
  }
  pass(what);
}

/** Runs a command in the copy; returns { status, output } (stdout and stderr together). */
function inRepo(command, args, env = {}) {
  const result = spawnSync(command, args, {
    cwd: repo,
    encoding: 'utf8',
    maxBuffer: 256 << 20,
    env: { ...process.env, ...repoEnv, ...env },
  });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}\n${result.stderr}` };
}
function mustRun(command, args, env) {
  const result = inRepo(command, args, env);
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} failed in the copy:\n${result.output.slice(-6000)}`,
    );
  }
  return result.output;
}

/** Everything the registry has of the @aios packages: { name: [versions] }. */
async function registryState() {
  const state = {};
  for (const { manifest } of publishablePackages(repo)) {
    const names = [manifest.name, ...Object.keys(manifest.optionalDependencies ?? {})];
    for (const name of names) {
      const versions = await registryVersions(registry.url, name);
      if (versions.length > 0) state[name] = versions;
    }
  }
  return state;
}

/** No core version on the registry without its binary packages at that version. */
async function consistent(state) {
  for (const { manifest } of publishablePackages(repo)) {
    for (const version of state[manifest.name] ?? []) {
      for (const binary of Object.keys(manifest.optionalDependencies ?? {})) {
        if (!(state[binary] ?? []).includes(version))
          return `${manifest.name}@${version} lacks ${binary}`;
      }
    }
  }
  return undefined;
}

/** turbo's "Cached: N cached, M total" line, as [N, M]. */
function turboCached(output) {
  const match = /Cached:\s+(\d+) cached, (\d+) total/.exec(output);
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}

function copyRepository() {
  // The working tree as git sees it (tracked and new files, minus ignored ones), then the
  // built binaries and bundles and turbo's cache: what a release machine has after `pnpm build`.
  const files = run('git', ['ls-files', '-co', '--exclude-standard', '-z'], {
    cwd: root,
    quiet: true,
  })
    .split('\0')
    .filter((file) => file && existsSync(join(root, file)));
  for (const file of files) cpSync(join(root, file), join(repo, file), { recursive: false });
  for (const pkg of readdirSync(join(root, 'packages'))) {
    for (const dir of ['dist', 'native']) {
      const from = join(root, 'packages', pkg, dir);
      if (existsSync(from)) cpSync(from, join(repo, 'packages', pkg, dir), { recursive: true });
    }
  }
  if (existsSync(join(root, '.turbo/cache'))) {
    cpSync(join(root, '.turbo/cache'), join(repo, '.turbo/cache'), { recursive: true });
  }
  mustRun('git', ['init', '-q']);
  mustRun('git', ['add', '-A']);
  mustRun('git', ['commit', '-qm', 'copy for the release test']);
  mustRun('pnpm', ['install', '--frozen-lockfile', '--prefer-offline']);
}

const gitIdentity = {
  GIT_AUTHOR_NAME: 'release-test',
  GIT_AUTHOR_EMAIL: 'release-test@example.invalid',
  GIT_COMMITTER_NAME: 'release-test',
  GIT_COMMITTER_EMAIL: 'release-test@example.invalid',
};
// Only the project's .npmrc may carry the registry and token: the user config is empty.
const emptyUserConfig = join(work, 'empty-npmrc');
writeFileSync(emptyUserConfig, '');
const repoEnv = {
  ...gitIdentity,
  npm_config_userconfig: emptyUserConfig,
  TURBO_TELEMETRY_DISABLED: '1',
  npm_config_update_notifier: 'false',
};

try {
  step('tools: Node 22, yarn 1 and yarn 4 from npm; verdaccio on 127.0.0.1');
  const tools = releaseTools();
  mkdirSync(join(work, 'registry'));
  registry = await startRegistry(join(work, 'registry'));
  const token = await addUser(registry.url, 'releaser', 'release-test-password');
  pass(`registry at ${registry.url}`);

  step('pnpm build here (a replay when built), a copy of the repository, pnpm build there');
  // The copy's native build replays what this build cached: the test never compiles Rust
  // in the copy, whose paths differ from cargo's target dir here.
  run(
    process.execPath,
    [join(root, 'tools/scripts/turbo.mjs'), 'run', 'build', '--output-logs=errors-only'],
    {
      cwd: root,
      quiet: true,
      env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
    },
  );
  mkdirSync(repo);
  copyRepository();
  // Replayed when nothing changed here since the build above (always so in CI); on a tree
  // others are editing meanwhile, the copy compiles what changed.
  const build = mustRun('pnpm', ['build']);
  const compiledHere = [...build.matchAll(/(@aios\/[a-z]+):build:native: cache miss/g)].map(
    (m) => m[1],
  );
  console.log(
    `  pnpm build in the copy: ${turboCached(build)?.join(' of ')} tasks from cache; native builds compiled: ${compiledHere.join(', ') || 'none'}`,
  );
  const host = registry.url.replace(/^http:/, '');
  const scoped = `@aios:registry=${registry.url}\n`;

  step('refusals before the first publish');
  writeFileSync(join(repo, '.npmrc'), scoped);
  let result = inRepo('pnpm', ['release', '--no-build']);
  expect(
    result.status !== 0 && /did not accept the credentials/.test(result.output),
    'without a token: refused, naming where the token goes',
    result.output.slice(-2000),
  );
  writeFileSync(join(repo, '.npmrc'), `${scoped}${host}:_authToken=${token}\n`);
  const supportBinary = join(repo, 'packages/support/native/support.linux-x64-gnu.node');
  renameSync(supportBinary, `${supportBinary}.away`);
  result = inRepo('pnpm', ['release', '--no-build']);
  renameSync(`${supportBinary}.away`, supportBinary);
  expect(
    result.status !== 0 && /@aios\/support-linux-x64-gnu: no binary at/.test(result.output),
    'a missing binary: refused, naming it',
    result.output.slice(-2000),
  );
  expect(
    Object.keys(await registryState()).length === 0,
    'the registry is still empty after both refusals',
  );

  const plainPublish = spawnSync('pnpm', ['publish', '--dry-run', '--no-git-checks'], {
    cwd: join(repo, 'packages/utils'),
    encoding: 'utf8',
    env: { ...process.env, ...repoEnv },
  });
  expect(
    plainPublish.status !== 0 &&
      /its binary packages are not on the registry/.test(
        `${plainPublish.stdout}${plainPublish.stderr}`,
      ),
    'a plain pnpm publish (as changeset publish runs it) refuses a core whose binaries are not published',
    `${plainPublish.stdout}${plainPublish.stderr}`.slice(-2000),
  );

  step('a release that fails half-way, then pnpm release again');
  await registry.stop();
  registry = await startRegistry(join(work, 'registry'), {
    port: registry.port,
    deny: ['@aios/luna-linux-x64-gnu'],
  });
  result = inRepo('pnpm', ['release', '--no-build']);
  let state = await registryState();
  expect(result.status !== 0, 'the release fails when the registry refuses a binary package');
  expect(
    /run `pnpm release` again/.test(result.output) &&
      /published before the failure/.test(result.output),
    'the failure says what was published and to run it again',
    result.output.slice(-2000),
  );
  expect(
    !state['@aios/luna'] && !state['@aios/core'] && state['@aios/utils'] !== undefined,
    'cores before the failure are published; luna and what follows it are not',
    JSON.stringify(state),
  );
  const incoherent = await consistent(state);
  expect(!incoherent, 'no published core lacks its binaries', incoherent);
  await registry.stop();
  registry = await startRegistry(join(work, 'registry'), { port: registry.port });
  const first = mustRun('pnpm', ['release']);
  const firstCache = turboCached(first);
  expect(
    firstCache && firstCache[0] === firstCache[1],
    `pnpm release replays the whole build from cache (${firstCache?.join(' of ')})`,
  );
  state = await registryState();
  const versionOf = (name) => readJson(join(repo, 'packages', name, 'package.json')).version;
  expect(
    publishablePackages(repo).every(({ manifest }) =>
      state[manifest.name]?.includes(manifest.version),
    ) && !(await consistent(state)),
    'the rerun completes the release: every package and binary at its version',
    JSON.stringify(state),
  );
  expect(
    /@aios\/support@/.test(mustRun('git', ['tag', '--list'])),
    'git tags for the released versions',
  );

  step('second release: a changeset for @aios/support');
  const before = state;
  writeFileSync(
    join(repo, '.changeset/release-test-support.md'),
    '---\n"@aios/support": patch\n---\n\nA support fix.\n',
  );
  mustRun('pnpm', ['version-packages']);
  mustRun('git', ['commit', '-qam', 'version packages']);
  const supportVersion = versionOf('support');
  // @aios/enterprise depends on support and is an optional peer of @aios/core: a patch of
  // support must not major-bump core (changesets does that to peer dependents unless told
  // not to); a patch, as a dependent of support, is right.
  expect(
    /^0\.1\.\d+$/.test(versionOf('core')),
    `a support patch bumps @aios/core by a patch at most (got ${versionOf('core')})`,
  );
  const supportManifest = readJson(join(repo, 'packages/support/package.json'));
  expect(
    supportManifest.optionalDependencies['@aios/support-linux-x64-gnu'] === supportVersion &&
      readJson(join(repo, 'packages/support/npm/linux-x64-gnu/package.json')).version ===
        supportVersion &&
      readFileSync(join(repo, 'packages/support/native/index.cjs'), 'utf8').includes(
        `'${supportVersion}'`,
      ),
    `version-packages: manifest, binary package and loader at ${supportVersion}`,
  );
  // turbo keys every task on its package.json, so the bumped core's binary is built again
  // (cargo's cache makes that quick on a release machine); no other core's is.
  const rebuild = mustRun('pnpm', ['build']);
  const compiled = [...rebuild.matchAll(/(@aios\/[a-z]+):build:native: cache miss/g)].map(
    (m) => m[1],
  );
  expect(
    compiled.every((name) => name === '@aios/support'),
    `pnpm build after version-packages builds only the bumped core's binary (${compiled.join(', ') || 'none'}; ${turboCached(rebuild)?.join(' of ')} tasks from cache)`,
    rebuild.slice(-3000),
  );
  const dry = mustRun('pnpm', ['release', '--dry-run', '--no-build']);
  expect(
    /would publish/.test(dry) &&
      !/@aios\/utils-linux-x64-gnu@/.test(dry.split('release: to publish')[1] ?? ''),
    'pnpm release --dry-run skips what is already published',
    dry.slice(-2000),
  );
  const second = mustRun('pnpm', ['release']);
  const secondCache = turboCached(second);
  expect(
    secondCache && secondCache[0] === secondCache[1],
    `the second release replays the build from cache (${secondCache?.join(' of ')})`,
  );
  state = await registryState();
  const added = Object.entries(state)
    .flatMap(([name, versions]) =>
      versions.filter((v) => !before[name]?.includes(v)).map((v) => `${name}@${v}`),
    )
    .sort();
  const bumped = publishablePackages(repo)
    .flatMap(({ manifest }) =>
      before[manifest.name]?.includes(manifest.version)
        ? []
        : [manifest.name, ...Object.keys(manifest.optionalDependencies ?? {})].map(
            (name) => `${name}@${manifest.version}`,
          ),
    )
    .sort();
  expect(
    JSON.stringify(added) === JSON.stringify(bumped) &&
      added.includes(`@aios/support@${supportVersion}`) &&
      added.includes(`@aios/support-linux-x64-gnu@${supportVersion}`) &&
      !added.some((name) => name.startsWith('@aios/utils')),
    `only what version-packages bumped is published: ${added.join(', ')}`,
    `expected ${bumped.join(', ')}`,
  );
  expect(!(await consistent(state)), 'the registry is consistent after the second release');

  step('fresh projects: install and smoke tests');
  const spec = (core) => `@aios/${core}@${versionOf(core)}`;
  const projects = join(work, 'projects');
  const install = (label, pm, specs, optional) => {
    const dir = join(projects, label);
    const seconds = installProject({ pm, dir, specs, registry: registry.url, optional, tools });
    console.log(`  ${label}: installed in ${seconds.toFixed(1)}s`);
    return dir;
  };
  const node20 = process.execPath;
  for (const core of CORES) {
    const dir = install(`npm-${core}`, 'npm', [spec(core)], true);
    process.stdout.write(smoke(dir, node20, 'native', [core]));
    pass(`npm, Node 20: @aios/${core} alone runs native`);
  }
  const sizes = {
    '@aios/luna': duMegabytes(join(projects, 'npm-luna/node_modules')),
  };
  const home = () => mkdtempSync(join(work, 'home-'));
  const checkCore = (label, dir, node, want) => {
    const cores = coreImplementations(dir, node, home());
    expect(
      Object.values(cores).length === CORES.length &&
        Object.values(cores).every((c) => c.implementation === want),
      `${label}: aios status shows every core ${want}`,
      JSON.stringify(cores, null, 2),
    );
    const demo = aios(dir, node, ['demo'], home());
    expect(/aios status/.test(demo) && /Next:/.test(demo), `${label}: aios demo runs`, demo);
  };
  const npmCore = install('npm-core', 'npm', [spec('core')], true);
  sizes['@aios/core'] = duMegabytes(join(npmCore, 'node_modules'));
  process.stdout.write(smoke(npmCore, node20, 'native', CORES));
  checkCore('npm, Node 20, @aios/core', npmCore, node20, 'native');
  // The document readers are optional peers of @aios/core: absent, their files are skipped
  // with a reason naming the package; installed beside it, read.
  const documents = join(projects, 'documents');
  mkdirSync(documents, { recursive: true });
  writeFileSync(
    join(documents, 'manual.pdf'),
    testPdf([[['Radiators'], ['Bleed the radiators', 'every autumn.']]]),
  );
  writeFileSync(
    join(documents, 'bins.html'),
    '<title>Bins</title><p>The black bin goes out on Monday.</p>',
  );
  writeFileSync(
    join(documents, 'garden.epub'),
    testEpub([[{ text: 'Prune the roses in February.' }]], { title: 'Garden' }),
  );
  const ingestDocuments = () =>
    JSON.parse(aios(npmCore, node20, ['--offline', 'ingest', '--json', documents], home()));
  const bare = ingestDocuments();
  expect(
    bare.skipped.length === 3 &&
      bare.skipped.every((s) =>
        /needs (the (unpdf|htmlparser2) package|the packages fflate and htmlparser2): npm i /.test(
          s.reason,
        ),
      ),
    'without its document readers, @aios/core skips a PDF, a page and a book, naming the packages',
    JSON.stringify(bare.skipped, null, 2),
  );
  run('npm', ['install', 'unpdf', 'htmlparser2', 'fflate', '--no-audit', '--no-fund'], {
    cwd: npmCore,
    quiet: true,
  });
  const read = ingestDocuments();
  expect(
    read.skipped.length === 0 && read.added === 3,
    'with unpdf, htmlparser2 and fflate installed beside it, @aios/core reads the PDF, the page and the book',
    JSON.stringify(read, null, 2),
  );
  const node22Version = run(tools.node22, ['--version'], { quiet: true }).trim();
  process.stdout.write(smoke(npmCore, tools.node22, 'native', CORES));
  checkCore(`npm, Node ${node22Version}, @aios/core`, npmCore, tools.node22, 'native');

  const npmJs = install('npm-core-no-optional', 'npm', [spec('core')], false);
  process.stdout.write(smoke(npmJs, node20, 'js', CORES));
  checkCore('npm --omit=optional, @aios/core', npmJs, node20, 'js');
  const omitted = coreImplementations(npmJs, node20, home())['@aios/luna'];
  expect(
    /@aios\/luna-linux-x64-gnu is not installed/.test(omitted.reason),
    `without optional dependencies the reason names the binary package: "${omitted.reason}"`,
  );
  // Another platform, as the loader sees it: no binary is published for it.
  const fake = join(projects, 'darwin-arm64.cjs');
  writeFileSync(
    fake,
    "Object.defineProperty(process, 'platform', { value: 'darwin' });\nObject.defineProperty(process, 'arch', { value: 'arm64' });\n",
  );
  const elsewhere = coreImplementations(npmCore, node20, home(), {
    NODE_OPTIONS: `--require ${fake}`,
  })['@aios/luna'];
  expect(
    elsewhere.implementation === 'js' &&
      elsewhere.reason ===
        'no native binary is published for darwin-arm64 (binaries exist for: linux-x64-gnu); running the js implementation',
    `on a platform without binaries: "${elsewhere.reason}"`,
  );

  for (const pm of ['pnpm', 'yarn1', 'yarn4']) {
    const withBinaries = install(`${pm}-core`, pm, [spec('core')], true);
    checkCore(`${pm}, @aios/core`, withBinaries, node20, 'native');
    const without = install(`${pm}-core-no-optional`, pm, [spec('core')], false);
    checkCore(`${pm} without the binaries, @aios/core`, without, node20, 'js');
  }

  step('publint and attw on every published tarball');
  const tarballs = join(work, 'tarballs');
  mkdirSync(tarballs);
  writeFileSync(join(tarballs, '.npmrc'), scoped);
  const names = publishablePackages(repo).flatMap(({ manifest }) => [
    { spec: `${manifest.name}@${manifest.version}`, types: true },
    ...Object.keys(manifest.optionalDependencies ?? {}).map((name) => ({
      spec: `${name}@${manifest.version}`,
      types: false,
    })),
  ]);
  const problems = lintTarballs(tarballs, names);
  expect(
    problems.length === 0,
    `publint and attw: no errors on ${names.length} tarballs`,
    problems.join('\n'),
  );

  step('install sizes (npm, with the binary)');
  const limits = { '@aios/luna': 25, '@aios/core': 45 };
  for (const [name, mb] of Object.entries(sizes)) {
    expect(mb < limits[name], `${name}: ${mb.toFixed(1)} MB installed (under ${limits[name]} MB)`);
  }
} catch (error) {
  if (failed === 0) failed++;
  console.error(`\nrelease-test: ${error.stack}`);
  if (registry) console.error(`verdaccio's log (end):\n${registry.log()}`);
} finally {
  await registry?.stop();
  if (!process.env.AIOS_KEEP_RELEASE_TEST) rmSync(work, { recursive: true, force: true });
  else console.log(`kept ${work}`);
}
console.log(`\nrelease-test: ${elapsed()}`);
console.log(`release-test: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);

function duMegabytes(dir) {
  const out = run('du', ['-sb', dir], { quiet: true });
  return Number(out.split('\t')[0]) / 1e6;
}
