/**
 * `aios memory conflicts`: memories that contradict each other (the same thing said of the
 * same subject with other values: a note's "check-up on 3 June" and a fact Luna learnt,
 * "moved to 10 June"), each side with where it comes from, so the user can keep one.
 */
import { type Conflict, type ConflictSide, findConflicts, type MemoryFragment } from '@aios/luna';
import type { Command } from 'commander';
import { pc } from './colors.js';
import { shortId } from './conversations.js';
import { displaySource } from './display-path.js';
import { shortFragmentId } from './memory-find.js';
import { withAios } from './open-system.js';
import { plural } from './plural.js';
import { printJson } from './shared.js';

/** Where a side comes from: a note's file and the line of its sentence, or Luna's fact. */
function origin(side: ConflictSide): string {
  const { source, line, kind, conversationId } = side.metadata;
  if (typeof source === 'string' && source !== 'luna') {
    return displaySource(source, typeof line === 'number' ? line : null, side.line);
  }
  if (kind === 'fact' && typeof conversationId === 'string') {
    return `learnt in conversation ${shortId(conversationId)}`;
  }
  return side.namespace ?? 'memory';
}

function sideLine(side: ConflictSide): string {
  return `    ${pc.yellow(shortFragmentId(side.fragmentId))} ${pc.cyan(origin(side))}  ${side.quote}`;
}

function print(conflicts: Conflict[], checked: number): void {
  if (conflicts.length === 0) {
    console.log(pc.dim(`no conflicts among ${plural(checked, 'fragment')}`));
    return;
  }
  conflicts.forEach((c, i) => {
    console.log(`[${i + 1}] ${pc.bold(`about ${c.about.join(', ')}`)}`);
    console.log(sideLine(c.a));
    console.log(sideLine(c.b));
  });
  console.log(
    pc.dim(
      `${plural(conflicts.length, 'conflict')}; keep one side with \`aios memory edit\` or \`aios memory delete\``,
    ),
  );
}

export function registerMemoryConflicts(memory: Command): void {
  memory
    .command('conflicts')
    .description(
      'memories that contradict each other: the same thing said of the same subject with other values',
    )
    .option('--namespace <name>', 'only the fragments of this namespace')
    .option('--json', 'print machine-readable JSON')
    .action(async (options: { namespace?: string; json?: boolean }, command: Command) => {
      await withAios(command, async (aios) => {
        await aios.memory.refresh();
        const fragments: MemoryFragment[] = (
          await aios.memory.list(
            options.namespace === undefined ? {} : { namespace: options.namespace },
          )
        ).map((f) => ({
          id: f.id,
          text: f.text,
          score: 0,
          namespace: f.namespace,
          metadata: { ...f.metadata },
        }));
        const conflicts = findConflicts(fragments);
        if (options.json) return printJson({ checked: fragments.length, conflicts });
        print(conflicts, fragments.length);
      });
    });
}
