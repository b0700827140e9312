import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { describeMachine } from './machine.js';
import { type ResultsFile, renderMarkdown } from './report.js';
import { SUITES } from './suites/index.js';
import type { BenchResult } from './types.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

const { values, positionals } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  allowPositionals: true,
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: join(root, 'bench-results.json') },
    markdown: { type: 'string', default: join(root, 'BENCHMARKS.md') },
    list: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help || values.list) {
  console.log('usage: pnpm bench [suite...] [--quick] [--out file] [--markdown file]\n\nsuites:');
  for (const s of SUITES) console.log(`  ${s.name.padEnd(10)} ${s.description}`);
  process.exit(0);
}

const unknown = positionals.filter((name) => !SUITES.some((s) => s.name === name));
if (unknown.length > 0) {
  console.error(
    `unknown suite(s): ${unknown.join(', ')}; known: ${SUITES.map((s) => s.name).join(', ')}`,
  );
  process.exit(2);
}
const selected =
  positionals.length > 0 ? SUITES.filter((s) => positionals.includes(s.name)) : SUITES;

// Suites not run this time keep their previous figures, so the table stays complete.
const previous: ResultsFile | undefined = existsSync(values.out)
  ? (JSON.parse(readFileSync(values.out, 'utf8')) as ResultsFile)
  : undefined;
const file: ResultsFile = {
  machine: describeMachine(),
  suites: { ...(previous?.suites ?? {}) },
  results: (previous?.results ?? []).filter((r) => !selected.some((s) => s.name === r.suite)),
};

const scratch = mkdtempSync(join(tmpdir(), 'aios-bench-'));
try {
  for (const suite of selected) {
    const started = Date.now();
    console.log(`# suite ${suite.name}${values.quick ? ' (quick)' : ''}`);
    const results: BenchResult[] = await suite.run({
      quick: values.quick,
      scratch,
      log: (message) => console.log(`  ${message}`),
    });
    file.results.push(...results);
    file.suites[suite.name] = { date: new Date().toISOString(), quick: values.quick };
    console.log(`  ${results.length} figures in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

const order = SUITES.map((s) => s.name);
file.results.sort((a, b) => order.indexOf(a.suite) - order.indexOf(b.suite));
writeFileSync(values.out, `${JSON.stringify(file, null, 2)}\n`);
const command = `pnpm bench${values.quick ? ' --quick' : ''}`;
// Sections measured outside `pnpm bench` (a browser run, a real model) follow this line
// in BENCHMARKS.md and are kept as they are.
const KEPT = '<!-- measured outside pnpm bench: kept as is -->';
const existing = existsSync(values.markdown) ? readFileSync(values.markdown, 'utf8') : '';
const kept = existing.includes(KEPT) ? existing.slice(existing.indexOf(KEPT)) : '';
writeFileSync(
  values.markdown,
  kept ? `${renderMarkdown(file, command).trimEnd()}\n\n${kept}` : renderMarkdown(file, command),
);
console.log(`wrote ${values.out} and ${values.markdown}`);
