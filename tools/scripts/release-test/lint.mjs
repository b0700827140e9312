// publint and attw (devDependencies) on published tarballs, fetched from the test registry
// with `npm pack <name>@<version>` (the .npmrc in `dir` points @aios at it).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { root, run } from '../lib/native-packages.mjs';

// Root devDependencies (publint exports no ./package.json to resolve through).
const bin = (pkg, path) => join(root, 'node_modules', pkg, path);
const PUBLINT = bin('publint', 'src/cli.js');
const ATTW = bin('@arethetypeswrong/cli', 'dist/index.js');

function lint(command, args) {
  const result = spawnSync(process.execPath, [command, ...args], { encoding: 'utf8' });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}`.trim() };
}

/** Problems found (empty when every tarball is clean); prints each tool's verdict. */
export function lintTarballs(dir, packages) {
  const problems = [];
  for (const { spec, types } of packages) {
    const [{ filename }] = JSON.parse(
      run('npm', ['pack', spec, '--json'], { cwd: dir, quiet: true }),
    );
    const tarball = join(dir, filename);
    const publint = lint(PUBLINT, [tarball]);
    if (!publint.ok) problems.push(`publint ${spec}:\n${publint.output}`);
    let verdict = `publint ${publint.ok ? 'ok' : 'FAILED'}`;
    const suggestions = publint.output.split('\n').filter((l) => /^\s*\d+\./.test(l)).length;
    if (suggestions > 0) verdict += ` (${suggestions} suggestion or warning)`;
    if (types) {
      const attw = lint(ATTW, [tarball, '--format', 'ascii']);
      if (!attw.ok) problems.push(`attw ${spec}:\n${attw.output}`);
      verdict += `, attw ${attw.ok ? 'ok' : 'FAILED'}`;
    }
    console.log(`  ${spec}: ${verdict}`);
  }
  return problems;
}
