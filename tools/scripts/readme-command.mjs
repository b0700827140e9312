#!/usr/bin/env node
// Prints the n-th (1-based) shell command of the README's "On a fresh machine" section, so
// that CI runs exactly what the README tells a user to run. Fails when the section, the
// command, or the pnpm version it installs (which must equal `packageManager`) is missing.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '../..');
const n = Number.parseInt(process.argv[2] ?? '', 10);
if (!Number.isInteger(n) || n < 1) {
  console.error('usage: readme-command.mjs <n>   (n >= 1)');
  process.exit(2);
}
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const section = readme.split(/^## On a fresh machine$/m)[1]?.split(/^## /m)[0];
if (!section) {
  console.error('README.md has no "## On a fresh machine" section');
  process.exit(1);
}
const commands = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1].trim());
const command = commands[n - 1];
if (!command) {
  console.error(`README.md's "On a fresh machine" section has ${commands.length} commands, not ${n}`);
  process.exit(1);
}
const pinned = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager;
if (!command.includes(`npm install -g ${pinned}`)) {
  console.error(`README command ${n} must install the pinned ${pinned} (package.json packageManager)`);
  process.exit(1);
}
process.stdout.write(`${command}\n`);
