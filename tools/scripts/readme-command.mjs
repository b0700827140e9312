#!/usr/bin/env node
// Checks that CI runs exactly what the README tells a user to run on a fresh machine:
// every shell command of the README's "On a fresh machine" section must start a line of
// the CI script given (default .ci/run) verbatim, and must install the pnpm that
// package.json pins (`packageManager`).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '../..');
const script = process.argv[2] ?? join(root, '.ci/run');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const section = readme.split(/^## On a fresh machine$/m)[1]?.split(/^## /m)[0];
if (!section) {
  console.error('README.md has no "## On a fresh machine" section');
  process.exit(1);
}
const commands = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1].trim());
if (commands.length !== 2) {
  console.error(`README.md's "On a fresh machine" section has ${commands.length} commands, not 2`);
  process.exit(1);
}
const pinned = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager;
const lines = readFileSync(script, 'utf8').split('\n').map((l) => l.trim());
let ok = true;
for (const command of commands) {
  if (!command.includes(`npm install -g ${pinned}`)) {
    console.error(`README command "${command}" must install the pinned ${pinned}`);
    ok = false;
  }
  if (!lines.some((line) => line === command || line.startsWith(`${command} `))) {
    console.error(`${script} does not run the README's command verbatim: ${command}`);
    ok = false;
  }
}
if (!ok) process.exit(1);
console.log(`${script} runs the README's ${commands.length} commands verbatim`);
