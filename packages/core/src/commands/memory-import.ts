import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { FragmentInput } from '@aios/carma';
import { AiosError, fromNodeIoError } from '@aios/utils';
import type { Command } from 'commander';
import { importedFragment } from '../memory-records.js';
import { pc } from './colors.js';
import { displayPath } from './display-path.js';
import { withWritableAios } from './open-system.js';
import { plural } from './plural.js';
import { printJson } from './shared.js';

/** Fragments added per call (one transaction each). */
const BATCH = 500;

/** The lines of `file` (standard input for `-`), numbered from 1. */
async function* numberedLines(file: string): AsyncGenerator<[line: number, text: string]> {
  const input = file === '-' ? process.stdin : createReadStream(file, { encoding: 'utf8' });
  let line = 0;
  try {
    for await (const text of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
      line++;
      yield [line, line === 1 ? text.replace(/^\uFEFF/, '') : text];
    }
  } catch (error) {
    throw error instanceof AiosError ? error : fromNodeIoError(error, file);
  }
}

/**
 * Every record of an export, checked before anything is added: a file with a bad line
 * adds nothing (the line is named), so an import is never left half done by its input.
 */
async function readRecords(file: string): Promise<FragmentInput[]> {
  const where = file === '-' ? 'standard input' : displayPath(file);
  const records: FragmentInput[] = [];
  for await (const [line, text] of numberedLines(file)) {
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new AiosError(
        'INVALID_INPUT',
        `${where}:${line}: not valid JSON (${(error as Error).message})`,
        { details: { line } },
      );
    }
    records.push(importedFragment(value, `${where}:${line}`));
  }
  return records;
}

/** `aios memory import`: the fragments an export holds, back into memory as they were. */
export function registerMemoryImport(memory: Command): void {
  memory
    .command('import')
    .description(
      'add the fragments of an `aios memory export` file with their namespaces, importance, core flag, metadata and times; a text already in its namespace is not stored twice',
    )
    .argument('<file>', 'the JSON Lines file, or - for standard input')
    .option('--json', 'print machine-readable JSON')
    .action(async (file: string, options: { json?: boolean }, command: Command) => {
      const records = await readRecords(file);
      await withWritableAios(command, async (aios) => {
        const counts = { added: 0, duplicate: 0, merged: 0 };
        const namespaces = new Map<string, number>();
        for (let i = 0; i < records.length; i += BATCH) {
          for (const result of await aios.memory.addMany(records.slice(i, i + BATCH))) {
            counts[result.status]++;
            const ns = result.fragment.namespace;
            if (result.status === 'added') namespaces.set(ns, (namespaces.get(ns) ?? 0) + 1);
          }
        }
        if (options.json) {
          return printJson({
            fragments: records.length,
            ...counts,
            namespaces: Object.fromEntries(namespaces),
          });
        }
        const parts = [`${counts.added} added`, `${counts.duplicate} already remembered`];
        if (counts.merged > 0) parts.push(`${counts.merged} merged into notes nearly the same`);
        const where = [...namespaces].map(([ns, n]) => `${ns} ${n}`).join(', ');
        console.log(
          `imported ${plural(records.length, 'fragment')}: ${parts.join(', ')}${where ? pc.dim(` (added by namespace: ${where})`) : ''}`,
        );
      });
    });
}
