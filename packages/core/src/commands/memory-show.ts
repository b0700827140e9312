import type { Fragment, FragmentChange } from '@aios/carma';
import type { Command } from 'commander';
import { pc } from './colors.js';
import { displayPath, displaySource } from './display-path.js';
import { findWithHistory } from './memory-find.js';
import { withAios } from './open-system.js';
import { printJson } from './shared.js';

/** What `memory show --json` and `memory edit --json` print of a fragment. */
export function fragmentView(f: Fragment) {
  const meta = (f.metadata ?? {}) as Record<string, unknown>;
  return {
    id: f.id,
    namespace: f.namespace,
    text: f.text,
    importance: f.importance,
    core: f.core,
    version: f.version,
    createdAt: new Date(f.createdAt).toISOString(),
    updatedAt: new Date(f.updatedAt).toISOString(),
    source: typeof meta.source === 'string' ? meta.source : null,
    line: typeof meta.line === 'number' ? meta.line : null,
    chapter: typeof meta.chapter === 'string' ? meta.chapter : null,
    metadata: meta,
  };
}

/**
 * One entry of a fragment's history: what the fragment was after the change. `textChanged`
 * says whether the change gave it another text (the first entry always counts as one), so
 * that the old texts can be read back version by version.
 */
export function historyView(changes: FragmentChange[]) {
  return changes.map((c, i) => {
    const before = i > 0 ? changes[i - 1] : undefined;
    return {
      type: c.kind,
      version: c.version,
      at: new Date(c.at).toISOString(),
      text: c.text,
      textChanged: before === undefined || before.text !== c.text,
      importance: c.importance,
      importanceBefore: before?.importance ?? null,
      ...(c.note ? { note: c.note } : {}),
    };
  });
}

const indent = (text: string) =>
  text
    .split('\n')
    .map((line) => (line.trim() === '' ? '' : `        ${line}`))
    .join('\n');

function printHistory(history: ReturnType<typeof historyView>): void {
  console.log(pc.bold('history (oldest first; each entry is the fragment after the change)'));
  for (const h of history) {
    const when = h.at.replace('T', ' ').slice(0, 19);
    const importance =
      h.importanceBefore !== null && h.importanceBefore !== h.importance
        ? `, importance ${h.importanceBefore.toFixed(2)} -> ${h.importance.toFixed(2)}`
        : '';
    const note = h.note ? ` (${h.note})` : '';
    console.log(`  v${h.version}  ${h.type.padEnd(9)} ${pc.dim(when)}${importance}${note}`);
    if (h.type === 'delete') continue;
    if (h.textChanged) console.log(pc.dim(indent(h.text)));
  }
}

export function registerMemoryShow(memory: Command): void {
  memory
    .command('show')
    .description(
      'one fragment: its text, where it came from, importance, and its history with every earlier text (also after it was deleted)',
    )
    .argument(
      '<id>',
      'the fragment id (or the end of it that search prints, or any unambiguous end or start; the full id of a deleted one)',
    )
    .option('--json', 'print machine-readable JSON')
    .action(async (id: string, options: { json?: boolean }, command: Command) => {
      await withAios(command, async (aios) => {
        const found = await findWithHistory(aios.memory, id);
        const history = historyView(found.history);
        if (!found.fragment) {
          // Deleted: the history is what is left, its last entry says when.
          const last = found.history.at(-1);
          const view = {
            id: found.id,
            deleted: true,
            deletedAt: last ? new Date(last.at).toISOString() : null,
            history,
          };
          if (options.json) return printJson(view);
          console.log(
            `${pc.bold(view.id)} ${pc.red(`(deleted${view.deletedAt ? ` ${view.deletedAt}` : ''})`)}`,
          );
          const source = last?.metadata.source;
          if (typeof source === 'string') console.log(`source      ${displayPath(source)}`);
          console.log('');
          printHistory(history);
          return;
        }
        const view = { ...fragmentView(found.fragment), deleted: false, history };
        if (options.json) return printJson(view);
        console.log(`${pc.bold(view.id)} ${pc.dim(`(${view.namespace}, v${view.version})`)}`);
        if (view.source) {
          console.log(
            `source      ${displaySource(view.source, view.line || null, 0, view.chapter)}`,
          );
        }
        console.log(`importance  ${view.importance.toFixed(2)}${view.core ? ' (core)' : ''}`);
        console.log(`updated     ${view.updatedAt}`);
        console.log('');
        console.log(view.text);
        console.log('');
        printHistory(history);
      });
    });
}
